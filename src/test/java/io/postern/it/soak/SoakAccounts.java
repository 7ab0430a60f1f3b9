package io.postern.it.soak;

import io.postern.it.NginxAuthService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The soak's users, as the auth_http service knows them and as Dovecot knows their mailboxes.
 * Readers are fetched from by the real clients; one of them logs in under another name and
 * password that the service rewrites (a mix-up there would show as another mailbox's mail); half
 * of them live behind the TLS backend that the service names with {@code Auth-Backend}. Each idler
 * belongs to one IDLE worker; the target is the account guessers guess at, so their failures
 * never slow a reader down.
 */
final class SoakAccounts {

  /** Where Postern reaches Dovecot over implicit TLS: a backend of its configuration. */
  static final String TLS_BACKEND = "dovecot-tls";

  /**
   * {@code login} and {@code password} are what clients type; {@code mailbox} and
   * {@code mailboxPassword} what Dovecot checks; {@code backend} the configured backend the
   * service names, or null for the service's own Auth-Server and Auth-Port.
   */
  record Account(String login, String password, String mailbox, String mailboxPassword,
      String backend) {}

  private static final List<String> READERS = List.of("anna", "ben", "chloe", "dmitri", "eva");

  private final List<Account> readers;
  private final List<Account> idlers;
  private final Account target;

  private SoakAccounts(List<Account> readers, List<Account> idlers, Account target) {
    this.readers = List.copyOf(readers);
    this.idlers = List.copyOf(idlers);
    this.target = target;
  }

  static SoakAccounts create(int idlers, long seed) {
    List<Account> readers = new ArrayList<>();
    for (int i = 0; i < READERS.size(); i++) {
      String name = READERS.get(i);
      String password = name + "-pw-" + Long.toHexString(seed + i);
      readers.add(new Account(name, password, name, password, i % 2 == 1 ? TLS_BACKEND : null));
    }
    // Rewritten by the service to Dovecot's "frank" with another password. (No space in the
    // name: imaplib does not quote a LOGIN user name, and POP3 USER takes one argument.)
    readers.add(new Account("frank.alias", "alias-pw-" + Long.toHexString(seed), "frank",
        "frank-backend-" + Long.toHexString(seed), TLS_BACKEND));
    List<Account> idle = new ArrayList<>();
    for (int i = 1; i <= idlers; i++) {
      String name = "idle-" + i;
      String password = name + "-pw-" + Long.toHexString(seed * 3 + i);
      idle.add(new Account(name, password, name, password, i % 2 == 0 ? TLS_BACKEND : null));
    }
    String targetPassword = "target-pw-" + Long.toHexString(seed * 5);
    return new SoakAccounts(readers, idle,
        new Account("target", targetPassword, "target", targetPassword, null));
  }

  List<Account> readers() {
    return readers;
  }

  List<Account> idlers() {
    return idlers;
  }

  Account target() {
    return target;
  }

  /** Every account but the readers. */
  List<Account> others() {
    List<Account> others = new ArrayList<>(idlers);
    others.add(target);
    return others;
  }

  /** Dovecot's users: mailbox name and password. */
  Map<String, String> mailboxPasswords() {
    Map<String, String> users = new LinkedHashMap<>();
    all().forEach(a -> users.put(a.mailbox(), a.mailboxPassword()));
    return users;
  }

  /**
   * The auth_http service's users file. Auth-Port overrides the named backend's port too, so the
   * TLS backend's accounts get Dovecot's implicit-TLS ports.
   */
  Map<String, Map<String, Object>> serviceUsers(int imapPort, int pop3Port, int imapsPort,
      int pop3sPort) {
    Map<String, Map<String, Object>> users = new LinkedHashMap<>();
    all().forEach(a -> {
      boolean tls = a.backend() != null;
      Map<String, Object> entry = NginxAuthService.user(a.password(), "127.0.0.1",
          tls ? imapsPort : imapPort, tls ? pop3sPort : pop3Port);
      if (!a.login().equals(a.mailbox())) {
        entry.put("user", a.mailbox());
      }
      if (!a.password().equals(a.mailboxPassword())) {
        entry.put("pass", a.mailboxPassword());
      }
      if (a.backend() != null) {
        entry.put("backend", a.backend());
      }
      users.put(a.login(), entry);
    });
    return users;
  }

  /** Every password a client ever types: none may show up in Postern's output. */
  List<String> passwords() {
    return all().flatMap(a -> Stream.of(a.password(), a.mailboxPassword())).distinct().toList();
  }

  private Stream<Account> all() {
    return Stream.concat(Stream.concat(readers.stream(), idlers.stream()), Stream.of(target));
  }
}
