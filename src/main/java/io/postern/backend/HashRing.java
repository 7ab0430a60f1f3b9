package io.postern.backend;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Consistent hashing of user names onto the servers of a pool, with weights (ketama's shape):
 * each server owns {@value #POINTS_PER_WEIGHT} points per unit of weight on a 64-bit ring, and a
 * user belongs to the owner of the first point at or after the hash of the name. Skipping the
 * servers that are down while walking on moves only their users, each to the next live server
 * after it; when a server returns, exactly those users come back. Immutable and thread-safe.
 */
public final class HashRing {

  /**
   * Enough points that a server's share stays within a few percent of its weight (ketama uses
   * 160 too); few enough that a ring of 100 servers of weight 10 is 160 000 longs.
   */
  static final int POINTS_PER_WEIGHT = 160;

  private final int servers;
  private final long[] points;
  private final int[] owners;

  /** {@code weights.get(i)} is server i's weight, 1 or more. */
  public HashRing(List<String> names, List<Integer> weights) {
    if (names.isEmpty() || names.size() != weights.size() || names.size() > MAX_SERVERS) {
      throw new IllegalArgumentException("one weight per server, 1 to " + MAX_SERVERS
          + " servers");
    }
    servers = names.size();
    int total = weights.stream().mapToInt(Integer::intValue).sum() * POINTS_PER_WEIGHT;
    long[] raw = new long[total];
    int n = 0;
    for (int s = 0; s < servers; s++) {
      for (int p = 0; p < weights.get(s) * POINTS_PER_WEIGHT; p++) {
        // The point depends on the server's name, not its position: reordering the list or
        // adding a server elsewhere leaves every other server's points where they were.
        raw[n++] = (hash(names.get(s) + "#" + p) & ~0xffffL) | s;
      }
    }
    // The low 16 bits carry the owner, so one sort orders points and keeps owners with them.
    Arrays.sort(raw);
    points = new long[total];
    owners = new int[total];
    for (int i = 0; i < total; i++) {
      points[i] = raw[i] & ~0xffffL;
      owners[i] = (int) (raw[i] & 0xffff);
    }
  }

  /** The most servers a ring can tell apart (the owner rides in 16 bits of each point). */
  public static final int MAX_SERVERS = 1 << 16;

  /**
   * The servers for {@code key} in the order to try them: the key's own server first, then each
   * next distinct owner along the ring, keeping only those {@code usable} accepts.
   */
  public int[] order(String key, IntPredicate usable) {
    int start = Arrays.binarySearch(points, hash(key) & ~0xffffL);
    if (start < 0) {
      start = -start - 1;
    }
    boolean[] seen = new boolean[servers];
    int[] out = new int[servers];
    int found = 0;
    int distinct = 0;
    for (int i = 0; i < points.length && distinct < servers; i++) {
      int owner = owners[(start + i) % points.length];
      if (!seen[owner]) {
        seen[owner] = true;
        distinct++;
        if (usable.test(owner)) {
          out[found++] = owner;
        }
      }
    }
    return Arrays.copyOf(out, found);
  }

  /** The key's first usable server, or -1 when none is. */
  public int first(String key, IntPredicate usable) {
    int[] order = order(key, usable);
    return order.length == 0 ? -1 : order[0];
  }

  /** 64-bit FNV-1a over UTF-8, then a finalizer (splitmix64) that spreads near-equal names. */
  static long hash(String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
