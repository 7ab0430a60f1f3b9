package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.ThrottleStoreConfig;
import io.postern.it.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared store under a burst of connections, against a real {@code redis-server}: calls
 * beyond their share are shed and counted, never sent; the store, which answers, stays up, and
 * the logins' calls still go out, so the shared penalty keeps applying.
 */
class RedisFailuresTest {

  @TempDir
  Path dir;

  @Test
  void aBurstBeyondWhatTheStoreTakesAtOnceShouldBeShedWithoutMarkingItDown() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (RedisServer redis = RedisServer.start(dir)) {
      AtomicInteger errors = new AtomicInteger();
      RedisFailures store = new RedisFailures(vertx,
          ThrottleStoreConfig.redis(redis.url(), Duration.ofSeconds(5)), Duration.ofHours(1),
          errors::incrementAndGet);
      await().atMost(Duration.ofSeconds(10)).until(() -> store.send(
          Request.cmd(Command.PING)).await(5, TimeUnit.SECONDS).toString().equals("PONG"));
      // Held unanswered, as a store busy for a moment would.
      redis.pause();
      List<Future<Response>> calls = new ArrayList<>();
      int burst = RedisFailures.MAX_IN_FLIGHT + 40;
      for (int i = 0; i < burst; i++) {
        calls.add(store.send(Request.cmd(Command.PING)));
      }
      long shed = calls.stream().filter(Future::failed).count();
      assertThat(shed).isEqualTo(40);
      assertThat(calls.stream().filter(Future::failed).map(Future::cause))
          .allMatch(RedisFailures::notSent);
      assertThat(errors.get()).isEqualTo(40);
      assertThat(store.up()).isTrue();
      // The connections' burst leaves the logins' calls their own room: this one is sent.
      Future<SharedFailures.Counts> login = store.failed("192.0.2.9", "amy");
      assertThat(login.failed()).isFalse();
      redis.resume();
      assertThat(login.await(10, TimeUnit.SECONDS).user()).isEqualTo(1L);
      List<Future<Response>> sent = calls.stream().filter(f -> !f.failed()).toList();
      Future.all(sent).await(10, TimeUnit.SECONDS);
      assertThat(sent).allSatisfy(f -> assertThat(f.result().toString()).isEqualTo("PONG"));
      assertThat(store.up()).isTrue();
      assertThat(errors.get()).isEqualTo(40);
      // Room again once they are answered.
      assertThat(store.send(Request.cmd(Command.PING)).await(5, TimeUnit.SECONDS).toString())
          .isEqualTo("PONG");
      store.close().await(5, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(5, TimeUnit.SECONDS);
    }
  }
}
