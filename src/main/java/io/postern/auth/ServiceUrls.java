package io.postern.auth;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which of the auth service's URLs a login asks, and in what order, so that a dead URL costs one
 * connect timeout per back-off period instead of one per login.
 *
 * <p>Contract:
 * <ul>
 *   <li>A URL is up until a request to it fails as a service ({@link #failed}: refused, timed
 *       out, TLS failure, a closed connection, an answer without {@code Auth-Status}). It is then
 *       down and left out of {@link #order} for {@code backoff}; each failed re-try doubles that,
 *       up to {@code maxBackoff}.</li>
 *   <li>When its back-off has passed, {@link #order} includes it again, in its place in the
 *       configured order (a primary is preferred again as soon as it answers), and the first
 *       request that {@link #take}s it probes it: other logins keep skipping it while that one
 *       probe is under way (at most {@code probeWindow}). The probe may be a login's request or
 *       the readiness check's {@code HEAD}. Any answer of the service ({@link #succeeded})
 *       makes it up; a probe that tells nothing ({@link #release}) lets the next one try.</li>
 *   <li>When every URL is down and none is due, a login still asks the one whose back-off ends
 *       first, as a service that is down for everybody is better asked than not: no login is
 *       refused without one URL having been tried, and with a single URL nothing changes
 *       from having no back-off at all. A failure there pushes that URL's next try back, so that
 *       such logins take the URLs in turn.</li>
 *   <li>One line is logged when a URL goes down and one when it is back, never one per login.</li>
 * </ul>
 * Thread-safe: one instance is shared by every event loop; each call holds the lock for a few
 * comparisons only.
 */
final class ServiceUrls {

  private static final Logger LOG = LoggerFactory.getLogger(ServiceUrls.class);

  /** The state of one URL; guarded by the {@link ServiceUrls} instance. */
  private static final class State {
    final String url;
    boolean down;
    /** Failed tries in a row, the first included; sets the back-off. */
    int failures;
    /** When it may be asked again (System.nanoTime scale). */
    long retryAt;
    /** A login was handed it as a probe and has not reported yet. */
    boolean probing;
    long downSince;

    State(String url) {
      this.url = url;
    }
  }

  private final List<State> states = new ArrayList<>();
  private final long backoff;
  private final long maxBackoff;
  private final long probeWindow;
  private final LongSupplier clock;

  /**
   * {@code probeWindow}: how long a probe may take before another login may probe the URL too
   * (the longest one request can take, repeats included); {@code clock}: nanoseconds, as
   * {@link System#nanoTime}.
   */
  ServiceUrls(List<String> urls, Duration backoff, Duration maxBackoff, Duration probeWindow,
      LongSupplier clock) {
    urls.forEach(u -> states.add(new State(u)));
    this.backoff = backoff.toNanos();
    this.maxBackoff = Math.max(backoff.toNanos(), maxBackoff.toNanos());
    this.probeWindow = probeWindow.toNanos();
    this.clock = clock;
  }

  /**
   * The URLs one login may ask, in order, until one answers: those up and those whose back-off
   * has passed, in the configured order; when there is none, the one whose back-off ends first.
   * Never empty. Before asking a URL, a login calls {@link #take}.
   */
  synchronized List<String> order() {
    long now = clock.getAsLong();
    List<String> out = new ArrayList<>(states.size());
    State earliest = null;
    for (State s : states) {
      if (!s.down || due(s, now)) {
        out.add(s.url);
      } else if (earliest == null || s.retryAt - earliest.retryAt < 0) {
        earliest = s;
      }
    }
    if (out.isEmpty()) {
      out.add(earliest.url);
    }
    return out;
  }

  /**
   * Whether a request may ask {@code url} now: yes when it is up; when it is down and due, yes
   * for the first caller, which probes it (others get no until that one reports or the probe
   * window ends); otherwise no. A login asks the last URL of its {@link #order} all the same
   * when it has asked none before.
   */
  synchronized boolean take(String url) {
    State s = state(url);
    if (s == null || !s.down) {
      return s != null;
    }
    long now = clock.getAsLong();
    if (!due(s, now)) {
      return false;
    }
    s.probing = true;
    s.retryAt = now;
    return true;
  }

  private boolean due(State s, long now) {
    return s.probing ? now - s.retryAt - probeWindow >= 0 : now - s.retryAt >= 0;
  }

  /** The service at {@code url} answered (any answer of the protocol, yes, no or wait). */
  synchronized void succeeded(String url) {
    State s = state(url);
    if (s == null || !s.down) {
      return;
    }
    s.down = false;
    s.probing = false;
    s.failures = 0;
    LOG.info("auth service {} answers again, after {}s down; logins ask it again",
        HttpAuthenticator.where(url), seconds(clock.getAsLong() - s.downSince));
  }

  /** A request to {@code url} failed as a service; {@code problem} says how. */
  synchronized void failed(String url, String problem) {
    State s = state(url);
    if (s == null) {
      return;
    }
    long now = clock.getAsLong();
    if (!s.down) {
      s.down = true;
      s.failures = 1;
      s.downSince = now;
      s.retryAt = now + backoff;
      if (states.size() > 1) {
        LOG.warn("auth service {} is down ({}); logins skip it for {}s while another URL is up",
            HttpAuthenticator.where(url), problem, seconds(backoff));
      } else {
        LOG.warn("auth service {} is down ({})", HttpAuthenticator.where(url), problem);
      }
    } else if (s.probing) {
      s.probing = false;
      s.failures++;
      s.retryAt = now + delay(s.failures);
      LOG.debug("auth service {} still down; next try in {}s", HttpAuthenticator.where(url),
          seconds(delay(s.failures)));
    } else {
      // Asked as the last resort, or a request from before it went down: not a probe, so the
      // back-off does not grow, but the next such login tries another URL first.
      long next = now + delay(s.failures);
      if (next - s.retryAt > 0) {
        s.retryAt = next;
      }
    }
  }

  /** A probe of {@code url} ended without telling whether it is up: the next one may probe. */
  synchronized void release(String url) {
    State s = state(url);
    if (s != null && s.probing) {
      s.probing = false;
    }
  }

  /** Whether {@code url} is up (false for a URL not configured). */
  synchronized boolean up(String url) {
    State s = state(url);
    return s != null && !s.down;
  }

  private long delay(int failures) {
    long d = backoff;
    for (int i = 1; i < failures && d < maxBackoff; i++) {
      d *= 2;
    }
    return Math.min(d, maxBackoff);
  }

  private State state(String url) {
    for (State s : states) {
      if (s.url.equals(url)) {
        return s;
      }
    }
    return null;
  }

  private static long seconds(long nanos) {
    return Math.max(0, Math.round(nanos / 1e9));
  }
}
