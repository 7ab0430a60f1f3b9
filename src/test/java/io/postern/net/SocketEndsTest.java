package io.postern.net;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetSocket;
import java.lang.reflect.Proxy;
import java.util.concurrent.TimeUnit;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The half-close hook reaches into Vert.x's internals: it must work with the Vert.x Postern is
 * built with, and say so loudly when it cannot, instead of quietly doing nothing.
 */
@ExtendWith(VertxExtension.class)
class SocketEndsTest {

  @Test
  void theStartUpCheckShouldPassWithThisVertx(Vertx vertx) {
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
