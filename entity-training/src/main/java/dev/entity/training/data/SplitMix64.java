package dev.entity.training.data;

// The generator is written out here rather than taken from java.util so that a seed gives the same
// sequence on every JDK and machine, forever: dataset splits must be reproducible across releases.

import java.util.List;

/**
 * Steele, Lea and Flood's SplitMix64 generator (the constants of Vigna's reference C code) with a
 * Fisher-Yates shuffle on top. Not for cryptography.
 */
final class SplitMix64 {

  private long state;

  SplitMix64(long seed) {
    this.state = seed;
  }

  long nextLong() {
    long z = (state += 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, bound), by rejection so no value is favoured. */
  int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    long bits;
    long value;
    do {
      bits = nextLong() >>> 1;
      value = bits % bound;
    } while (bits - value + (bound - 1) < 0);
    return (int) value;
  }

  /** Fisher-Yates: for i from n-1 down to 1, swap element i with element nextInt(i + 1). */
  <T> void shuffle(List<T> list) {
    for (int i = list.size() - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      T tmp = list.get(i);
      list.set(i, list.get(j));
      list.set(j, tmp);
    }
  }
}
