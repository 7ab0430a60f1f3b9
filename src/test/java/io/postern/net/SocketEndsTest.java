package io.postern.net;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetSocket;
import java.lang.reflect.Proxy;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The half-close hook reaches into Vert.x's internals: it must work with the Vert.x Postern is
 * built with, and say so loudly when it cannot, instead of quietly doing nothing.
 */
class SocketEndsTest {

  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void theStartUpCheckShouldPassWithThisVertx() {
    assertThatCode(() -> SocketEnds.check(vertx).await(10, TimeUnit.SECONDS))
        .doesNotThrowAnyException();
  }

  @Test
  void aSocketThatIsNotVertxsOwnShouldBeRefusedLoudly() {
    NetSocket foreign = (NetSocket) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {NetSocket.class}, (proxy, method, args) -> {
          throw new UnsupportedOperationException(method.getName());
        });
    assertThatThrownBy(() -> SocketEnds.allowHalfClose(foreign))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Vert.x internals changed");
  }
}
