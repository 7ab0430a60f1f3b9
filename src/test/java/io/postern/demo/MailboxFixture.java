package io.postern.demo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A Vertx with a started demo mailbox, for one test class. */
final class MailboxFixture implements AutoCloseable {

  private final Vertx vertx;
  private final DemoMailbox mailbox;

  private MailboxFixture(Vertx vertx, DemoMailbox mailbox) {
    this.vertx = vertx;
    this.mailbox = mailbox;
  }

  static MailboxFixture start() throws Exception {
    return start(DemoMailbox.IDLE_TIMEOUT);
  }

  static MailboxFixture start(Duration idleTimeout) throws Exception {
    Vertx vertx = Vertx.vertx();
    return new MailboxFixture(vertx, await(DemoMailbox.start(vertx, idleTimeout)));
  }

  DemoMailbox mailbox() {
    return mailbox;
  }

  int imapPort() {
    return mailbox.imapPort();
  }

  int pop3Port() {
    return mailbox.pop3Port();
  }

  /** Test threads may block; event loops never do. */
  static <T> T await(Future<T> future) throws ExecutionException, TimeoutException {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting", e);
    }
  }

  @Override
  public void close() throws ExecutionException, TimeoutException {
    try {
      await(mailbox.close());
    } finally {
      await(vertx.close());
    }
  }
}
