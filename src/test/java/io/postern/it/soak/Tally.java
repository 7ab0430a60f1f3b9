package io.postern.it.soak;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Everything the clients and flooders saw during a soak, collected from every worker thread, and
 * the sums the report compares with Postern's metrics. An attempt counts as disrupted when an
 * outage overlaps it: then failing was the right thing to do.
 */
final class Tally {

  /** Counts of one flood kind. */
  record Floods(long bursts, long connections, long notConnected, long closedByPostern,
      long held) {}

  private final Outages outages;
  private final List<Attempt> attempts = new ArrayList<>();
  private final Map<Flooder.Kind, long[]> floods = new EnumMap<>(Flooder.Kind.class);

  Tally(Outages outages) {
    this.outages = outages;
  }

  synchronized void add(Attempt attempt) {
    attempts.add(attempt);
  }

  synchronized void flood(Flooder.Kind kind, List<Flooder.End> ends) {
    long[] counts = floods.computeIfAbsent(kind, k -> new long[5]);
    counts[0]++;
    for (Flooder.End end : ends) {
      counts[1]++;
      counts[2 + end.ordinal()]++;
    }
  }

  synchronized List<Attempt> attempts() {
    return List.copyOf(attempts);
  }

  synchronized Map<Flooder.Kind, Floods> floods() {
    Map<Flooder.Kind, Floods> result = new EnumMap<>(Flooder.Kind.class);
    floods.forEach((kind, c) -> result.put(kind, new Floods(c[0], c[1], c[2], c[3], c[4])));
    return result;
  }

  boolean disrupted(Attempt a) {
    return outages.overlaps(a.startNanos(), a.endNanos());
  }

  long count(Predicate<Attempt> which) {
    return attempts().stream().filter(which).count();
  }

  /**
   * What must never happen, with {@link Attempt.Violation#RIGHT_PASSWORD_REFUSED} added for
   * refusals of a right password that no outage explains.
   */
  List<String> violations(Attempt.Violation kind) {
    List<String> found = new ArrayList<>();
    for (Attempt a : attempts()) {
      if (a.violations().contains(kind)) {
        found.add(a.client() + " " + a.role() + ": " + a.detail());
      } else if (kind == Attempt.Violation.RIGHT_PASSWORD_REFUSED
          && a.role() != Attempt.Role.GUESSER && a.outcome() == Attempt.Outcome.AUTH_FAILED
          && !disrupted(a)) {
        found.add(a.client() + " " + a.role() + ": " + a.detail());
      }
    }
    return found;
  }

  /** Login commands answered OK / refused / never answered, over every attempt. */
  Attempt.Logins logins() {
    int ok = 0;
    int refused = 0;
    int unanswered = 0;
    for (Attempt a : attempts()) {
      ok += a.logins().ok();
      refused += a.logins().refused();
      unanswered += a.logins().unanswered();
    }
    return new Attempt.Logins(ok, refused, unanswered);
  }

  /**
   * TCP connections the clients and flooders tried (an upper bound for what Postern saw): a
   * flood connect that timed out on our side may still have been accepted by Postern's kernel
   * and counted (3 in the first hour-long run), so it counts here too.
   */
  long connectionsOpened() {
    long flood = floods().values().stream().mapToLong(Tally.Floods::connections).sum();
    return attempts().size() + flood;
  }

  long fetchedBytes() {
    return attempts().stream().mapToLong(Attempt::fetchedBytes).sum();
  }
}
