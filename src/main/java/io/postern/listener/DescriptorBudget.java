package io.postern.listener;

import com.sun.management.UnixOperatingSystemMXBean;
import io.postern.config.ConfigError;
import io.postern.config.LimitsConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Open files as a budget. Every client connection may cost two descriptors (the client and,
 * once logged in, the backend), and the process needs some for itself: the ones open at start
 * (jars, event-loop selectors) and {@code limits.descriptor-reserve} for the auth service's
 * pool, the admin endpoint, readiness probes, the passwd-file and certificates. At start-up the
 * budget must fit the open-file limit ({@link #fit}); while running, new connections are
 * refused at once when the descriptors in use eat into half the reserve, so that logins in
 * flight and logged-in sessions keep what they need and accept never meets "Too many open
 * files".
 */
public final class DescriptorBudget {

  private static final Logger LOG = LoggerFactory.getLogger(DescriptorBudget.class);
  /** Descriptors one client connection may hold: the client's and the backend's. */
  static final int PER_CONNECTION = 2;
  private static final long SAMPLE_MILLIS = 1000;

  /** The open-file limit and the descriptors open now, when the platform tells. */
  public record Usage(long limit, long open) {

    /** Null where the JVM cannot tell (not a Unix). */
    public static Usage now() {
      OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof UnixOperatingSystemMXBean unix && unix.getMaxFileDescriptorCount() > 0) {
        return new Usage(unix.getMaxFileDescriptorCount(), unix.getOpenFileDescriptorCount());
      }
      return null;
    }
  }

  private final long limit;
  private volatile int reserve;
  private final IntSupplier clients;
  private volatile Sample sample;
  private final EveryMinute warning = new EveryMinute();
  private ScheduledExecutorService sampler;

  /** Descriptors open at a moment, and the client connections held then. */
  private record Sample(long open, int clients) {}

  /**
   * {@code usage} null: the platform cannot tell, nothing is ever refused for descriptors.
   * {@code clients}: the client connections holding a slot now; between two samples, what they
   * gained or lost is added to the descriptors sampled.
   */
  DescriptorBudget(Usage usage, int reserve, IntSupplier clients) {
    this.limit = usage == null ? Long.MAX_VALUE : usage.limit();
    this.reserve = reserve;
    this.clients = clients;
    this.sample = new Sample(usage == null ? 0 : usage.open(), clients.getAsInt());
  }

  /**
   * {@code limits} with {@code max-connections: auto} resolved, or an error naming the fix when
   * the configured connections cannot have their descriptors under {@code usage}'s limit.
   */
  public static LimitsConfig fit(LimitsConfig limits, Usage usage, List<ConfigError> errors) {
    if (usage == null) {
      return limits.maxConnections() == LimitsConfig.AUTO
          ? limits.withMaxConnections(LimitsConfig.DEFAULT_MAX_CONNECTIONS) : limits;
    }
    long fixed = usage.open() + limits.descriptorReserve();
    long room = Math.max(0, (usage.limit() - fixed) / PER_CONNECTION);
    if (limits.maxConnections() == LimitsConfig.AUTO) {
      if (room < 1) {
        errors.add(new ConfigError("limits.max-connections", "auto leaves no connection: the"
            + " open-file limit is " + usage.limit() + ", and " + usage.open() + " are open"
            + " already plus limits.descriptor-reserve " + limits.descriptorReserve()
            + "; raise the limit (systemd LimitNOFILE=, or ulimit -n before starting) to at"
            + " least " + needed(LimitsConfig.DEFAULT_MAX_CONNECTIONS, fixed)));
        return limits;
      }
      int max = (int) Math.min(LimitsConfig.DEFAULT_MAX_CONNECTIONS, room);
      if (max < LimitsConfig.DEFAULT_MAX_CONNECTIONS) {
        LOG.warn("limits.max-connections: auto is {}, not {}, because the open-file limit is {}"
            + " ({} per connection, {} open now, limits.descriptor-reserve {}); raise"
            + " LimitNOFILE / ulimit -n to {} for {}", max, LimitsConfig.DEFAULT_MAX_CONNECTIONS,
            usage.limit(), PER_CONNECTION, usage.open(), limits.descriptorReserve(),
            needed(LimitsConfig.DEFAULT_MAX_CONNECTIONS, fixed),
            LimitsConfig.DEFAULT_MAX_CONNECTIONS);
      }
      return limits.withMaxConnections(max);
    }
    if (limits.maxConnections() > room) {
      errors.add(new ConfigError("limits.max-connections", limits.maxConnections()
          + " connections may need " + (long) limits.maxConnections() * PER_CONNECTION
          + " open files (the client's and the backend's), plus limits.descriptor-reserve "
          + limits.descriptorReserve() + ", plus the " + usage.open() + " open now, but the"
          + " open-file limit is " + usage.limit() + ": raise it to "
          + needed(limits.maxConnections(), fixed) + " (systemd LimitNOFILE=, or ulimit -n"
          + " before starting) or lower limits.max-connections to " + room
          + " (or set it to auto)"));
    }
    return limits;
  }

  private static long needed(int connections, long fixed) {
    return (long) connections * PER_CONNECTION + fixed;
  }

  /** Samples the descriptors in use every second until {@link #stop}. */
  synchronized void start() {
    if (sampler != null || limit == Long.MAX_VALUE) {
      return;
    }
    // A thread of its own: counting /proc/self/fd is a few system calls, never an event loop's,
    // and not behind a worker pool that a hashing flood may keep busy.
    sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "postern-open-files");
      t.setDaemon(true);
      return t;
    });
    sampler.scheduleWithFixedDelay(this::sample, SAMPLE_MILLIS, SAMPLE_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  synchronized void stop() {
    if (sampler != null) {
      sampler.shutdownNow();
      sampler = null;
    }
  }

  private void sample() {
    int held = clients.getAsInt();
    Usage usage = Usage.now();
    if (usage != null) {
      sample = new Sample(usage.open(), held);
    }
  }

  /** A reloaded configuration's {@code limits.descriptor-reserve}. */
  void reserve(int next) {
    this.reserve = next;
  }

  /**
   * Whether a connection just accepted must be refused to keep the reserve. Half the reserve is
   * the line: the other half is left for the backend and auth connections of logins already
   * under way. Connections refused and closed at once never count: a flood of them cannot push
   * the estimate up.
   */
  boolean refuseNew() {
    Sample last = sample;
    long inUse = last.open() + clients.getAsInt() - last.clients() + 1;
    if (inUse <= limit - reserve / 2) {
      return false;
    }
    if (warning.due()) {
      LOG.warn("about {} files open of the limit of {}: new connections are refused until some"
          + " close, to keep limits.descriptor-reserve for logins under way; raise LimitNOFILE"
          + " / ulimit -n or lower limits.max-connections", inUse, limit);
    }
    return true;
  }
}
