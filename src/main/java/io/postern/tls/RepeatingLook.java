package io.postern.tls;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * A look at some files every {@code interval}, the next one only once the last has finished (a
 * slow disk never stacks looks up). Stopping lets a look under way finish.
 */
final class RepeatingLook {

  private final Vertx vertx;
  private final Duration interval;
  private final Supplier<Future<?>> look;
  private long timer = -1;
  private boolean stopped;

  RepeatingLook(Vertx vertx, Duration interval, Supplier<Future<?>> look) {
    this.vertx = vertx;
    this.interval = interval;
    this.look = look;
  }

  /** The first look is one interval from now. */
  synchronized RepeatingLook start() {
    if (!stopped) {
      timer = vertx.setTimer(Math.max(1, interval.toMillis()),
          id -> look.get().onComplete(ar -> start()));
    }
    return this;
  }

  synchronized void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }
}
