package io.postern.listener;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.postern.metrics.ListenerMeters.Rejection;
import java.net.InetAddress;

/**
 * One accepted connection's standing with the connection limits: the slots it holds (on this
 * instance and, with a shared store, across instances) and, when refused on a listener whose
 * refusal is a protocol line, why. Attached to the Netty channel at accept; everything it holds
 * is given back exactly once, when the channel closes, whatever path the connection took
 * (refused, TLS or PROXY header failed, session ended).
 */
final class Admission {

  static final AttributeKey<Admission> KEY = AttributeKey.valueOf("postern.admission");

  private final ConnectionLimits limits;
  private boolean holdsTotal;
  private InetAddress source;
  private Rejection refusal;
  private boolean knowsClient;
  private boolean released;
  /** Gives back the connection's count across instances ({@link ClusterConnections}). */
  private Runnable acrossInstances;

  Admission(ConnectionLimits limits) {
    this.limits = limits;
  }

  static Admission of(Channel channel) {
    return channel.attr(KEY).get();
  }

  /** Takes a slot of {@code limits.max-connections}; false if there is none. */
  synchronized boolean takeTotal() {
    if (released) {
      return false;
    }
    holdsTotal = limits.takeTotal();
    return holdsTotal;
  }

  /** Takes a slot of {@code limits.max-connections-per-ip} for {@code address}. */
  synchronized boolean takeSource(InetAddress address) {
    if (released || !limits.takeSource(address)) {
      return false;
    }
    source = address;
    return true;
  }

  /** The address whose slot of max-connections-per-ip this holds, or null (none, or given back). */
  synchronized InetAddress source() {
    return source;
  }

  /**
   * The connection is counted across instances too: {@code giveBack} undoes that, once, with the
   * other slots; at once if they have been given back already (the connection ended while the
   * store was asked).
   */
  void countedAcrossInstances(Runnable giveBack) {
    synchronized (this) {
      if (source != null) {
        acrossInstances = giveBack;
        return;
      }
    }
    giveBack.run();
  }

  /**
   * Refused, but the refusal is said in the protocol's words by the session layer: gives back
   * what was taken at once (the goodbye needs no slot).
   */
  synchronized void refuse(Rejection why) {
    refusal = why;
    releaseSlots();
  }

  /** Why the connection was refused, or null if it was admitted. */
  synchronized Rejection refusal() {
    return refusal;
  }

  /** The client's address is known: at accept, or on a PROXY listener from a usable header. */
  synchronized void clientKnown() {
    knowsClient = true;
  }

  synchronized boolean knowsClient() {
    return knowsClient;
  }

  /** Gives back every slot held; only the first call counts. */
  synchronized void release() {
    if (!released) {
      released = true;
      releaseSlots();
    }
  }

  private void releaseSlots() {
    if (holdsTotal) {
      holdsTotal = false;
      limits.releaseTotal();
    }
    if (source != null) {
      limits.releaseSource(source);
      source = null;
    }
    if (acrossInstances != null) {
      Runnable giveBack = acrossInstances;
      acrossInstances = null;
      // An asynchronous call: nothing waits for it under this lock.
      giveBack.run();
    }
  }
}
