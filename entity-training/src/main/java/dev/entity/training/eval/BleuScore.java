package dev.entity.training.eval;

import java.util.List;

/**
 * A BLEU result in sacrebleu's terms ({@code BLEUScore}): the score and the per-order precisions on
 * a 0-100 scale, the matched n-gram counts and the hypothesis n-gram totals per order (index 0 is
 * unigrams), the brevity penalty, and the hypothesis and reference lengths in 13a tokens.
 */
public record BleuScore(
    double score,
    List<Long> counts,
    List<Long> totals,
    List<Double> precisions,
    double bp,
    long sysLen,
    long refLen) {

  public BleuScore {
    counts = List.copyOf(counts);
    totals = List.copyOf(totals);
    precisions = List.copyOf(precisions);
  }

  /** Hypothesis length over reference length, 0 when the references are empty (as sacrebleu). */
  public double ratio() {
    return refLen == 0 ? 0.0 : (double) sysLen / refLen;
  }

  /** sacrebleu's one-line form, e.g. {@code BLEU = 35.21 70.0/44.4/25.0/14.3 (BP = 1.000 ...)}. */
  @Override
  public String toString() {
    StringBuilder prec = new StringBuilder();
    for (double p : precisions) {
      prec.append(prec.isEmpty() ? "" : "/").append(String.format("%.1f", p));
    }
    return String.format(
        "BLEU = %.2f %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)",
        score, prec, bp, ratio(), sysLen, refLen);
  }
}
