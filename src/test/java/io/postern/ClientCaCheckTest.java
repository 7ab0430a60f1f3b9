package io.postern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.postern.config.ClientCertificateConfig;
import io.postern.config.ConfigError;
import io.postern.config.ConfigException;
import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.testing.PosternFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What --check-config and a reload say about a listener's client-ca file (PosternServer.load). */
class ClientCaCheckTest {

  @TempDir
  Path dir;

  private void startWith(Path ca) throws Exception {
    startWith(ca, null);
  }

  private void startWith(Path ca, Path crl) throws Exception {
    PosternFixture.builder(dir.resolve("postern"))
        .listener(new ListenerConfig("imaps-certs", Protocol.IMAP, "127.0.0.1", 0,
            TlsMode.IMPLICIT, false, null, new ClientCertificateConfig(
                ClientCertificateConfig.Mode.REQUIRED, ca, ClientCertificateConfig.UserMatch.CN,
                crl)))
        .start().close();
  }

  @Test
  void aBrokenCrlFileShouldBeAnErrorNamingItsKey() throws Exception {
    Path ca = io.postern.testing.TestTls.shared("localhost").certPath();
    Path broken = Files.writeString(dir.resolve("broken-crl.pem"),
        "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n");
    assertThatThrownBy(() -> startWith(ca, broken)).isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).errors()).extracting(ConfigError::toString)
            .containsExactly("listeners[4].client-crl: " + broken + " is not a PEM file of"
                + " CRLs"));
  }

  @Test
  void aMissingOrBrokenCaFileShouldBeAnErrorNamingTheListenersKey() throws Exception {
    Path missing = dir.resolve("missing.pem");
    assertThatThrownBy(() -> startWith(missing)).isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).errors()).extracting(ConfigError::toString)
            .containsExactly("listeners[4].client-ca: file " + missing + " does not exist"));
    Path broken = Files.writeString(dir.resolve("broken.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(() -> startWith(broken)).isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(((ConfigException) e).errors()).extracting(ConfigError::toString)
            .containsExactly("listeners[4].client-ca: " + broken
                + " is not a PEM file of CA certificates"));
  }
}
