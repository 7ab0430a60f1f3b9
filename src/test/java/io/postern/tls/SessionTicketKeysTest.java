package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.OpenSslSessionTicketKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files of {@code tls.session-ticket-keys}: what is accepted, refused, and never shown. */
class SessionTicketKeysTest {

  @TempDir
  Path dir;

  private Path file(String name, int length, int fill) throws Exception {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (fill + i);
    }
    return Files.write(dir.resolve(name), b);
  }

  @Test
  void aFortyEightByteFileIsOneKeyLaidOutAsNginxReadsIt() throws Exception {
    Path current = file("current.key", 48, 0);
    Path previous = file("previous.key", 48, 100);
    SessionTicketKeys keys = SessionTicketKeys.read(List.of(current, previous));
    assertThat(keys.files()).containsExactly(current, previous);
    OpenSslSessionTicketKey[] netty = keys.forOpenSsl();
    assertThat(netty).hasSize(2);
    // name 0-15, AES key 16-31, HMAC key 32-47; the first encrypts.
    assertThat(netty[0].name()).isEqualTo(range(0, 16));
    assertThat(netty[0].aesKey()).isEqualTo(range(16, 32));
    assertThat(netty[0].hmacKey()).isEqualTo(range(32, 48));
    assertThat(netty[1].name()[0]).isEqualTo((byte) 100);
  }

  private static byte[] range(int from, int to) {
    byte[] b = new byte[to - from];
    for (int i = from; i < to; i++) {
      b[i - from] = (byte) i;
    }
    return b;
  }

  @Test
  void nginxEightyByteFilesAndOtherLengthsAreRefusedNamingTheFileAndTheFix() throws Exception {
    Path nginx = file("nginx.key", 80, 0);
    assertThatThrownBy(() -> SessionTicketKeys.read(List.of(nginx)))
        .hasMessageContaining(nginx.toString()).hasMessageContaining("80 bytes")
        .hasMessageContaining("openssl rand 48");
    Path shortFile = file("short.key", 32, 0);
    assertThatThrownBy(() -> SessionTicketKeys.read(List.of(shortFile)))
        .hasMessageContaining(shortFile.toString()).hasMessageContaining("32 bytes, not 48");
    Path missing = dir.resolve("missing.key");
    assertThatThrownBy(() -> SessionTicketKeys.read(List.of(missing)))
        .hasMessageContaining(missing + " does not exist");
  }

  @Test
  void theBytesNeverShowInTheTextOfTheKeysOrOfARefusal() throws Exception {
    Path key = file("k.key", 48, 0x41);
    SessionTicketKeys keys = SessionTicketKeys.read(List.of(key));
    String hex = HexFormat.of().formatHex(Arrays.copyOf(Files.readAllBytes(key), 8));
    String text = new String(Files.readAllBytes(key), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(keys.toString()).contains(key.toString()).doesNotContain(hex)
        .doesNotContain(text.substring(0, 8));
    Path bad = file("bad.key", 49, 0x41);
    assertThatThrownBy(() -> SessionTicketKeys.read(List.of(bad)))
        .message().doesNotContain(hex).doesNotContain(text.substring(0, 8));
  }

  @Test
  void keysAreEqualByContentSoARewriteWithOtherBytesIsAChange() throws Exception {
    Path key = file("k.key", 48, 0);
    SessionTicketKeys before = SessionTicketKeys.read(List.of(key));
    assertThat(SessionTicketKeys.read(List.of(key))).isEqualTo(before);
    file("k.key", 48, 7);
    assertThat(SessionTicketKeys.read(List.of(key))).isNotEqualTo(before);
    assertThat(SessionTicketKeys.none().isEmpty()).isTrue();
  }
}
