// Convention: a benchmark run generates exactly the asked number of tokens (no stop ids, greedy),
// from a fresh cache each run, and the first run is a warm-up whose figures are dropped.
package dev.entity.engine.generate;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.backend.ProcessMemory;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measures inference speed through a {@link Generator}: prefill tokens/s of a prompt of given
 * length, decode tokens/s of the generated tokens, time to the first token, the KV cache's bytes
 * and the process's peak resident memory. Figures are medians over the runs.
 */
public final class DecodeBenchmark {

  /**
   * The figures of one benchmark.
   *
   * @param promptTokens prompt length
   * @param generatedTokens tokens generated per run
   * @param runs measured runs (after one warm-up)
   * @param prefillTokensPerSecond median prompt tokens per second
   * @param decodeTokensPerSecond median generated tokens per second after the first
   * @param firstTokenMillis median time from the start to the first token
   * @param kvCacheBytes bytes of the KV cache and its work buffers
   * @param peakResidentBytes the process's peak resident memory (-1 where unknown)
   */
  public record Figures(
      int promptTokens,
      int generatedTokens,
      int runs,
      double prefillTokensPerSecond,
      double decodeTokensPerSecond,
      double firstTokenMillis,
      long kvCacheBytes,
      long peakResidentBytes) {

    /** One line per figure, for the console and the benchmark report. */
    public String describe() {
      return String.format(
          Locale.ROOT,
          "prompt %d tokens, %d generated, median of %d runs%n"
              + "prefill: %.1f tokens/s (first token after %.1f ms)%n"
              + "decode: %.2f tokens/s%n"
              + "KV cache: %s; peak resident memory: %s",
          promptTokens,
          generatedTokens,
          runs,
          prefillTokensPerSecond,
          firstTokenMillis,
          decodeTokensPerSecond,
          DeviceInfo.formatBytes(kvCacheBytes),
          peakResidentBytes < 0 ? "unknown" : DeviceInfo.formatBytes(peakResidentBytes));
    }
  }

  private DecodeBenchmark() {}

  /**
   * Runs {@code runs} measured generations (plus a warm-up) of {@code generate} tokens after a
   * prompt of {@code promptLength} random ids (seeded, so every run and backend sees the same).
   */
  public static Figures run(Generator generator, int promptLength, int generate, int runs) {
    int context = generator.decoder().config().maxPositions();
    if (promptLength <= 0 || generate <= 0 || runs <= 0) {
      throw new EngineException("prompt length, tokens to generate and runs must be positive");
    }
    if (promptLength + generate > context) {
      throw new EngineException(
          "prompt "
              + promptLength
              + " + generated "
              + generate
              + " tokens exceed the model's context of "
              + context);
    }
    int vocab = generator.decoder().config().vocabSize();
    int[] prompt = new SplittableRandom(42).ints(promptLength, 0, vocab).toArray();
    GenerationOptions options = GenerationOptions.greedy(generate);
    Generator quiet = new Generator(generator.decoder(), new int[0], ids -> "");
    try {
      double[] prefill = new double[runs];
      double[] decode = new double[runs];
      double[] first = new double[runs];
      for (int r = -1; r < runs; r++) {
        quiet.forget();
        GenerationResult g = quiet.generate(prompt, options, null);
        if (r >= 0) {
          prefill[r] = g.prefillTokensPerSecond();
          decode[r] = g.decodeTokensPerSecond();
          first[r] = g.prefillNanos() / 1e6;
        }
      }
      return new Figures(
          promptLength,
          generate,
          runs,
          median(prefill),
          median(decode),
          median(first),
          quiet.cacheBytes(),
          ProcessMemory.peakResidentBytes());
    } finally {
      quiet.close();
    }
  }

  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
