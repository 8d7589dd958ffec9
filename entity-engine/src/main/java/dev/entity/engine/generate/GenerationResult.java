package dev.entity.engine.generate;

/**
 * One generation: the new token ids (without the stop token), their text (cut before a stop
 * string), why it ended, and the timings: the prefill (prompt tokens not already cached, giving the
 * first token) and the decode steps after it.
 *
 * @param tokens generated ids, the stop token excluded
 * @param text decoded text of {@code tokens}, special tokens skipped, cut before a stop string
 * @param finishReason why generation ended
 * @param stopToken the stop id produced, or -1
 * @param promptTokens tokens in the prompt
 * @param prefilledTokens prompt tokens run through the model (the rest came from the cache)
 * @param prefillNanos time to run the prefilled tokens and pick the first token
 * @param decodeSteps single-token decoding steps after the prefill
 * @param decodeNanos time of those steps
 */
public record GenerationResult(
    int[] tokens,
    String text,
    FinishReason finishReason,
    int stopToken,
    int promptTokens,
    int prefilledTokens,
    long prefillNanos,
    int decodeSteps,
    long decodeNanos) {

  public GenerationResult {
    tokens = tokens.clone();
  }

  @Override
  public int[] tokens() {
    return tokens.clone();
  }

  /** Prefill throughput, tokens per second (0 when nothing was prefilled). */
  public double prefillTokensPerSecond() {
    return prefillNanos == 0 ? 0 : prefilledTokens * 1e9 / prefillNanos;
  }

  /** Decode throughput, tokens per second (0 without decode steps). */
  public double decodeTokensPerSecond() {
    return decodeNanos == 0 ? 0 : decodeSteps * 1e9 / decodeNanos;
  }

  /** Whether the model ended by itself (stop token or stop string), not by a length limit. */
  public boolean stoppedProperly() {
    return finishReason == FinishReason.STOP_TOKEN || finishReason == FinishReason.STOP_STRING;
  }
}
