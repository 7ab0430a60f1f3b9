package io.postern.admin;

import io.postern.session.SessionDirectory;
import io.postern.session.SessionView;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Live sessions as a test sets them, in place of the real directory: what the API lists, and
 * which sessions it asked to end, how and over what spread. Ended sessions leave the list.
 */
final class FakeSessions implements SessionDirectory {

  /** One call of {@link #end}: the sessions it selected, the log result, the spread. */
  record Ended(List<SessionView> sessions, String result, Duration spread) {}

  final List<SessionView> views = new CopyOnWriteArrayList<>();
  final List<Ended> ended = new CopyOnWriteArrayList<>();

  void reset(List<SessionView> now) {
    views.clear();
    views.addAll(now);
    ended.clear();
  }

  @Override
  public Future<List<SessionView>> list(Predicate<SessionView> which) {
    return Future.succeededFuture(views.stream().filter(which).toList());
  }

  @Override
  public Future<Integer> end(Predicate<SessionView> which, String result, Duration spread) {
    List<SessionView> selected = views.stream().filter(which).toList();
    ended.add(new Ended(selected, result, spread));
    views.removeAll(selected);
    return Future.succeededFuture(selected.size());
  }
}
