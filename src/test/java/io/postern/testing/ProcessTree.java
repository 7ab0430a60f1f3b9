package io.postern.testing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A child process the test started, together with whatever that process started in turn. */
public final class ProcessTree {

  private ProcessTree() {}

  /**
   * Ends {@code process} by pid, politely first: SIGTERM, then SIGKILL when it is still there
   * after {@code grace}; then each of its descendants gets {@code grace} to follow before it is
   * killed too, since a leftover child (a Dovecot login process, an nginx worker) would keep the
   * ports. Our ends of its pipes stay open, so what it writes while stopping can still be read.
   */
  public static void stop(Process process, Duration grace) {
    List<ProcessHandle> descendants = process.descendants().toList();
    boolean interrupted = false;
    try {
      process.toHandle().destroy();
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.toHandle().destroyForcibly();
        process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      interrupted = true;
      process.toHandle().destroyForcibly();
    }
    for (ProcessHandle descendant : descendants) {
      try {
        descendant.onExit().get(interrupted ? 0 : grace.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
        descendant.destroyForcibly();
      } catch (ExecutionException | TimeoutException e) {
        descendant.destroyForcibly();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
