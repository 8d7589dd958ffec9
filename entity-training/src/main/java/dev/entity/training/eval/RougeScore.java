package dev.entity.training.eval;

/**
 * One ROUGE measure for one prediction against one target, on a 0-1 scale as rouge-score reports
 * it: precision over the prediction's n-grams (or tokens for ROUGE-L), recall over the target's,
 * and their harmonic mean ({@code fmeasure}, 0 when both are 0).
 */
public record RougeScore(double precision, double recall, double fmeasure) {

  /** The score of a pair with nothing in common, or with an empty side. */
  public static final RougeScore ZERO = new RougeScore(0.0, 0.0, 0.0);

  /** Builds the score from precision and recall, with rouge-score's F-measure. */
  public static RougeScore of(double precision, double recall) {
    double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    return new RougeScore(precision, recall, f);
  }
}
