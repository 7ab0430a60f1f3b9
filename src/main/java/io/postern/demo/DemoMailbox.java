package io.postern.demo;

import com.icegreen.greenmail.Managers;
import com.icegreen.greenmail.server.AbstractServer;
import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's mail server: GreenMail's IMAP and POP3, plaintext on 127.0.0.1 on ports the OS
 * picks, with one account holding {@link DemoMessages}. Postern in front does TLS and the
 * client's authentication. GreenMail runs its own threads and blocks while it starts and stops;
 * never call it from an event loop.
 */
final class DemoMailbox implements AutoCloseable {

  static final String USER = "demo";
  static final String PASSWORD = "demo";

  private static final Logger LOG = LoggerFactory.getLogger(DemoMailbox.class);
  private static final String HOST = "127.0.0.1";
  // GreenMail drops a client after 30 s of silence; Postern allows at least 30 min (IMAP IDLE).
  private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);
  // GreenMail's 2 s default is tight on a loaded machine; the wait ends as soon as it listens.
  private static final long STARTUP_TIMEOUT_MILLIS = 30_000;

  private final GreenMail greenMail;

  private DemoMailbox(GreenMail greenMail) {
    this.greenMail = greenMail;
  }

  /** Starts both servers and fills the inbox (blocking). */
  static DemoMailbox start() {
    GreenMail greenMail = new Server(setup(ServerSetup.PROTOCOL_IMAP),
        setup(ServerSetup.PROTOCOL_POP3));
    DemoMailbox mailbox = new DemoMailbox(greenMail);
    try {
      // Inside the try: a server that did not start leaves the other one running.
      greenMail.start();
      GreenMailUser user = greenMail.setUser("demo@demo.invalid", USER, PASSWORD);
      MailFolder inbox = greenMail.getManagers().getImapHostManager().getInbox(user);
      for (MimeMessage message : DemoMessages.all()) {
        // INTERNALDATE as the Date header says, not the time of this start.
        inbox.appendMessage(message, new Flags(), message.getSentDate());
      }
    } catch (FolderException | MessagingException | RuntimeException e) {
      mailbox.close();
      throw new IllegalStateException("demo mailbox: " + e.getMessage(), e);
    }
    LOG.info("demo mailbox (GreenMail) for user '{}' on {}: IMAP port {}, POP3 port {}", USER,
        HOST, mailbox.imapPort(), mailbox.pop3Port());
    return mailbox;
  }

  private static ServerSetup setup(String protocol) {
    ServerSetup setup = new ServerSetup(0, HOST, protocol);
    setup.setServerStartupTimeout(STARTUP_TIMEOUT_MILLIS);
    return setup;
  }

  int imapPort() {
    return greenMail.getImap().getPort();
  }

  int pop3Port() {
    return greenMail.getPop3().getPort();
  }

  /** Stops both servers and closes their connections (blocking). */
  @Override
  public void close() {
    greenMail.stop();
  }

  /** GreenMail with the idle timeout set before its servers accept anyone. */
  private static final class Server extends GreenMail {

    Server(ServerSetup... setups) {
      super(setups);
    }

    @Override
    protected Map<String, AbstractServer> createServices(ServerSetup[] config,
        Managers managers) {
      Map<String, AbstractServer> services = super.createServices(config, managers);
      services.values().forEach(s -> s.setClientSocketTimeout((int) IDLE_TIMEOUT.toMillis()));
      return services;
    }
  }
}
