package io.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code auth.throttle.store} and its Redis settings, as read from a file and the environment. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ThrottleStoreConfigTest {

  private Vertx vertx;

  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stop() {
    vertx.close().await();
  }

  private PosternConfig load(String yaml, Map<String, String> env) throws Exception {
    return ConfigText.load(vertx, dir, yaml, env);
  }

  private List<String> errors(String yaml) {
    return ConfigText.errors(vertx, dir, yaml);
  }

  @Test
  void theDefaultShouldBeMemoryAsBefore() throws Exception {
    assertThat(load("", Map.of()).auth().throttle().store()).isEqualTo(ThrottleStoreConfig.MEMORY);
    // The redis keys may stay while the store is switched back to memory.
    assertThat(load("auth: { throttle: { store: memory, redis: redis://10.0.0.5:6379 } }\n",
        Map.of()).auth().throttle().store()).isEqualTo(ThrottleStoreConfig.MEMORY);
  }

  @Test
  void redisShouldBeReadWithItsUrlAndTimeout() throws Exception {
    ThrottleStoreConfig store = load("""
        auth:
          throttle: { store: redis, redis: "rediss://10.0.0.5:6380/2", redis-timeout: 100ms }
        """, Map.of()).auth().throttle().store();
    assertThat(store).isEqualTo(new ThrottleStoreConfig(ThrottleStoreConfig.Store.REDIS,
        "rediss://10.0.0.5:6380/2", Duration.ofMillis(100)));
    assertThat(load("auth: { throttle: { store: redis, redis: redis://127.0.0.1:6379 } }\n",
        Map.of()).auth().throttle().store().timeout())
        .isEqualTo(ThrottleStoreConfig.DEFAULT_TIMEOUT);
  }

  @Test
  void aPasswordFromTheEnvironmentShouldNeverBeShown() throws Exception {
    ThrottleStoreConfig store = load("auth: { throttle: { store: redis } }\n",
        Map.of("POSTERN_AUTH__THROTTLE__REDIS", "redis://:s3cret-pw@10.0.0.5:6379"))
        .auth().throttle().store();
    assertThat(store.redisUrl()).isEqualTo("redis://:s3cret-pw@10.0.0.5:6379");
    assertThat(store.where()).isEqualTo("redis://10.0.0.5:6379");
    assertThat(store.toString()).doesNotContain("s3cret");
    assertThat(errors("auth: { throttle: { store: redis, redis: \"http://:s3cret@x:1\" } }\n"))
        .containsExactly("auth.throttle.redis: must be a redis:// or rediss:// URL"
            + " (is 'http://x:1')");
  }

  @Test
  void mistakesShouldBeReportedWithTheirKeys() {
    assertThat(errors("auth: { throttle: { store: redis } }\n")).containsExactly(
        "auth.throttle.redis: is required with store: redis (e.g. redis://127.0.0.1:6379)");
    assertThat(errors("auth: { throttle: { store: mongo } }\n")).containsExactly(
        "auth.throttle.store: must be one of memory, redis (is 'mongo')");
    assertThat(errors("""
        auth:
          throttle: { store: redis, redis: "redis://10.0.0.5:99999", redis-timeout: 30s,
                      redis-url: x }
        """)).containsExactlyInAnyOrder(
        "auth.throttle.redis: must have a port between 1 and 65535"
            + " (is 'redis://10.0.0.5:99999')",
        "auth.throttle.redis-timeout: must be between 10ms and 5s",
        "auth.throttle.redis-url: unknown key");
    assertThat(errors("auth: { throttle: { store: redis, redis: \"redis:///0\" } }\n"))
        .containsExactly("auth.throttle.redis: must name a host (is 'redis:///0')");
  }
}
