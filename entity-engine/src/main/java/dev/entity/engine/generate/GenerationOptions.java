// Convention: neutral values switch a step off, as in Hugging Face's generate: temperature 0 means
// greedy, top_k 0 and top_p 1 keep every token, repetition_penalty 1 changes nothing.
package dev.entity.engine.generate;

import dev.entity.engine.EngineException;
import java.util.List;

/**
 * How to generate: how many tokens at most, how to pick each one (greedy, or sampled with
 * temperature, top-k and top-p from a PRNG seeded with {@code seed}), the repetition penalty, and
 * what ends generation besides the model's own end-of-turn tokens (extra stop ids and stop
 * strings).
 *
 * @param maxNewTokens most tokens to generate (the stop token not counted)
 * @param temperature divides the logits; 0 picks the most likely token (greedy)
 * @param topK keep only the k most likely tokens (0: all)
 * @param topP keep the smallest set of most likely tokens whose probability reaches p (1: all)
 * @param repetitionPenalty Hugging Face's CTRL-style penalty on every token already in the
 *     sequence: positive logits divided by it, negative ones multiplied (1: off)
 * @param seed seed of the sampling PRNG; the same seed and inputs give the same tokens
 * @param stopTokenIds ids that end generation, in addition to the model's own
 * @param stopStrings texts that end generation; the text is cut before the first one
 */
public record GenerationOptions(
    int maxNewTokens,
    double temperature,
    int topK,
    double topP,
    double repetitionPenalty,
    long seed,
    int[] stopTokenIds,
    List<String> stopStrings) {

  public GenerationOptions {
    if (maxNewTokens < 0) {
      throw new EngineException("max_new_tokens must be >= 0, got " + maxNewTokens);
    }
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new EngineException("temperature must be a finite number >= 0, got " + temperature);
    }
    if (topK < 0) {
      throw new EngineException("top_k must be >= 0 (0 keeps every token), got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new EngineException("top_p must be in (0, 1], got " + topP);
    }
    if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
      throw new EngineException(
          "repetition_penalty must be a finite number > 0 (1 is off), got " + repetitionPenalty);
    }
    stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
    for (String s : stopStrings) {
      if (s.isEmpty()) {
        throw new EngineException("a stop string must not be empty");
      }
    }
  }

  /** Greedy decoding of at most {@code maxNewTokens} tokens, nothing else switched on. */
  public static GenerationOptions greedy(int maxNewTokens) {
    return new GenerationOptions(maxNewTokens, 0, 0, 1, 1, 0, null, null);
  }

  /** Sampling with a temperature, top-p and a seed (top-k off, no penalty). */
  public static GenerationOptions sampled(
      int maxNewTokens, double temperature, double topP, long seed) {
    return new GenerationOptions(maxNewTokens, temperature, 0, topP, 1, seed, null, null);
  }

  /** Whether tokens are picked by argmax (temperature 0). */
  public boolean greedy() {
    return temperature == 0;
  }

  @Override
  public int[] stopTokenIds() {
    return stopTokenIds.clone();
  }

  public GenerationOptions withMaxNewTokens(int n) {
    return new GenerationOptions(
        n, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, stopStrings);
  }

  public GenerationOptions withTopK(int k) {
    return new GenerationOptions(
        maxNewTokens, temperature, k, topP, repetitionPenalty, seed, stopTokenIds, stopStrings);
  }

  public GenerationOptions withRepetitionPenalty(double penalty) {
    return new GenerationOptions(
        maxNewTokens, temperature, topK, topP, penalty, seed, stopTokenIds, stopStrings);
  }

  public GenerationOptions withSeed(long s) {
    return new GenerationOptions(
        maxNewTokens, temperature, topK, topP, repetitionPenalty, s, stopTokenIds, stopStrings);
  }

  public GenerationOptions withStopTokenIds(int... ids) {
    return new GenerationOptions(
        maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, ids, stopStrings);
  }

  public GenerationOptions withStopStrings(List<String> strings) {
    return new GenerationOptions(
        maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, strings);
  }
}
