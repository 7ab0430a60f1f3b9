package io.postern.testing;

import io.postern.config.CertificateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The ways real tools put a renewed certificate and key in place, each with the file layout the
 * tool leaves: what Postern's configuration names stays the same, the bytes behind it change.
 */
public enum CertificateSwap {

  /**
   * certbot: {@code live/mail/fullchain.pem -> ../../archive/mail/fullchainN.pem}; a renewal
   * writes {@code fullchainN+1.pem} and re-points each link (unlink, then symlink, as certbot's
   * storage.py does: the link is missing for a moment).
   */
  CERTBOT {
    @Override
    public CertificateFiles install(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Files.createDirectories(dir.resolve("archive/mail"));
      Files.createDirectories(dir.resolve("live/mail"));
      put(dir, pair);
      return new CertificateFiles(dir.resolve("live/mail/fullchain.pem"),
          dir.resolve("live/mail/privkey.pem"));
    }

    @Override
    public void replace(Path dir, OpensslCertificates.Pair pair) throws IOException {
      put(dir, pair);
    }

    private void put(Path dir, OpensslCertificates.Pair pair) throws IOException {
      int n = 1;
      while (Files.exists(dir.resolve("archive/mail/fullchain" + n + ".pem"))) {
        n++;
      }
      Files.copy(pair.cert(), dir.resolve("archive/mail/fullchain" + n + ".pem"));
      Files.copy(pair.key(), dir.resolve("archive/mail/privkey" + n + ".pem"));
      relink(dir.resolve("live/mail/fullchain.pem"), "../../archive/mail/fullchain" + n + ".pem");
      relink(dir.resolve("live/mail/privkey.pem"), "../../archive/mail/privkey" + n + ".pem");
    }

    private void relink(Path link, String target) throws IOException {
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, Path.of(target));
    }
  },

  /** A deploy script or config manager: a temporary file renamed over the old one. */
  RENAME {
    @Override
    public CertificateFiles install(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Files.createDirectories(dir);
      replace(dir, pair);
      return new CertificateFiles(dir.resolve("mail.crt"), dir.resolve("mail.key"));
    }

    @Override
    public void replace(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Path certTmp = dir.resolve(".mail.crt.tmp");
      Path keyTmp = dir.resolve(".mail.key.tmp");
      Files.copy(pair.cert(), certTmp, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(pair.key(), keyTmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(certTmp, dir.resolve("mail.crt"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      Files.move(keyTmp, dir.resolve("mail.key"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    }
  },

  /**
   * A Kubernetes Secret volume: {@code tls.crt -> ..data/tls.crt}, {@code ..data ->
   * ..2026_12_05_...}; the kubelet writes a new timestamped directory, renames a new
   * {@code ..data_tmp} link over {@code ..data}, and deletes the old directory.
   */
  KUBERNETES {
    @Override
    public CertificateFiles install(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Files.createDirectories(dir);
      put(dir, pair);
      Files.createSymbolicLink(dir.resolve("tls.crt"), Path.of("..data/tls.crt"));
      Files.createSymbolicLink(dir.resolve("tls.key"), Path.of("..data/tls.key"));
      return new CertificateFiles(dir.resolve("tls.crt"), dir.resolve("tls.key"));
    }

    @Override
    public void replace(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Path old = Files.readSymbolicLink(dir.resolve("..data"));
      put(dir, pair);
      deleteTree(dir.resolve(old));
    }

    private void put(Path dir, OpensslCertificates.Pair pair) throws IOException {
      int n = 1;
      while (Files.exists(dir.resolve(timestamped(n)))) {
        n++;
      }
      Path data = Files.createDirectory(dir.resolve(timestamped(n)));
      Files.copy(pair.cert(), data.resolve("tls.crt"));
      Files.copy(pair.key(), data.resolve("tls.key"));
      Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), data.getFileName());
      Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    }

    private String timestamped(int n) {
      return String.format("..2026_12_05_14_00_%02d.%d", n, 1000 + n);
    }

    private void deleteTree(Path dir) throws IOException {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  },

  /** {@code cp new.crt mail.crt}: the same inode truncated and written again. */
  IN_PLACE {
    @Override
    public CertificateFiles install(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Files.createDirectories(dir);
      replace(dir, pair);
      return new CertificateFiles(dir.resolve("mail.crt"), dir.resolve("mail.key"));
    }

    @Override
    public void replace(Path dir, OpensslCertificates.Pair pair) throws IOException {
      Files.write(dir.resolve("mail.crt"), Files.readAllBytes(pair.cert()));
      Files.write(dir.resolve("mail.key"), Files.readAllBytes(pair.key()));
    }
  };

  /** Lays {@code pair} out in {@code dir}; returns the files a configuration names. */
  public abstract CertificateFiles install(Path dir, OpensslCertificates.Pair pair)
      throws IOException;

  /** Puts {@code pair} behind the installed files, as the tool would. */
  public abstract void replace(Path dir, OpensslCertificates.Pair pair) throws IOException;
}
