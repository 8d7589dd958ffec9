// Convention: the order of an epoch depends only on (kind, seed, epoch, row lengths, block size),
// never on the micro-batch size, so a source rebuilt with a smaller micro-batch reads the same
// rows.
package dev.entity.training.data;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The order in which an epoch visits rows. {@link Kind#SHUFFLED}: a seeded permutation. {@link
 * Kind#LENGTH_GROUPED}: as Hugging Face's length-grouped sampler — shuffle, cut into mega-chunks of
 * {@link #MEGA_BLOCKS} blocks, sort each chunk longest first, cut it into blocks of {@code
 * blockSize} rows (a micro-batch's worth), shuffle the full blocks, and put the block holding the
 * longest row first so a run meets its peak memory at its first step; a short tail block stays
 * last. {@link Kind#LONGEST_FIRST}: all rows by decreasing length, the same every epoch
 * (evaluation).
 */
final class EpochOrder {

  /** Blocks per mega-chunk in length-grouped ordering. */
  static final int MEGA_BLOCKS = 50;

  /** How rows are ordered in each epoch. */
  enum Kind {
    SHUFFLED,
    LENGTH_GROUPED,
    LONGEST_FIRST
  }

  private EpochOrder() {}

  static int[] of(Kind kind, int[] lengths, int blockSize, long seed, int epoch) {
    int n = lengths.length;
    if (kind == Kind.LONGEST_FIRST) {
      return sortedLongestFirst(IntStream.range(0, n).toArray(), lengths);
    }
    SplitMix64 rng = new SplitMix64(seed ^ 0x5851F42D4C957F2DL * (epoch + 1L));
    int[] perm = IntStream.range(0, n).toArray();
    shuffle(perm, rng);
    if (kind == Kind.SHUFFLED) {
      return perm;
    }
    int mega = blockSize * MEGA_BLOCKS;
    for (int from = 0; from < n; from += mega) {
      int to = Math.min(n, from + mega);
      int[] chunk = sortedLongestFirst(Arrays.copyOfRange(perm, from, to), lengths);
      System.arraycopy(chunk, 0, perm, from, chunk.length);
    }
    int fullBlocks = n / blockSize;
    int[] blocks = IntStream.range(0, fullBlocks).toArray();
    shuffle(blocks, rng);
    int longestBlock = -1;
    for (int b = 0; b < fullBlocks; b++) {
      if (longestBlock < 0
          || lengths[perm[blocks[b] * blockSize]]
              > lengths[perm[blocks[longestBlock] * blockSize]]) {
        longestBlock = b;
      }
    }
    if (longestBlock > 0) {
      int first = blocks[0];
      blocks[0] = blocks[longestBlock];
      blocks[longestBlock] = first;
    }
    int[] order = new int[n];
    int o = 0;
    for (int b : blocks) {
      System.arraycopy(perm, b * blockSize, order, o, blockSize);
      o += blockSize;
    }
    System.arraycopy(perm, o, order, o, n - o); // the tail block keeps its place
    return order;
  }

  private static int[] sortedLongestFirst(int[] rows, int[] lengths) {
    return Arrays.stream(rows)
        .boxed()
        .sorted(Comparator.<Integer>comparingInt(i -> -lengths[i]).thenComparingInt(i -> i))
        .mapToInt(Integer::intValue)
        .toArray();
  }

  private static void shuffle(int[] a, SplitMix64 rng) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
