package dev.entity.training.eval;

import dev.entity.core.EntityException;

/**
 * Perplexity of a model over evaluation text: {@code exp(mean token loss)}, where the mean is the
 * natural-log cross-entropy averaged over the {@code tokens} that carry a label (the same masking
 * as training). The evaluation plugin measures the losses with the engine; this record only turns
 * them into the figure and keeps the token count so partial results can be merged.
 */
public record Perplexity(double meanLoss, long tokens) {

  public Perplexity {
    if (tokens <= 0) {
      throw new EntityException(
          "perplexity needs at least one labelled token; got "
              + tokens
              + " (is every evaluation sample masked out or empty?)");
    }
    if (!Double.isFinite(meanLoss) || meanLoss < 0) {
      throw new EntityException(
          "perplexity needs a finite, non-negative mean loss; got "
              + meanLoss
              + " (the model diverged or the loss was not measured)");
    }
  }

  /** From a summed loss over {@code tokens} labelled tokens. */
  public static Perplexity fromLossSum(double lossSum, long tokens) {
    if (tokens <= 0) {
      return new Perplexity(0.0, tokens); // throws with the token-count message
    }
    return new Perplexity(lossSum / tokens, tokens);
  }

  /** {@code exp(meanLoss)}. */
  public double value() {
    return Math.exp(meanLoss);
  }

  /** Both measurements together, weighted by their token counts. */
  public Perplexity merge(Perplexity other) {
    long total = tokens + other.tokens;
    return new Perplexity((meanLoss * tokens + other.meanLoss * other.tokens) / total, total);
  }
}
