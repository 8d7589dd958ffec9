// Convention: references come as sacrebleu's reference *streams*: stream k holds the k-th
// reference of every segment, all streams as long as the hypotheses; a null entry means "this
// segment has no k-th reference". Statistics are summed over segments before the score is formed
// (corpus BLEU is not a mean of sentence BLEU).
package dev.entity.training.eval;

import dev.entity.core.EntityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU exactly as sacrebleu computes it with its defaults: 13a tokenization, case kept, n-grams up
 * to order 4, clipped counts against the per-n-gram maximum over a segment's references, the
 * closest reference length (the shorter one on ties), brevity penalty, and "exp" smoothing (the
 * NIST mteval-v13a rule: the k-th order with no match gets precision 100 / (2^k * total)). {@link
 * #corpus} is {@code sacrebleu.corpus_bleu} (effective order off); {@link #sentence} is {@code
 * sacrebleu.sentence_bleu} (effective order on).
 */
public final class Bleu {

  /** sacrebleu's default maximum n-gram order. */
  public static final int MAX_ORDER = 4;

  // sacrebleu's my_log floor for log(0): makes a zero precision drive the score to 0.
  private static final double LOG_ZERO = -9999999999.0;

  private Bleu() {}

  /**
   * Corpus BLEU of {@code hypotheses} against one or more reference streams.
   *
   * @throws EntityException if the corpus is empty, a stream's length differs from the number of
   *     hypotheses, or a segment has no reference in any stream
   */
  public static BleuScore corpus(List<String> hypotheses, List<List<String>> referenceStreams) {
    requireCorpus("BLEU", hypotheses, referenceStreams);
    long[] stats = new long[2 + 2 * MAX_ORDER];
    for (int i = 0; i < hypotheses.size(); i++) {
      List<String> refs = segmentReferences(referenceStreams, i);
      long[] segment = segmentStatistics(hypotheses.get(i), refs);
      for (int k = 0; k < stats.length; k++) {
        stats[k] += segment[k];
      }
    }
    return fromStatistics(stats, false);
  }

  /** Corpus BLEU against a single reference per hypothesis. */
  public static BleuScore corpusSingle(List<String> hypotheses, List<String> references) {
    return corpus(hypotheses, List.of(references));
  }

  /**
   * Sentence BLEU of one hypothesis against its references, as {@code sacrebleu.sentence_bleu}: exp
   * smoothing with effective order, so orders longer than the hypothesis do not zero it.
   */
  public static BleuScore sentence(String hypothesis, List<String> references) {
    List<String> refs = new ArrayList<>();
    for (String r : references) {
      if (r != null) {
        refs.add(r);
      }
    }
    if (hypothesis == null || refs.isEmpty()) {
      throw new EntityException(
          "sentence BLEU needs a hypothesis and at least one non-null reference; got "
              + (hypothesis == null ? "a null hypothesis" : "no reference"));
    }
    return fromStatistics(segmentStatistics(hypothesis, refs), true);
  }

  /** Checks the shape shared by every corpus metric: non-empty, equal lengths, no null text. */
  static void requireCorpus(String metric, List<String> hypotheses, List<List<String>> streams) {
    if (hypotheses == null || hypotheses.isEmpty()) {
      throw new EntityException(
          metric + " needs at least one hypothesis; the evaluation corpus is empty");
    }
    if (streams == null || streams.isEmpty()) {
      throw new EntityException(metric + " needs at least one reference stream; got none");
    }
    for (int k = 0; k < streams.size(); k++) {
      List<String> stream = streams.get(k);
      if (stream == null || stream.size() != hypotheses.size()) {
        throw new EntityException(
            String.format(
                "%s: reference stream %d has %d references but there are %d hypotheses;"
                    + " give every hypothesis a reference (null where a stream has none)",
                metric, k, stream == null ? 0 : stream.size(), hypotheses.size()));
      }
    }
    for (int i = 0; i < hypotheses.size(); i++) {
      if (hypotheses.get(i) == null) {
        throw new EntityException(
            metric + ": hypothesis " + i + " is null; use \"\" for an empty generation");
      }
    }
  }

  /** The non-null references of segment {@code i} across the streams. */
  static List<String> segmentReferences(List<List<String>> streams, int i) {
    List<String> refs = new ArrayList<>(streams.size());
    for (List<String> stream : streams) {
      String r = stream.get(i);
      if (r != null) {
        refs.add(r);
      }
    }
    if (refs.isEmpty()) {
      throw new EntityException(
          "segment " + i + " has no reference in any stream; every hypothesis needs one");
    }
    return refs;
  }

  // [sys_len, ref_len, correct_1..correct_N, total_1..total_N], as sacrebleu's segment statistics.
  private static long[] segmentStatistics(String hypothesis, List<String> references) {
    Map<List<String>, Long> refMax = new HashMap<>();
    List<Long> refLens = new ArrayList<>();
    for (String ref : references) {
      List<String> tokens = Tokenizer13a.tokens(ref);
      refLens.add((long) tokens.size());
      ngramCounts(tokens).forEach((g, c) -> refMax.merge(g, c, Math::max));
    }
    List<String> hypTokens = Tokenizer13a.tokens(hypothesis);
    long hypLen = hypTokens.size();
    long[] stats = new long[2 + 2 * MAX_ORDER];
    stats[0] = hypLen;
    stats[1] = closestReferenceLength(hypLen, refLens);
    for (Map.Entry<List<String>, Long> e : ngramCounts(hypTokens).entrySet()) {
      int n = e.getKey().size() - 1;
      stats[2 + MAX_ORDER + n] += e.getValue();
      stats[2 + n] += Math.min(e.getValue(), refMax.getOrDefault(e.getKey(), 0L));
    }
    return stats;
  }

  private static Map<List<String>, Long> ngramCounts(List<String> tokens) {
    Map<List<String>, Long> counts = new HashMap<>();
    for (int n = 1; n <= MAX_ORDER; n++) {
      for (int i = 0; i + n <= tokens.size(); i++) {
        counts.merge(tokens.subList(i, i + n), 1L, Long::sum);
      }
    }
    return counts;
  }

  private static long closestReferenceLength(long hypLen, List<Long> refLens) {
    long best = -1;
    long bestDiff = -1;
    for (long len : refLens) {
      long diff = Math.abs(hypLen - len);
      if (bestDiff == -1 || diff < bestDiff || (diff == bestDiff && len < best)) {
        bestDiff = diff;
        best = len;
      }
    }
    return best;
  }

  /**
   * The score from summed statistics {@code [sys_len, ref_len, correct_1..4, total_1..4]}, with exp
   * smoothing; sacrebleu's {@code compute_bleu}.
   */
  static BleuScore fromStatistics(long[] stats, boolean effectiveOrder) {
    long sysLen = stats[0];
    long refLen = stats[1];
    List<Long> correct = new ArrayList<>();
    List<Long> total = new ArrayList<>();
    boolean anyMatch = false;
    for (int n = 0; n < MAX_ORDER; n++) {
      correct.add(stats[2 + n]);
      total.add(stats[2 + MAX_ORDER + n]);
      anyMatch |= stats[2 + n] != 0;
    }
    double bp = 1.0;
    if (sysLen < refLen) {
      bp = sysLen > 0 ? Math.exp(1.0 - (double) refLen / sysLen) : 0.0;
    }
    double[] precisions = new double[MAX_ORDER];
    if (!anyMatch) {
      return new BleuScore(0.0, correct, total, asList(precisions), bp, sysLen, refLen);
    }
    double smooth = 1.0;
    int order = MAX_ORDER;
    for (int n = 1; n <= MAX_ORDER; n++) {
      long t = total.get(n - 1);
      if (t == 0) {
        break;
      }
      if (effectiveOrder) {
        order = n;
      }
      long c = correct.get(n - 1);
      if (c == 0) {
        smooth *= 2;
        precisions[n - 1] = 100.0 / (smooth * t);
      } else {
        precisions[n - 1] = 100.0 * c / t;
      }
    }
    double logSum = 0.0;
    for (int n = 0; n < order; n++) {
      logSum += precisions[n] == 0.0 ? LOG_ZERO : Math.log(precisions[n]);
    }
    double score = bp * Math.exp(logSum / order);
    return new BleuScore(score, correct, total, asList(precisions), bp, sysLen, refLen);
  }

  private static List<Double> asList(double[] values) {
    List<Double> list = new ArrayList<>(values.length);
    for (double v : values) {
      list.add(v);
    }
    return list;
  }
}
