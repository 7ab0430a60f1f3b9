package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsConfig;
import io.postern.testing.TestTls;
import io.postern.config.CertificateFiles;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The one place server TLS is swapped: who is told, and what a failed swap leaves in use. */
class CurrentTlsTest {

  private static Vertx vertx;
  private static ServerTls a;
  private static ServerTls b;

  @BeforeAll
  static void load() throws Exception {
    vertx = Vertx.vertx();
    TestTls tls = TestTls.shared("localhost");
    a = ServerTls.load(vertx, new TlsConfig(List.of(new CertificateFiles(tls.certPath(),
        tls.keyPath())), List.of("TLSv1.3"), TlsConfig.Engine.JDK, Duration.ofSeconds(5)),
        Duration.ofSeconds(5));
    b = a.withCertificates(a.certificates());
  }

  @AfterAll
  static void close() {
    vertx.close().await();
  }

  @Test
  void oneFollowerOfEachGroupShouldBeToldAndAnotherTakesOverWhenItLeaves() {
    CurrentTls current = new CurrentTls(a);
    List<String> told = new ArrayList<>();
    Runnable first = current.follow("listener 993", next -> record(told, "first"));
    current.follow("listener 993", next -> record(told, "second"));
    current.follow("gauges", next -> record(told, "gauges"));

    current.replace(b).await();
    assertThat(told).containsExactly("first", "gauges");
    assertThat(current.get()).isSameAs(b);

    told.clear();
    first.run();
    current.replace(a).await();
    assertThat(told).containsExactly("second", "gauges");
  }

  @Test
  void aFollowerThatCannotTakeTheNewSettingsShouldPutTheOldBackEverywhere() {
    CurrentTls current = new CurrentTls(a);
    List<ServerTls> seen = new ArrayList<>();
    current.follow("gauges", next -> {
      seen.add(next);
      return Future.succeededFuture();
    });
    current.follow("listener 993", next -> next == b
        ? Future.failedFuture(new IllegalStateException("engine refused")) : Future.succeededFuture());

    Future<Void> replaced = current.replace(b);
    assertThat(replaced.failed()).isTrue();
    assertThat(current.get()).isSameAs(a);
    assertThat(seen).containsExactly(b, a);
  }

  @Test
  void aConditionalReplacementShouldNotUndoAnotherThatCameFirst() {
    CurrentTls current = new CurrentTls(a);
    ServerTls c = a.withCertificates(a.certificates());
    current.replace(c).await();
    assertThat(current.replaceIf(a, b).await()).isFalse();
    assertThat(current.get()).isSameAs(c);
  }

  private static Future<Void> record(List<String> told, String who) {
    told.add(who);
    return Future.succeededFuture();
  }
}
