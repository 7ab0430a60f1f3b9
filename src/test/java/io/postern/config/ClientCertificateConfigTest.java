package io.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A listener's client-certificates, client-ca and client-certificate-user keys. */
class ClientCertificateConfigTest {

  private static PosternConfig parse(String listener) throws ConfigException {
    return ConfigParser.parse(new JsonObject("{\"listeners\": [" + listener + "]}"));
  }

  private static List<String> errors(String listener) {
    try {
      parse(listener);
    } catch (ConfigException e) {
      return e.errors().stream().map(ConfigError::toString).toList();
    }
    throw new AssertionError("configuration was accepted");
  }

  @Test
  void listenersShouldAskForNoCertificateUnlessTold() throws Exception {
    ListenerConfig l = parse("{\"name\": \"imaps\", \"protocol\": \"imap\", \"port\": 993,"
        + " \"tls\": \"implicit\"}").listeners().get(0);
    assertThat(l.clientCertificates()).isEqualTo(ClientCertificateConfig.NONE);
    assertThat(l.clientCertificates().requested()).isFalse();
    // The constructors tests use keep working, without client certificates.
    assertThat(new ListenerConfig("x", Protocol.IMAP, "127.0.0.1", 0, TlsMode.IMPLICIT, false)
        .clientCertificates()).isEqualTo(ClientCertificateConfig.NONE);
  }

  @Test
  void modeCaAndUserShouldBeRead() throws Exception {
    ListenerConfig l = parse("{\"name\": \"imaps\", \"protocol\": \"imap\", \"port\": 993,"
        + " \"tls\": \"implicit\", \"client-certificates\": \"Required\","
        + " \"client-ca\": \"conf/tls/clients-ca.pem\", \"client-certificate-user\": \"email\","
        + " \"client-crl\": \"conf/tls/clients-crl.pem\"}")
        .listeners().get(0);
    assertThat(l.clientCertificates()).isEqualTo(new ClientCertificateConfig(
        ClientCertificateConfig.Mode.REQUIRED, Path.of("conf/tls/clients-ca.pem"),
        ClientCertificateConfig.UserMatch.EMAIL, Path.of("conf/tls/clients-crl.pem")));
    assertThat(parse("{\"name\": \"imap\", \"protocol\": \"imap\", \"port\": 143,"
        + " \"client-certificates\": \"optional\", \"client-ca\": \"ca.pem\"}").listeners().get(0)
        .clientCertificates().mode()).isEqualTo(ClientCertificateConfig.Mode.OPTIONAL);
  }

  @Test
  void invalidCombinationsShouldNameTheirKeys() {
    assertThat(errors("{\"name\": \"a\", \"protocol\": \"imap\", \"port\": 993, \"tls\":"
        + " \"implicit\", \"client-certificates\": \"optional\"}"))
        .containsExactly("listeners[0].client-ca: is required with client-certificates:"
            + " optional (the PEM file of the CAs that issue client certificates)");
    assertThat(errors("{\"name\": \"a\", \"protocol\": \"imap\", \"port\": 143, \"tls\":"
        + " \"none\", \"client-certificates\": \"required\", \"client-ca\": \"ca.pem\"}"))
        .contains("listeners[0].client-certificates: needs TLS, but this listener has"
            + " tls: none");
    assertThat(errors("{\"name\": \"a\", \"protocol\": \"imap\", \"port\": 993, \"tls\":"
        + " \"implicit\", \"client-certificates\": \"sometimes\", \"client-ca\": \"ca.pem\","
        + " \"client-certificate-user\": \"uid\"}"))
        .contains("listeners[0].client-certificates: must be one of none, optional, required"
            + " (is 'sometimes')",
            "listeners[0].client-certificate-user: must be one of none, cn, email (is 'uid')");
    assertThat(errors("{\"name\": \"a\", \"protocol\": \"imap\", \"port\": 993, \"tls\":"
        + " \"implicit\", \"client-ca\": \"ca.pem\", \"client-certificate-user\": \"cn\","
        + " \"client-crl\": \"crl.pem\"}"))
        .containsExactly("listeners[0].client-ca: is set but client-certificates is none; set"
            + " client-certificates: optional or required, or remove client-ca",
            "listeners[0].client-certificate-user: needs client-certificates: optional or"
            + " required",
            "listeners[0].client-crl: needs client-certificates: optional or required");
  }
}
