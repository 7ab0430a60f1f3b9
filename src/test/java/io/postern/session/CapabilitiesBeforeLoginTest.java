package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.backend.BackendCapabilities;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What clients are told before login about the backends: POP3 CAPA and IMAP CAPABILITY carry
 * the extensions every server offers, as the health checks record them in
 * {@link BackendCapabilities}; nginx's default while nothing is known; the listener's own list
 * when configured. Two Posterns: one whose backends are all health-checked, one with a backend
 * that is not (nothing is known of its servers).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CapabilitiesBeforeLoginTest {

  private static final String CAPA_OK = "+OK Capability list follows.";
  private static final List<String> POSTERN_POP3_TLS =
      List.of("USER", "SASL PLAIN LOGIN", "RESP-CODES", "AUTH-RESP-CODE");
  private static final String POSTERN_IMAP_TLS = "IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN"
      + " AUTH=LOGIN";
  /** What Dovecot 2.3 lists in CAPA over TLS, with Postern's extras from other servers. */
  private static final Set<String> DOVECOT_POP3 = Set.of("CAPA", "TOP", "UIDL", "RESP-CODES",
      "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN", "STLS",
      "IMPLEMENTATION DOVECOT", "XCLIENT", "UTF8 USER", "EXPIRE NEVER", "LOGIN-DELAY 60");
  private static final Set<String> DOVECOT_IMAP = Set.of("IMAP4REV1", "IMAP4REV2", "SASL-IR",
      "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "LITERAL-", "STARTTLS",
      "LOGINDISABLED", "AUTH=PLAIN", "AUTH=OAUTHBEARER", "UTF8=ACCEPT", "XCLIENT");

  @TempDir
  static Path dir;

  private PosternFixture checked;
  private PosternFixture partlyChecked;
  private final List<Runnable> forgets = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    // The backends' ports are closed: what they offer comes only from the store, filled below.
    checked = PosternFixture.builder(dir.resolve("checked"))
        .backend(Ports.closed(), Ports.closed())
        .healthChecked("default")
        .backend("second", "127.0.0.1", Ports.closed(), TlsMode.NONE, Ports.closed(),
            TlsMode.NONE, true, null)
        .healthChecked("second")
        .listener("pop3-fixed", Protocol.POP3, TlsMode.IMPLICIT, List.of("TOP", "UIDL"))
        .listener("imap-fixed", Protocol.IMAP, TlsMode.IMPLICIT, List.of("UTF8=ACCEPT"))
        .start();
    partlyChecked = PosternFixture.builder(dir.resolve("partly"))
        .backend(Ports.closed(), Ports.closed())
        .healthChecked("default")
        .backend("unchecked", "127.0.0.1", Ports.closed(), TlsMode.NONE, Ports.closed(),
            TlsMode.NONE, true, null)
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    checked.close();
    partlyChecked.close();
  }

  @AfterEach
  void forgetLearned() {
    forgets.forEach(Runnable::run);
    forgets.clear();
  }

  // --- POP3 -----------------------------------------------------------------------------------

  @Test
  void beforeAnyCheckAnsweredCapaShouldAssumeTopAndUidlAsNginxDoes() throws Exception {
    assertThat(capa(checked, "pop3s")).containsExactlyElementsOf(pop3Tls("PIPELINING", "TOP",
        "UIDL"));
  }

  @Test
  void capaShouldPassWhatEveryServerOffersAndNothingThatIsPosternsOwn() throws Exception {
    learn(checked, "default", "a", Protocol.POP3, DOVECOT_POP3);
    learn(checked, "second", "b", Protocol.POP3, DOVECOT_POP3);
    assertThat(capa(checked, "pop3s")).containsExactlyElementsOf(pop3Tls("EXPIRE NEVER",
        "LOGIN-DELAY 60", "PIPELINING", "TOP", "UIDL"));
    // Before TLS: STLS is Postern's, announced by the listener's own state, never a backend's.
    List<String> plain = capa(checked, "pop3");
    assertThat(plain).containsExactly(CAPA_OK, "STLS", "RESP-CODES", "AUTH-RESP-CODE",
        "EXPIRE NEVER", "LOGIN-DELAY 60", "PIPELINING", "TOP", "UIDL", "IMPLEMENTATION Postern",
        ".");
  }

  @Test
  void aCapabilityOneServerLacksShouldNotBeAnnounced() throws Exception {
    learn(checked, "default", "a", Protocol.POP3, DOVECOT_POP3);
    learn(checked, "second", "b", Protocol.POP3, Set.of("TOP", "USER", "LOGIN-DELAY 900"));
    assertThat(capa(checked, "pop3s")).containsExactlyElementsOf(pop3Tls("TOP"));
  }

  @Test
  void aServerThatIsForgottenShouldNoLongerNarrowTheList() throws Exception {
    learn(checked, "default", "a", Protocol.POP3, DOVECOT_POP3);
    learn(checked, "second", "b", Protocol.POP3, Set.of("TOP", "USER"));
    checked.server().capabilities().forget("second", "b", Protocol.POP3);
    assertThat(capa(checked, "pop3s")).contains("UIDL", "EXPIRE NEVER");
  }

  @Test
  void anUncheckedBackendShouldKeepTheListWithinWhatIsAssumed() throws Exception {
    learn(partlyChecked, "default", "a", Protocol.POP3, DOVECOT_POP3);
    assertThat(capa(partlyChecked, "pop3s")).containsExactlyElementsOf(pop3Tls("PIPELINING",
        "TOP", "UIDL"));
    learn(partlyChecked, "default", "a", Protocol.POP3, Set.of("UIDL"));
    assertThat(capa(partlyChecked, "pop3s")).containsExactlyElementsOf(pop3Tls("UIDL"));
  }

  @Test
  void aConfiguredListShouldReplaceWhatIsLearned() throws Exception {
    learn(checked, "default", "a", Protocol.POP3, Set.of("USER"));
    learn(checked, "second", "b", Protocol.POP3, Set.of("USER"));
    assertThat(capa(checked, "pop3-fixed")).containsExactlyElementsOf(pop3Tls("TOP", "UIDL"));
    assertThat(capa(checked, "pop3s")).containsExactlyElementsOf(pop3Tls());
  }

  // --- IMAP -----------------------------------------------------------------------------------

  @Test
  void imapShouldAnnounceOnlyItsOwnWhileNothingIsKnown() throws Exception {
    assertThat(imapCapabilities(checked, "imaps")).isEqualTo(POSTERN_IMAP_TLS);
  }

  @Test
  void imapShouldPassImap4rev2AndUtf8AcceptWhenEveryServerOffersThem() throws Exception {
    learn(checked, "default", "a", Protocol.IMAP, DOVECOT_IMAP);
    learn(checked, "second", "b", Protocol.IMAP, DOVECOT_IMAP);
    assertThat(imapCapabilities(checked, "imaps"))
        .isEqualTo(POSTERN_IMAP_TLS + " IMAP4rev2 UTF8=ACCEPT");
    try (Conversation c = MailClient.plain(checked.port("imap"), checked.tls())) {
      assertThat(c.readLine()).isEqualTo("* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+"
          + " STARTTLS LOGINDISABLED IMAP4rev2 UTF8=ACCEPT] Postern ready.");
    }
  }

  @Test
  void imapShouldHideWhatOneServerLacksAndEverythingWhileABackendIsUnchecked() throws Exception {
    learn(checked, "default", "a", Protocol.IMAP, DOVECOT_IMAP);
    learn(checked, "second", "b", Protocol.IMAP, Set.of("IMAP4REV1", "IMAP4REV2"));
    assertThat(imapCapabilities(checked, "imaps")).isEqualTo(POSTERN_IMAP_TLS + " IMAP4rev2");
    learn(partlyChecked, "default", "a", Protocol.IMAP, DOVECOT_IMAP);
    assertThat(imapCapabilities(partlyChecked, "imaps")).isEqualTo(POSTERN_IMAP_TLS);
  }

  @Test
  void imapShouldAnnounceTheConfiguredList() throws Exception {
    assertThat(imapCapabilities(checked, "imap-fixed"))
        .isEqualTo(POSTERN_IMAP_TLS + " UTF8=ACCEPT");
  }

  // --- helpers --------------------------------------------------------------------------------

  private void learn(PosternFixture postern, String backend, String server, Protocol protocol,
      Set<String> capabilities) {
    BackendCapabilities store = postern.server().capabilities();
    store.learned(backend, server, protocol, capabilities);
    forgets.add(() -> store.forget(backend, server, protocol));
  }

  /** Postern's CAPA over TLS with {@code backends} where the backends' extensions go. */
  private static List<String> pop3Tls(String... backends) {
    List<String> out = new ArrayList<>(List.of(CAPA_OK));
    out.addAll(POSTERN_POP3_TLS);
    out.addAll(List.of(backends));
    out.addAll(List.of("IMPLEMENTATION Postern", "."));
    return out;
  }

  private static List<String> capa(PosternFixture postern, String listener) throws IOException {
    try (Conversation c = listener.equals("pop3")
        ? MailClient.plain(postern.port(listener), postern.tls())
        : MailClient.implicitTls(postern.port(listener), postern.tls())) {
      assertThat(c.readLine()).startsWith("+OK");
      c.send("CAPA\r\n");
      return c.readUntil(".");
    }
  }

  /** The CAPABILITY list an implicit-TLS IMAP listener answers, after checking the greeting's. */
  private static String imapCapabilities(PosternFixture postern, String listener)
      throws IOException {
    try (Conversation c = MailClient.implicitTls(postern.port(listener), postern.tls())) {
      String greeting = c.readLine();
      c.send("a CAPABILITY\r\n");
      String untagged = c.readLine();
      assertThat(c.readLine()).isEqualTo("a OK Capability completed.");
      String list = untagged.substring("* CAPABILITY ".length());
      assertThat(greeting).isEqualTo("* OK [CAPABILITY " + list + "] Postern ready.");
      return list;
    }
  }
}
