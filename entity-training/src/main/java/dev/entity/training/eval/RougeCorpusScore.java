package dev.entity.training.eval;

import java.util.List;

/**
 * ROUGE over an evaluation corpus: the per-pair scores in corpus order and the mean F-measure of
 * each ROUGE type over the pairs (0-1 scale), the usual single figure for a corpus. The means are
 * plain averages, not rouge-score's bootstrap "mid" estimate (which is random).
 */
public record RougeCorpusScore(
    List<RougeScores> pairs, double rouge1, double rouge2, double rougeL) {

  public RougeCorpusScore {
    pairs = List.copyOf(pairs);
  }
}
