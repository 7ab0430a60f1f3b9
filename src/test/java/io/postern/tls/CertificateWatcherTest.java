package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.postern.config.CertificateFiles;
import io.postern.testing.CertificateSwap;
import io.postern.testing.OpensslCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What the certificate watcher offers for reload, look by look, when the files change the ways
 * real tools change them. Each {@code look()} is one tick of {@code tls.watch-interval}.
 */
class CertificateWatcherTest {

  @TempDir
  static Path keys;

  @TempDir
  Path dir;

  private static OpensslCertificates.Pair a;
  private static OpensslCertificates.Pair b;

  private final CertificateWatcher watcher = new CertificateWatcher();
  private FileContents serving;

  @BeforeAll
  static void certificates() throws Exception {
    a = OpensslCertificates.localhost(keys, "a");
    b = OpensslCertificates.localhost(keys, "b");
  }

  private CertificateFiles install(CertificateSwap way, OpensslCertificates.Pair pair)
      throws Exception {
    CertificateFiles files = way.install(dir, pair);
    serving = FileContents.read(List.of(files.cert(), files.key()));
    return files;
  }

  private Optional<FileContents> look() {
    return watcher.look(serving);
  }

  @ParameterizedTest
  @EnumSource(CertificateSwap.class)
  void aReplacedPairShouldBeOfferedOnTheSecondLookWithTheNewBytes(CertificateSwap way)
      throws Exception {
    CertificateFiles files = install(way, a);
    assertThat(look()).as("nothing changed").isEmpty();

    way.replace(dir, b);
    assertThat(look()).as("just changed: maybe still being written").isEmpty();
    Optional<FileContents> offered = look();
    assertThat(offered).as("the same on two looks").isPresent();
    assertThat(offered.get().bytes(files.cert())).isEqualTo(Files.readAllBytes(b.cert()));
    assertThat(offered.get().bytes(files.key())).isEqualTo(Files.readAllBytes(b.key()));

    serving = offered.get();
    assertThat(look()).as("once in use, nothing more to do").isEmpty();
    assertThat(look()).isEmpty();
  }

  @Test
  void aPairCaughtHalfWrittenShouldNeverBeOffered() throws Exception {
    CertificateFiles files = install(CertificateSwap.IN_PLACE, a);
    // The certificate is renewed, the key not yet: a mismatched pair for one look.
    Files.copy(b.cert(), files.cert(), StandardCopyOption.REPLACE_EXISTING);
    assertThat(look()).isEmpty();
    // The key arrives, first half-written, then whole.
    byte[] key = Files.readAllBytes(b.key());
    Files.write(files.key(), java.util.Arrays.copyOf(key, key.length / 2));
    assertThat(look()).isEmpty();
    Files.write(files.key(), key);
    assertThat(look()).isEmpty();
    Optional<FileContents> offered = look();
    assertThat(offered).isPresent();
    assertThat(offered.get().bytes(files.cert())).isEqualTo(Files.readAllBytes(b.cert()));
    assertThat(offered.get().bytes(files.key())).isEqualTo(key);
  }

  @Test
  void theSameBytesWrittenAgainShouldNotBeOffered() throws Exception {
    CertificateFiles files = install(CertificateSwap.RENAME, a);
    // A renewal that produced the same files, a touch, a copy of the same bytes renamed over.
    CertificateSwap.RENAME.replace(dir, a);
    Files.setLastModifiedTime(files.cert(), FileTime.from(Instant.now().plusSeconds(60)));
    assertThat(look()).isEmpty();
    CertificateSwap.IN_PLACE.replace(dir, a);
    assertThat(look()).isEmpty();
    assertThat(look()).isEmpty();
  }

  @Test
  void refusedContentsShouldNotBeOfferedAgainUntilTheFilesChange() throws Exception {
    CertificateFiles files = install(CertificateSwap.RENAME, a);
    // B's certificate with A's key: a broken pair.
    Files.copy(b.cert(), files.cert(), StandardCopyOption.REPLACE_EXISTING);
    assertThat(look()).isEmpty();
    FileContents broken = look().orElseThrow();
    watcher.refused(broken);
    assertThat(look()).isEmpty();
    assertThat(look()).isEmpty();

    CertificateSwap.RENAME.replace(dir, b);
    assertThat(look()).isEmpty();
    assertThat(look()).isPresent();
  }

  @Test
  void aMissingFileShouldBeOfferedOnceSettledAndNamedWhenRead() throws Exception {
    CertificateFiles files = install(CertificateSwap.RENAME, a);
    Files.delete(files.key());
    assertThat(look()).isEmpty();
    FileContents missing = look().orElseThrow();
    assertThat(missing.bytes(files.cert())).isEqualTo(Files.readAllBytes(a.cert()));
    assertThatThrownBy(() -> missing.bytes(files.key()))
        .hasMessage("file " + files.key() + " does not exist");
  }

  @Test
  void aFileBackAsItWasShouldEndTheChange() throws Exception {
    CertificateFiles files = install(CertificateSwap.RENAME, a);
    Files.copy(b.cert(), files.cert(), StandardCopyOption.REPLACE_EXISTING);
    assertThat(look()).isEmpty();
    Files.copy(a.cert(), files.cert(), StandardCopyOption.REPLACE_EXISTING);
    assertThat(look()).isEmpty();
    assertThat(look()).isEmpty();
  }
}
