package io.postern.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.BackendConfig;
import io.postern.config.BackendConfig.Balance;
import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.BackendConfig.HealthCheck;
import io.postern.config.BackendConfig.Server;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Which servers a pool offers a login, without any network. */
class BackendPoolPlacementTest {

  private static BackendPool pool(Balance balance) {
    return new BackendPool(new BackendConfig("pool", List.of(Server.of("10.0.0.1"),
        Server.of("10.0.0.2"), Server.of("10.0.0.3"), Server.of("10.0.0.4"),
        Server.of("10.0.0.5")), new BackendConfig.Endpoint(143, TlsMode.NONE),
        new BackendConfig.Endpoint(110, TlsMode.NONE), true, null, balance, HealthCheck.DEFAULT,
        ClientIp.NONE), null);
  }

  private static List<String> servers(BackendPool pool, String user) {
    return pool.candidates(Route.to("pool"), Protocol.IMAP, user).stream()
        .map(BackendTarget::server).toList();
  }

  /** The passwd-file and Dovecot match names without case: "Alice" must reach alice's mailbox. */
  @Test
  void aUserShouldReachTheSameServerWhateverTheCaseOfTheName() {
    BackendPool pool = pool(Balance.USER_HASH);
    for (int i = 0; i < 200; i++) {
      String user = "User" + i + "@Example.NET";
      assertThat(servers(pool, user)).as(user)
          .isEqualTo(servers(pool, user.toLowerCase(Locale.ROOT)))
          .isEqualTo(servers(pool, user.toUpperCase(Locale.ROOT)));
    }
  }

  @Test
  void aLoginShouldBeOfferedTheUsersServerAndAtMostThreeMore() {
    BackendPool pool = pool(Balance.USER_HASH);
    assertThat(servers(pool, "alice")).hasSize(BackendPool.MAX_TRIES).doesNotHaveDuplicates();
  }

  @Test
  void leastConnectionsShouldOfferTheServersWithFewestSessionsFirst() {
    BackendPool pool = pool(Balance.LEAST_CONNECTIONS);
    Runnable a = pool.opened(pool.target(0, Protocol.IMAP));
    pool.opened(pool.target(1, Protocol.IMAP));
    pool.opened(pool.target(1, Protocol.IMAP));
    assertThat(servers(pool, "anyone")).containsExactly("10.0.0.3", "10.0.0.4", "10.0.0.5",
        "10.0.0.1");
    a.run();
    assertThat(servers(pool, "anyone")).containsExactly("10.0.0.1", "10.0.0.3", "10.0.0.4",
        "10.0.0.5");
  }
}
