package io.postern.session;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link SessionDirectory} of one Postern: every session from accept (ClientSession) to its
 * log line (SessionRecord), whatever listener or event loop it runs on. The map is the only
 * shared state; everything about a session is read or done on the session's own event loop.
 */
public final class LiveSessions implements SessionDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(LiveSessions.class);

  /** What the directory asks of a session, always on the session's event loop. */
  interface Live {
    /** A snapshot, or null once the session is closing. */
    SessionView view();

    /** Ends the session from outside, its log line saying {@code result}. */
    void end(String result);
  }

  private record Entry(Context context, Live session) {}

  private record Selected(Entry entry, SessionView view) {}

  private final Vertx vertx;
  private final Map<String, Entry> sessions = new ConcurrentHashMap<>();

  public LiveSessions(Vertx vertx) {
    this.vertx = vertx;
  }

  /** {@code session} is live from now until {@link #remove}; {@code context} is its event loop. */
  void add(String id, Context context, Live session) {
    sessions.put(id, new Entry(context, session));
  }

  void remove(String id) {
    sessions.remove(id);
  }

  /** How many sessions are live now. */
  public int size() {
    return sessions.size();
  }

  @Override
  public Future<List<SessionView>> list(Predicate<SessionView> which) {
    return select(which).map(selected -> selected.stream().map(Selected::view).toList());
  }

  @Override
  public Future<Integer> end(Predicate<SessionView> which, String result, Duration spread) {
    return select(which).compose(selected -> {
      List<Selected> loggedIn = new ArrayList<>();
      List<Future<Void>> told = new ArrayList<>();
      for (Selected s : selected) {
        if (s.view().loggedIn()) {
          loggedIn.add(s);
        } else {
          // Nothing to wait for before login: the goodbye goes out at once.
          told.add(endAfter(s.entry(), result, 0));
        }
      }
      // Each logged-in session gets its own slot in the window, in random order, so that the
      // clients of one user, server or listener do not come back together.
      Collections.shuffle(loggedIn, ThreadLocalRandom.current());
      long windowMillis = spread.toMillis();
      int n = loggedIn.size();
      for (int i = 0; i < n; i++) {
        told.add(endAfter(loggedIn.get(i).entry(), result, windowMillis * i / n));
      }
      if (!selected.isEmpty()) {
        LOG.info("ending {} sessions ({} logged in over {} ms), result={}", selected.size(), n,
            windowMillis, result);
      }
      return Future.join(told).transform(ar -> Future.succeededFuture(selected.size()));
    });
  }

  /** Ends a session {@code delayMillis} from now on its event loop; completes when told. */
  private Future<Void> endAfter(Entry entry, String result, long delayMillis) {
    Promise<Void> told = Promise.promise();
    entry.context().runOnContext(v -> {
      if (delayMillis <= 0) {
        endNow(entry, result, told);
      } else {
        // Set from the session's context: the timer fires on its event loop.
        vertx.setTimer(delayMillis, id -> endNow(entry, result, told));
      }
    });
    return told.future();
  }

  private static void endNow(Entry entry, String result, Promise<Void> told) {
    try {
      entry.session().end(result);
    } catch (RuntimeException e) {
      LOG.error("ending a session failed", e);
    } finally {
      told.complete();
    }
  }

  /** The live sessions {@code which} selects, each with its snapshot. */
  private Future<List<Selected>> select(Predicate<SessionView> which) {
    List<Future<Selected>> views = new ArrayList<>();
    for (Entry entry : sessions.values()) {
      Promise<Selected> view = Promise.promise();
      entry.context().runOnContext(v -> {
        try {
          SessionView snapshot = entry.session().view();
          view.complete(snapshot == null ? null : new Selected(entry, snapshot));
        } catch (RuntimeException e) {
          view.fail(e);
        }
      });
      views.add(view.future());
    }
    return Future.join(views).transform(ar -> {
      List<Selected> selected = new ArrayList<>();
      for (Future<Selected> f : views) {
        if (f.succeeded() && f.result() != null && which.test(f.result().view())) {
          selected.add(f.result());
        }
      }
      return Future.succeededFuture(selected);
    });
  }
}
