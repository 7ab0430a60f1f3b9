package io.postern.demo;

import io.postern.auth.Authenticator;
import io.postern.auth.HashingQueue;
import io.postern.auth.PasswdFileAuthenticator;
import io.postern.config.BackendConfig;
import io.postern.config.CertificateFiles;
import io.postern.config.ConfigException;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsConfig;
import io.postern.config.TlsMode;
import io.vertx.core.Vertx;
import io.vertx.core.net.SelfSignedCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --demo}: the embedded demo mailbox becomes the default backend, the demo account
 * ({@code demo}/{@code demo}) is added in front of the configured users, and a self-signed
 * certificate stands in for a configured one that does not exist yet.
 */
public final class DemoMode implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DemoMode.class);

  private final DemoMailbox mailbox;
  private final PosternConfig config;
  private final Authenticator authenticator;
  private final SelfSignedCertificate certificate;

  private DemoMode(DemoMailbox mailbox, PosternConfig config, Authenticator authenticator,
      SelfSignedCertificate certificate) {
    this.mailbox = mailbox;
    this.config = config;
    this.authenticator = authenticator;
    this.certificate = certificate;
  }

  /** Starts the mailbox and adapts the configuration (blocking: call from main). */
  public static DemoMode start(Vertx vertx, PosternConfig configured) throws ConfigException {
    DemoMailbox mailbox = DemoMailbox.start();
    try {
      return adapt(vertx, configured, mailbox);
    } catch (ConfigException | RuntimeException e) {
      mailbox.close();
      throw e;
    }
  }

  private static DemoMode adapt(Vertx vertx, PosternConfig configured, DemoMailbox mailbox)
      throws ConfigException {
    BackendConfig backend = new BackendConfig(PosternConfig.DEFAULT_BACKEND, "127.0.0.1",
        new BackendConfig.Endpoint(mailbox.imapPort(), TlsMode.NONE),
        new BackendConfig.Endpoint(mailbox.pop3Port(), TlsMode.NONE), false, null);
    Map<String, BackendConfig> backends = new HashMap<>(configured.backends());
    backends.put(PosternConfig.DEFAULT_BACKEND, backend);
    PosternConfig config = configured.withBackends(backends);

    SelfSignedCertificate certificate = null;
    boolean missing = configured.tls().certificates().stream()
        .anyMatch(c -> !Files.exists(c.cert()) || !Files.exists(c.key()));
    if (missing) {
      certificate = SelfSignedCertificate.create("localhost");
      config = config.withTls(new TlsConfig(List.of(new CertificateFiles(
              Path.of(certificate.certificatePath()), Path.of(certificate.privateKeyPath()))),
          configured.tls().protocols(), configured.tls().engine(),
          configured.tls().watchInterval()));
    }

    Authenticator users = null;
    if (Files.exists(configured.auth().passwdFile())) {
      try {
        users = PasswdFileAuthenticator.load(vertx, configured.auth().passwdFile(),
            backends.keySet(), new HashingQueue(vertx, configured.auth().hashing(),
                configured.limits()::isTrusted)).await();
      } catch (Exception e) {
        if (certificate != null) {
          certificate.delete();
        }
        throw new ConfigException("auth.passwd-file", e.getMessage());
      }
    }
    return new DemoMode(mailbox, config, new DemoAuthenticator(users), certificate);
  }

  public PosternConfig config() {
    return config;
  }

  /**
   * A reloaded configuration with the demo's parts kept: its default backend is still the demo
   * mailbox, and its certificate the self-signed one if the demo made one.
   */
  public PosternConfig adapt(PosternConfig reloaded) {
    Map<String, BackendConfig> backends = new HashMap<>(reloaded.backends());
    backends.put(PosternConfig.DEFAULT_BACKEND, config.defaultBackend());
    PosternConfig adapted = reloaded.withBackends(backends);
    return certificate == null ? adapted : adapted.withTls(config.tls());
  }

  public Authenticator authenticator() {
    return authenticator;
  }

  /**
   * Tells the newcomer what to type next.
   *
   * @param ports the port each listener (by name) is bound to
   */
  public void announce(ToIntFunction<String> ports) {
    LOG.info("demo mailbox: user '{}', password '{}'", DemoMailbox.USER, DemoMailbox.PASSWORD);
    if (certificate != null) {
      LOG.info("demo: configured certificate not found, using a self-signed one for localhost:"
          + " {} (give it to curl with --cacert, or use -k)", certificate.certificatePath());
    }
    for (ListenerConfig l : config.listeners()) {
      String scheme = (l.protocol() == Protocol.IMAP ? "imap" : "pop3")
          + (l.tls() == TlsMode.IMPLICIT ? "s" : "");
      String path = l.protocol() == Protocol.IMAP ? "/INBOX;UID=1" : "/1";
      String flags = l.tls() == TlsMode.STARTTLS ? "--ssl-reqd -k" : l.tls() == TlsMode.NONE
          ? "" : "-k";
      LOG.info("try: curl {} -u demo:demo '{}://127.0.0.1:{}{}'", flags, scheme,
          ports.applyAsInt(l.name()), path);
    }
  }

  /** Stops the mailbox (blocking) and forgets the demo's certificate. */
  @Override
  public void close() {
    mailbox.close();
    if (authenticator != null) {
      authenticator.close();
    }
    if (certificate != null) {
      certificate.delete();
    }
  }
}
