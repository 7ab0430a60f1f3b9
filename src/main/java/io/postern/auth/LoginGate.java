package io.postern.auth;

import io.postern.config.AuthConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Lets login attempts be checked so that many connections guess no faster than one: each client
 * address (an IPv6 /64) and each user name has a lane. While its key has no failures on record,
 * a lane lets logins through at once. Once it has, they pass one at a time, in order, each no
 * earlier than the key's {@link LoginThrottle penalty} after both its own command and the answer
 * to the lane's previous login, and the penalty is read again when a login's turn comes, so a
 * failure earned meanwhile by another connection counts. A login goes through its address's
 * lane, then its name's (skipped from an address where that user logged in recently).
 *
 * <p>At most {@code max-in-flight-per-address} logins of one address and
 * {@code max-in-flight-per-user} of one name wait or run at once; one more is refused at once,
 * and the caller answers it with the protocol's temporary failure. Exempt clients (trusted
 * networks, or the throttle off) pass without a lane. A lane lives only while logins are in it,
 * so memory follows the logins in flight, not the addresses ever seen.
 *
 * <p>With a shared store, a login first reads its address's and name's counts from it (at
 * most the store's timeout, counted in the login's penalty, which runs from its command), then
 * joins its lanes; the client may leave meanwhile.
 *
 * <p>Thread-safe: every listener instance's sessions share one gate; its state changes under one
 * lock held for a few map operations, and each login's future completes on its own context.
 */
public final class LoginGate {

  /** A login not admitted because its address or name has too many logins in flight. */
  public static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String why) {
      super(why, null, false, false);
    }
  }

  /** The client left while its login waited; nobody is waiting for the answer. */
  public static final class Cancelled extends Exception {
    private static final long serialVersionUID = 1L;

    Cancelled() {
      super("the client left while its login waited", null, false, false);
    }
  }

  /**
   * An admitted login: {@code penalized} when a lane it passed had failures on record (such a
   * failure counts as throttled); {@code admittedNanos} is when it was let through
   * ({@link System#nanoTime}).
   */
  public record Pass(boolean penalized, long admittedNanos) {}

  private enum Stage { READING, AT_ADDRESS, AT_NAME, ADMITTED, DONE }

  /** One login's way through the gate. */
  public final class Ticket {
    private final Context context;
    private final long commandNanos;
    private final Promise<Pass> promise = Promise.promise();
    private Lane address;
    private Lane name;
    private Stage stage = Stage.READING;
    private boolean penalized;

    private Ticket(Context context, long commandNanos) {
      this.context = context;
      this.commandNanos = commandNanos;
    }

    /** Completes when the login may be checked; fails with {@link Refused} or {@link Cancelled}. */
    public Future<Pass> admitted() {
      return promise.future();
    }

    /** The answer to this login has been sent: the next one in its lanes may go. */
    public void release() {
      leave(this, false);
    }

    /** The client left; a login still waiting gives up its place (an admitted one goes on). */
    public void cancel() {
      leave(this, true);
    }

    private void complete(Runnable completion) {
      context.runOnContext(v -> completion.run());
    }
  }

  /** The logins of one key that are waiting, being checked or being answered. */
  private static final class Lane {
    final String key;
    final Supplier<Duration> penalty;
    final ArrayDeque<Ticket> waiting = new ArrayDeque<>();
    int inFlight;
    /** The login checked under a penalty, until its answer is sent; null when none. */
    Ticket holder;
    /** When the last login that went through this lane was answered. */
    long lastAnswer = Long.MIN_VALUE;
    long timer = -1;

    Lane(String key, Supplier<Duration> penalty) {
      this.key = key;
      this.penalty = penalty;
    }
  }

  private final Vertx vertx;
  private final LoginThrottle throttle;
  private final Map<String, Lane> lanes = new HashMap<>();

  public LoginGate(Vertx vertx, LoginThrottle throttle) {
    this.vertx = vertx;
    this.throttle = throttle;
  }

  public LoginThrottle throttle() {
    return throttle;
  }

  /**
   * A login from {@code client} for {@code user} whose command arrived at {@code commandNanos}
   * ({@link System#nanoTime}). Call on the session's context; release the ticket when the
   * answer is sent, whatever it is.
   */
  public Ticket enter(InetAddress client, String user, long commandNanos) {
    Ticket ticket = new Ticket(vertx.getOrCreateContext(), commandNanos);
    if (throttle.exempt(client)) {
      admit(ticket);
      return ticket;
    }
    // Without a shared store this completes at once, and the login joins its lanes now.
    throttle.refresh(client, user).onComplete(read -> join(ticket, client, user));
    return ticket;
  }

  private void join(Ticket ticket, InetAddress client, String user) {
    AuthConfig.Throttle limits = throttle.config();
    synchronized (this) {
      if (ticket.stage != Stage.READING) {
        return; // the client left while the shared counts were read
      }
      Lane address = lane("address " + LoginThrottle.addressKey(client),
          () -> throttle.addressPenalty(client));
      Lane name = throttle.known(client, user) ? null
          : lane("user " + LoginThrottle.userKey(user), () -> throttle.userPenalty(user));
      String full = address.inFlight >= limits.maxInFlightPerAddress() ? "from this address"
          : name != null && name.inFlight >= limits.maxInFlightPerUser() ? "for this user"
          : null;
      if (full != null) {
        dropIfIdle(address);
        dropIfIdle(name);
        ticket.stage = Stage.DONE;
        Refused refused = new Refused("too many logins at once " + full);
        ticket.complete(() -> ticket.promise.tryFail(refused));
        return;
      }
      ticket.address = address;
      ticket.name = name;
      ticket.stage = Stage.AT_ADDRESS;
      address.inFlight++;
      if (name != null) {
        name.inFlight++;
      }
      address.waiting.add(ticket);
      pump(address);
    }
  }

  /** How many lanes are live (tests: none may outlive its logins). */
  public synchronized int lanes() {
    return lanes.size();
  }

  private Lane lane(String key, Supplier<Duration> penalty) {
    return lanes.computeIfAbsent(key, k -> new Lane(k, penalty));
  }

  /** Lets the lane's waiting logins through, as far as its penalty allows now. */
  private void pump(Lane lane) {
    while (lane.holder == null && !lane.waiting.isEmpty()) {
      Ticket head = lane.waiting.peek();
      Duration penalty = lane.penalty.get();
      if (!penalty.isZero()) {
        long start = Math.max(head.commandNanos, lane.lastAnswer) + penalty.toNanos();
        long wait = start - System.nanoTime();
        if (wait > 0) {
          wakeUp(lane, wait);
          return;
        }
        lane.holder = head;
        head.penalized = true;
      }
      lane.waiting.poll();
      if (lane == head.address && head.name != null) {
        head.stage = Stage.AT_NAME;
        head.name.waiting.add(head);
        pump(head.name);
      } else {
        admit(head);
      }
    }
  }

  private void admit(Ticket ticket) {
    ticket.stage = Stage.ADMITTED;
    boolean penalized = ticket.penalized;
    ticket.complete(() -> ticket.promise.tryComplete(new Pass(penalized, System.nanoTime())));
  }

  private void wakeUp(Lane lane, long nanos) {
    if (lane.timer >= 0) {
      vertx.cancelTimer(lane.timer);
    }
    long ms = Math.max(1, (nanos + 999_999) / 1_000_000);
    lane.timer = vertx.setTimer(ms, id -> {
      synchronized (this) {
        if (lane.timer == id && lanes.get(lane.key) == lane) {
          lane.timer = -1;
          pump(lane);
        }
      }
    });
  }

  /** The ticket is answered, or given up while it waits ({@code onlyIfWaiting}). */
  private void leave(Ticket ticket, boolean onlyIfWaiting) {
    boolean gaveUp;
    synchronized (this) {
      Stage stage = ticket.stage;
      gaveUp = stage == Stage.READING || stage == Stage.AT_ADDRESS || stage == Stage.AT_NAME;
      if (stage == Stage.DONE || onlyIfWaiting && !gaveUp) {
        return;
      }
      if (stage == Stage.AT_ADDRESS) {
        ticket.address.waiting.remove(ticket);
      } else if (stage == Stage.AT_NAME) {
        ticket.name.waiting.remove(ticket);
      }
      ticket.stage = Stage.DONE;
      if (ticket.address != null) {
        // Only a lane the login went through counts its end as an answer.
        long now = System.nanoTime();
        leaveLane(ticket.name, ticket, stage == Stage.ADMITTED, now);
        leaveLane(ticket.address, ticket, stage != Stage.AT_ADDRESS, now);
        // The name's lane first: the address lane's next login may move on into a name's lane.
        if (ticket.name != null) {
          pump(ticket.name);
        }
        pump(ticket.address);
        dropIfIdle(ticket.name);
        dropIfIdle(ticket.address);
      }
    }
    if (gaveUp) {
      ticket.complete(() -> ticket.promise.tryFail(new Cancelled()));
    }
  }

  private static void leaveLane(Lane lane, Ticket ticket, boolean passed, long now) {
    if (lane == null) {
      return;
    }
    lane.inFlight--;
    if (passed) {
      lane.lastAnswer = now;
    }
    if (lane.holder == ticket) {
      lane.holder = null;
    }
  }

  private void dropIfIdle(Lane lane) {
    if (lane != null && lane.inFlight == 0 && lane.holder == null && lane.waiting.isEmpty()) {
      if (lane.timer >= 0) {
        vertx.cancelTimer(lane.timer);
      }
      lanes.remove(lane.key, lane);
    }
  }
}
