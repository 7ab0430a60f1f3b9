package io.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.postern.config.Protocol;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Logins and relayed sessions of one protocol, over every listener. */
public final class ProtocolMeters {

  /** How a login attempt ended, as the {@code result} label says it. */
  public enum LoginResult {
    SUCCESS, FAILURE, CLEARTEXT_REFUSED, UNAVAILABLE, THROTTLED,
    /** The backend says the mailbox is locked (POP3 [IN-USE]): the user's doing, not an outage. */
    IN_USE;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private static final List<String> MECHANISMS = List.of("login", "plain", "user", "xoauth2",
      "oauthbearer", "other");

  private final AtomicInteger active = new AtomicInteger();
  private final Timer duration;
  private final Counter toClient;
  private final Counter toBackend;
  private final Map<String, Counter> logins = new HashMap<>();

  ProtocolMeters(MeterRegistry registry, Protocol protocol) {
    String name = protocol.id();
    Gauge.builder("postern.sessions.active", active, AtomicInteger::get)
        .description("Logged-in sessions being relayed now")
        .tag("protocol", name)
        .register(registry);
    duration = Timer.builder("postern.session.duration")
        .description("Logged-in sessions, from connect to close")
        .tag("protocol", name)
        .serviceLevelObjectives(PosternMeters.SESSION_BUCKETS)
        .register(registry);
    toClient = relayed(registry, name, "to_client");
    toBackend = relayed(registry, name, "to_backend");
    for (String mechanism : MECHANISMS) {
      if (mechanism.equals("user") && protocol != Protocol.POP3) {
        continue;
      }
      for (LoginResult result : LoginResult.values()) {
        // Filled once here, read-only afterwards: safe to share across event loops.
        logins.put(mechanism + "/" + result.label(), Counter.builder("postern.logins")
            .description("Login attempts by mechanism and result")
            .tags("protocol", name, "mechanism", mechanism, "result", result.label())
            .register(registry));
      }
    }
  }

  /** {@code mechanism} as the client named it: LOGIN, PLAIN or USER (POP3 USER/PASS). */
  public void login(String mechanism, LoginResult result) {
    Counter counter = logins.get(PosternMeters.mechanism(mechanism) + "/" + result.label());
    (counter != null ? counter : logins.get("other/" + result.label())).increment();
  }

  public void sessionStarted() {
    active.incrementAndGet();
  }

  /** A relayed session ended; {@code length} from accept to close. */
  public void sessionEnded(Duration length) {
    active.decrementAndGet();
    duration.record(length);
  }

  public Counter bytesToClient() {
    return toClient;
  }

  public Counter bytesToBackend() {
    return toBackend;
  }

  private static Counter relayed(MeterRegistry registry, String protocol, String direction) {
    return Counter.builder("postern.relay.bytes")
        .description("Bytes relayed after login")
        .baseUnit("bytes")
        .tags("protocol", protocol, "direction", direction)
        .register(registry);
  }
}
