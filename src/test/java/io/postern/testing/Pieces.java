package io.postern.testing;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Fuzz inputs cut into the pieces a network may deliver them in, for the decoders' targets. */
public final class Pieces {

  private Pieces() {}

  /** Up to {@code max} cut points; read them before the payload, which is the rest of the input. */
  public static int[] cutPoints(FuzzedDataProvider data, int max) {
    int[] cuts = new int[data.consumeInt(0, max)];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = data.consumeInt(0, Integer.MAX_VALUE);
    }
    return cuts;
  }

  /** {@code input} cut at each point (taken modulo its length + 1): the pieces, in order. */
  public static List<byte[]> cut(byte[] input, int[] cuts) {
    int[] at = new int[cuts.length + 2];
    for (int i = 0; i < cuts.length; i++) {
      at[i] = cuts[i] % (input.length + 1);
    }
    at[cuts.length] = 0;
    at[cuts.length + 1] = input.length;
    Arrays.sort(at);
    List<byte[]> pieces = new ArrayList<>();
    for (int i = 0; i + 1 < at.length; i++) {
      if (at[i + 1] > at[i]) {
        pieces.add(Arrays.copyOfRange(input, at[i], at[i + 1]));
      }
    }
    return pieces;
  }

  /** {@code input} one byte at a time. */
  public static List<byte[]> bytewise(byte[] input) {
    List<byte[]> pieces = new ArrayList<>(input.length);
    for (byte b : input) {
      pieces.add(new byte[] {b});
    }
    return pieces;
  }

  /** {@code input} in one piece. */
  public static List<byte[]> whole(byte[] input) {
    return List.of(input);
  }
}
