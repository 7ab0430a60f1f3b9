package io.postern.listener;

import io.postern.auth.RedisFailures;
import io.postern.auth.SharedFailures;
import io.postern.auth.ThrottleKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code limits.max-connections-per-ip} across every instance that shares
 * {@code auth.throttle.store: redis}. Each address (IPv6: its /64) has a hash in the store,
 * {@link ThrottleKeys#connections}, with one field per instance: that instance's connections
 * from the address. Each instance keeps a heartbeat key alive ({@link #HEARTBEAT_TTL}, set again
 * every {@link #HEARTBEAT}). One Lua script sums the fields of the instances whose heartbeat is
 * there, drops the others' (a crashed or killed instance's connections vanish on their own; Redis
 * 7.0 has no HEXPIRE for single fields), and counts the connection if the sum leaves room;
 * another gives it back when the connection's slots are released ({@link Admission}).
 *
 * <p>The store is asked only after this instance's own count admitted the connection, and that
 * count stays the floor: with the store down, slow (past {@code redis-timeout}) or failing, the
 * connection goes on with it alone. Whenever this instance could not tell the store something (an
 * increment that timed out and may have counted, a give-back that did not arrive, a heartbeat
 * missed while the store was down), it goes on under a new field name, and what it counted under
 * the old one vanishes with the old heartbeat: after an outage the count may fall short for a
 * while, it never stays too high. A call shed in a burst ({@link RedisFailures#MAX_IN_FLIGHT})
 * never reached the store: that connection goes on by the local count, and what was counted
 * before stays counted. Give-backs and heartbeats are never shed.
 */
public final class ClusterConnections {

  /** How often this instance's heartbeat key is set again. */
  static final Duration HEARTBEAT = Duration.ofSeconds(2);
  /** How long after its last heartbeat an instance's connections stop counting. */
  static final Duration HEARTBEAT_TTL = Duration.ofSeconds(10);
  /**
   * How long an address's hash outlives the last connection counted in it: only there for the
   * fields of instances that died and that no later connection from the address swept away.
   */
  static final Duration ADDRESS_TTL = Duration.ofDays(1);
  static final String HEARTBEAT_PREFIX = ThrottleKeys.CONNECTIONS + "instance:";

  /**
   * KEYS: the address's hash, this instance's heartbeat; ARGV: this instance's field, the
   * maximum, the heartbeat's TTL (ms), the heartbeat keys' prefix, the hash's TTL (ms). Returns 1
   * when the connection is counted, 0 when the address has no room left on all instances.
   */
  static final String TAKE = """
      redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
      local open = redis.call('HGETALL', KEYS[1])
      local total = 0
      for i = 1, #open, 2 do
        if redis.call('EXISTS', ARGV[4] .. open[i]) == 1 then
          total = total + tonumber(open[i + 1])
        else
          redis.call('HDEL', KEYS[1], open[i])
        end
      end
      if total >= tonumber(ARGV[2]) then
        return 0
      end
      redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
      redis.call('PEXPIRE', KEYS[1], ARGV[5])
      return 1""";
  /**
   * KEYS: the address's hash; ARGV: the field the connection was counted in. A field already
   * swept away (its instance name retired, the store restarted empty) is left alone.
   */
  static final String GIVE_BACK = """
      if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
          and redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
        redis.call('HDEL', KEYS[1], ARGV[1])
      end
      return 1""";

  private final Vertx vertx;
  private final RedisFailures store;
  private final String instance;
  /** The field names this instance has used are {@code instance:generation}. */
  private final AtomicLong generation = new AtomicLong();
  private final long heartbeats;
  /**
   * Set by the first heartbeat the store took: until then the store is not asked, as the
   * client's first connection to it may well outlast {@code redis-timeout}, and a store marked
   * down for that alone would be noise (see {@link RedisFailures}).
   */
  private volatile boolean ready;

  ClusterConnections(Vertx vertx, RedisFailures store) {
    this(vertx, store, HEARTBEAT);
  }

  /** Tests with a store that has answered already need not wait for the first heartbeat. */
  ClusterConnections(Vertx vertx, RedisFailures store, Duration firstHeartbeat) {
    this.vertx = vertx;
    this.store = store;
    byte[] id = new byte[8];
    ThreadLocalRandom.current().nextBytes(id);
    this.instance = HexFormat.of().formatHex(id);
    this.heartbeats = vertx.setPeriodic(Math.max(1, firstHeartbeat.toMillis()),
        HEARTBEAT.toMillis(), t -> heartbeat());
  }

  /** The counts across instances through {@code store}, or null when it is not a Redis. */
  static ClusterConnections over(Vertx vertx, SharedFailures store) {
    return store instanceof RedisFailures redis ? new ClusterConnections(vertx, redis) : null;
  }

  /**
   * Whether the connection of {@code admission}, which holds its address's local slot, has room
   * among the address's {@code max} on every instance. True at once when there is nothing to
   * ask (a trusted client, the store down or not heard from yet); else within
   * {@code redis-timeout}: false when the address is full, true when the connection is now
   * counted (given back with the admission's slots) or the store could not say. Never fails.
   */
  Future<Boolean> admits(Admission admission, int max) {
    InetAddress source = admission.source();
    if (source == null || !ready || !store.up()) {
      return Future.succeededFuture(true);
    }
    long used = generation.get();
    String field = field(used);
    String key = ThrottleKeys.connections(ConnectionLimits.sourceKey(source));
    Request take = Request.cmd(Command.EVAL).arg(TAKE).arg(2).arg(key)
        .arg(HEARTBEAT_PREFIX + field).arg(field).arg((long) max)
        .arg(HEARTBEAT_TTL.toMillis()).arg(HEARTBEAT_PREFIX).arg(ADDRESS_TTL.toMillis());
    return store.send(take).map(counted -> {
      if (counted.toInteger() == 0) {
        return false;
      }
      admission.countedAcrossInstances(() -> giveBack(key, used));
      return true;
    }).otherwise(e -> {
      if (!RedisFailures.notSent(e)) {
        // Sent, and perhaps counted there: nothing would give it back.
        retire(used);
      }
      return true;
    });
  }

  /** Stops the heartbeat: what this instance counted vanishes within {@link #HEARTBEAT_TTL}. */
  void close() {
    vertx.cancelTimer(heartbeats);
  }

  private void giveBack(String key, long used) {
    store.sendUnshed(Request.cmd(Command.EVAL).arg(GIVE_BACK).arg(1).arg(key).arg(field(used)))
        .onFailure(e -> retire(used));
  }

  private void heartbeat() {
    long current = generation.get();
    if (!store.up()) {
      // Meanwhile the heartbeat may lapse and give-backs are not sent: start afresh.
      retire(current);
      return;
    }
    store.sendUnshed(Request.cmd(Command.SET).arg(HEARTBEAT_PREFIX + field(current)).arg("1")
        .arg("PX").arg(HEARTBEAT_TTL.toMillis())).onComplete(ar -> {
          if (ar.failed()) {
            retire(current);
          } else {
            ready = true;
          }
        });
  }

  /** Whether the store is asked (once it took a heartbeat). */
  boolean ready() {
    return ready;
  }

  /** The store may be wrong about {@code used}'s counts: from now on, count under a new name. */
  private void retire(long used) {
    generation.compareAndSet(used, used + 1);
  }

  private String field(long used) {
    return instance + ":" + used;
  }
}
