// Convention: every component is optional (null = not checked) and binds from the snake_case YAML
// key of the evaluation plugin's `thresholds` block (max_perplexity, min_bleu, min_rouge_l, ...).
// Scales are the metrics' own: BLEU 0-100, ROUGE 0-1, improvements in those units (perplexity:
// how much lower the tuned model's is).
package dev.entity.training.eval;

import dev.entity.core.EntityException;

/**
 * The bar a tuned model must clear for the evaluation to PASS: absolute limits on perplexity, BLEU
 * and ROUGE, and minimum improvements over the base model. An improvement threshold may be negative
 * to allow a bounded regression. {@link Verdict#judge} applies them.
 */
public record Thresholds(
    Double maxPerplexity,
    Double minBleu,
    Double minRouge1,
    Double minRouge2,
    Double minRougeL,
    Double minPerplexityImprovement,
    Double minBleuImprovement,
    Double minRougeLImprovement) {

  public Thresholds {
    check("max_perplexity", maxPerplexity, 1.0, Double.POSITIVE_INFINITY, "perplexity is >= 1");
    check("min_bleu", minBleu, 0.0, 100.0, "BLEU is on sacrebleu's 0-100 scale");
    check("min_rouge_1", minRouge1, 0.0, 1.0, "ROUGE is on rouge-score's 0-1 scale");
    check("min_rouge_2", minRouge2, 0.0, 1.0, "ROUGE is on rouge-score's 0-1 scale");
    check("min_rouge_l", minRougeL, 0.0, 1.0, "ROUGE is on rouge-score's 0-1 scale");
    check("min_perplexity_improvement", minPerplexityImprovement, "base minus tuned perplexity");
    check("min_bleu_improvement", minBleuImprovement, "BLEU points, 0-100 scale");
    check("min_rouge_l_improvement", minRougeLImprovement, "ROUGE-L F-measure, 0-1 scale");
  }

  /** No thresholds: every evaluation passes. */
  public static Thresholds none() {
    return new Thresholds(null, null, null, null, null, null, null, null);
  }

  private static void check(String field, Double value, double lo, double hi, String why) {
    if (value != null && !(value >= lo && value <= hi)) {
      throw new EntityException(
          String.format(
              "thresholds.%s = %s is out of range [%s, %s] (%s); fix the value in the"
                  + " evaluation config",
              field, value, lo, hi == Double.POSITIVE_INFINITY ? "inf" : hi, why));
    }
  }

  private static void check(String field, Double value, String unit) {
    if (value != null && !Double.isFinite(value)) {
      throw new EntityException(
          "thresholds." + field + " = " + value + " must be a finite number (" + unit + ")");
    }
  }
}
