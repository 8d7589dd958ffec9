// Convention: the steps run in Hugging Face's order (repetition penalty, temperature, top-k,
// top-p), and random draws come only from an L64X128MixRandom seeded once per generation, an
// algorithm the JDK specifies exactly, so a seed gives the same tokens on every JVM.
package dev.entity.engine.generate;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token from a row of logits: greedy (argmax; the lowest id wins a tie), or a draw
 * from the softmax of the penalized, temperature-scaled logits restricted to the top-k and top-p
 * tokens. One sampler serves one generation; its PRNG advances with every sampled token.
 */
public final class Sampler {

  private final GenerationOptions options;
  private final RandomGenerator random;

  public Sampler(GenerationOptions options) {
    this.options = options;
    this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(options.seed());
  }

  /**
   * The next token for {@code logits} (V; modified in place), given every token of the sequence so
   * far in {@code seen} (prompt and generated) for the repetition penalty.
   */
  public int next(float[] logits, boolean[] seen) {
    if (options.repetitionPenalty() != 1 && seen != null) {
      penalize(logits, seen, (float) options.repetitionPenalty());
    }
    if (options.greedy()) {
      return argmax(logits);
    }
    float inv = (float) (1 / options.temperature());
    for (int i = 0; i < logits.length; i++) {
      logits[i] *= inv;
    }
    if (options.topK() > 0 && options.topK() < logits.length) {
      keepTopK(logits, options.topK());
    }
    float max = logits[argmax(logits)];
    double[] probs = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      probs[i] = logits[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(logits[i] - max);
      sum += probs[i];
    }
    for (int i = 0; i < probs.length; i++) {
      probs[i] /= sum;
    }
    if (options.topP() < 1) {
      keepTopP(probs, options.topP());
    }
    return draw(probs, random.nextDouble());
  }

  /** Index of the largest value; the first one on a tie. */
  public static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }

  static void penalize(float[] logits, boolean[] seen, float penalty) {
    for (int i = 0; i < logits.length && i < seen.length; i++) {
      if (seen[i]) {
        logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty;
      }
    }
  }

  /** Sets every logit below the k-th largest to -inf (ties with the k-th are kept, as in HF). */
  static void keepTopK(float[] logits, int k) {
    float[] sorted = logits.clone();
    Arrays.sort(sorted);
    float kth = sorted[sorted.length - k];
    for (int i = 0; i < logits.length; i++) {
      if (logits[i] < kth) {
        logits[i] = Float.NEGATIVE_INFINITY;
      }
    }
  }

  /**
   * Zeroes (and renormalizes around) every token outside the smallest set of most likely tokens
   * whose probability reaches {@code p}; the most likely token always stays.
   */
  static void keepTopP(double[] probs, double p) {
    int count = 0;
    long[] keys = new long[probs.length];
    for (int i = 0; i < probs.length; i++) {
      if (probs[i] > 0) {
        // positive floats order like their bits; index in the low word keeps the sort stable
        keys[count++] = ((long) Float.floatToIntBits((float) probs[i]) << 32) | (~i & 0xffffffffL);
      }
    }
    long[] order = Arrays.copyOf(keys, count);
    Arrays.sort(order); // ascending: walk from the end for the most likely first
    boolean[] keep = new boolean[probs.length];
    double cumulative = 0;
    for (int j = count - 1; j >= 0 && cumulative < p; j--) {
      int i = (int) ~order[j];
      keep[i] = true;
      cumulative += probs[i];
    }
    double sum = 0;
    for (int i = 0; i < probs.length; i++) {
      if (!keep[i]) {
        probs[i] = 0;
      }
      sum += probs[i];
    }
    for (int i = 0; i < probs.length; i++) {
      probs[i] /= sum;
    }
  }

  /** The token whose cumulative probability interval holds {@code u} in [0, 1). */
  static int draw(double[] probs, double u) {
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < probs.length; i++) {
      if (probs[i] > 0) {
        cumulative += probs[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    return last; // rounding left u just above the total
  }
}
