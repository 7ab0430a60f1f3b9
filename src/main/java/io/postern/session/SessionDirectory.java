package io.postern.session;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * Every live session of this Postern, across event loops, for the admin API and for draining.
 * Thread-safe; each operation runs its per-session part on that session's event loop.
 */
public interface SessionDirectory {

  /** A snapshot of the live sessions {@code which} selects. */
  Future<List<SessionView>> list(Predicate<SessionView> which);

  /**
   * Ends the live sessions {@code which} selects, spread evenly over {@code spread} (zero: all
   * at once): not-yet-logged-in sessions get the protocol's goodbye, logged-in ones end at a
   * point where the backend is not in the middle of a response (IMAP: {@code * BYE
   * [UNAVAILABLE]}), and each session's log line says {@code result}. Completes with how many
   * sessions were selected, once they have all been told to end.
   */
  Future<Integer> end(Predicate<SessionView> which, String result, Duration spread);
}
