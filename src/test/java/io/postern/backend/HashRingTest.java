package io.postern.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The ring that places users on servers: the same user lands on the same server, shares follow
 * weights, and a server leaving or returning moves only its own users. Shares are measured over
 * 100 000 made-up user names; the printed figures go into the README.
 */
class HashRingTest {

  private static final int USERS = 100_000;
  private static final IntPredicate ALL = i -> true;

  @Test
  void aUserShouldAlwaysReachTheSameServerWhateverTheOrderOfTheList() {
    HashRing ring = new HashRing(List.of("a", "b", "c"), List.of(1, 1, 1));
    HashRing reordered = new HashRing(List.of("c", "a", "b"), List.of(1, 1, 1));
    List<String> names = List.of("a", "b", "c");
    List<String> reorderedNames = List.of("c", "a", "b");
    for (int u = 0; u < 1000; u++) {
      String user = "user" + u + "@example.net";
      int first = ring.first(user, ALL);
      assertThat(ring.first(user, ALL)).isEqualTo(first);
      assertThat(reorderedNames.get(reordered.first(user, ALL))).isEqualTo(names.get(first));
    }
  }

  @Test
  void sharesShouldFollowTheWeights() {
    HashRing ring = new HashRing(List.of("a", "b", "c"), List.of(1, 2, 1));
    int[] counts = new int[3];
    for (int u = 0; u < USERS; u++) {
      counts[ring.first("user" + u, ALL)]++;
    }
    System.out.printf("weights 1/2/1 -> shares %s of %d users%n", Arrays.toString(counts), USERS);
    assertThat(counts[0] / (double) USERS).isCloseTo(0.25, within(0.04));
    assertThat(counts[1] / (double) USERS).isCloseTo(0.50, within(0.04));
    assertThat(counts[2] / (double) USERS).isCloseTo(0.25, within(0.04));
  }

  @Test
  void addingAThirdServerShouldMoveOnlyAboutAThirdOfTheUsersAllToTheNewServer() {
    HashRing two = new HashRing(List.of("a", "b"), List.of(1, 1));
    HashRing three = new HashRing(List.of("a", "b", "c"), List.of(1, 1, 1));
    int moved = 0;
    for (int u = 0; u < USERS; u++) {
      String user = "user" + u;
      int before = two.first(user, ALL);
      int after = three.first(user, ALL);
      if (before != after) {
        moved++;
        assertThat(after).as("a moved user goes to the new server only").isEqualTo(2);
      }
    }
    System.out.printf("2 -> 3 servers: %.1f%% of users moved (ideal 33.3%%)%n",
        100.0 * moved / USERS);
    assertThat(moved / (double) USERS).isCloseTo(1 / 3.0, within(0.05));
  }

  @Test
  void removingAServerShouldMoveOnlyItsUsersAndSpreadThemOverTheOthers() {
    HashRing three = new HashRing(List.of("a", "b", "c"), List.of(1, 1, 1));
    HashRing two = new HashRing(List.of("a", "b"), List.of(1, 1));
    int moved = 0;
    Map<Integer, Integer> movedTo = new HashMap<>();
    for (int u = 0; u < USERS; u++) {
      String user = "user" + u;
      int before = three.first(user, ALL);
      int after = two.first(user, ALL);
      if (before != 2) {
        assertThat(after).as("users of a and b stay").isEqualTo(before);
      } else {
        moved++;
        movedTo.merge(after, 1, Integer::sum);
      }
    }
    System.out.printf("3 -> 2 servers: %.1f%% of users moved (ideal 33.3%%), to a/b: %s%n",
        100.0 * moved / USERS, movedTo);
    assertThat(moved / (double) USERS).isCloseTo(1 / 3.0, within(0.05));
    assertThat(movedTo.get(0) / (double) moved).isCloseTo(0.5, within(0.1));
  }

  @Test
  void aServerThatIsDownShouldHandItsUsersToTheNextAndGetThemBackWhenItReturns() {
    HashRing ring = new HashRing(List.of("a", "b", "c", "d"), List.of(1, 1, 1, 1));
    boolean[] up = {true, false, true, true};
    for (int u = 0; u < 10_000; u++) {
      String user = "user" + u;
      int home = ring.first(user, ALL);
      int now = ring.first(user, i -> up[i]);
      if (home != 1) {
        assertThat(now).as("only b's users move while b is down").isEqualTo(home);
      } else {
        assertThat(now).isNotEqualTo(1);
        // The fallback is the next server on the user's own order, so it is stable too.
        assertThat(now).isEqualTo(ring.order(user, ALL)[1]);
      }
    }
  }

  @Test
  void theOrderShouldListEachUsableServerOnceAndNoneWhenAllAreDown() {
    HashRing ring = new HashRing(List.of("a", "b", "c"), List.of(1, 3, 1));
    int[] order = ring.order("alice", ALL);
    assertThat(IntStream.of(order).sorted().toArray()).containsExactly(0, 1, 2);
    assertThat(ring.order("alice", i -> i != 1)).doesNotContain(1).hasSize(2);
    assertThat(ring.order("alice", i -> false)).isEmpty();
    assertThat(ring.first("alice", i -> false)).isEqualTo(-1);
  }

  @Test
  void aRingOfAHundredServersShouldStillPlaceUsersEvenly() {
    List<String> names = IntStream.range(0, 100).mapToObj(i -> "imap" + i + ".example.net")
        .toList();
    HashRing ring = new HashRing(names, names.stream().map(n -> 1).toList());
    int[] counts = new int[100];
    for (int u = 0; u < USERS; u++) {
      counts[ring.first("user" + u, ALL)]++;
    }
    int min = IntStream.of(counts).min().orElseThrow();
    int max = IntStream.of(counts).max().orElseThrow();
    System.out.printf("100 servers: users per server min %d max %d (mean %d)%n", min, max,
        USERS / 100);
    assertThat(min).isGreaterThan(USERS / 100 / 2);
    assertThat(max).isLessThan(USERS / 100 * 2);
  }
}
