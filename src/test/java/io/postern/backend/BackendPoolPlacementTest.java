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

  /**
   * A drained server is skipped as a down one is: only its own users move, each to the next
   * server of their ring, and all of them come back when it is undrained.
   */
  @Test
  void aDrainedServerShouldMoveOnlyItsUsersToTheirNextServerUntilUndrained() {
    BackendPool pool = pool(Balance.USER_HASH);
    BackendPools pools = new BackendPools(List.of(pool.config()), java.util.Map.of());
    BackendPool live = pools.get("pool");
    java.util.Map<String, List<String>> before = new java.util.HashMap<>();
    for (int i = 0; i < 500; i++) {
      before.put("user" + i, servers(live, "user" + i));
    }
    BackendPools.PoolServer drained = pools.named("10.0.0.2").get(0);
    assertThat(pools.drain(drained, true)).isTrue();
    assertThat(pools.drain(drained, true)).as("already drained").isFalse();
    assertThat(pools.drained()).containsExactly("pool/10.0.0.2");
    int moved = 0;
    for (var e : before.entrySet()) {
      List<String> now = servers(live, e.getKey());
      assertThat(now).doesNotContain("10.0.0.2");
      List<String> expected = e.getValue().stream().filter(s -> !s.equals("10.0.0.2"))
          .toList();
      // The ring order without the drained server (and one more at the end, if it was offered).
      assertThat(now.subList(0, expected.size())).as(e.getKey()).isEqualTo(expected);
      if (e.getValue().get(0).equals("10.0.0.2")) {
        moved++;
      }
    }
    assertThat(moved).as("users whose first server was the drained one").isBetween(50, 150);
    pools.drain(drained, false);
    for (var e : before.entrySet()) {
      assertThat(servers(live, e.getKey())).isEqualTo(e.getValue());
    }
  }

  @Test
  void aServerShouldBeNamedAloneOrWithItsBackend() {
    BackendPools pools = new BackendPools(List.of(pool(Balance.USER_HASH).config()),
        java.util.Map.of());
    assertThat(pools.named("10.0.0.3")).extracting(BackendPools.PoolServer::path)
        .containsExactly("pool/10.0.0.3");
    assertThat(pools.named("pool/10.0.0.3")).hasSize(1);
    assertThat(pools.named("other/10.0.0.3")).isEmpty();
    assertThat(pools.named("10.0.0.9")).isEmpty();
  }
}
