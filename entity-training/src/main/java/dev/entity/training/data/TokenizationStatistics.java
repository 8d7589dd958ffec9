// Convention: "targets" are counted after the next-token shift: a sample of L tokens has at most
// L - 1 targets (its first token is never predicted), so labelFraction is trained rows / all rows.
package dev.entity.training.data;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * What tokenizing a dataset produced: the sequences kept and their tokens, how many trained targets
 * they hold, how many were truncated to {@code max_seq_length} (and how many labels that cost), how
 * many were skipped because no trained target was left, and the distribution of kept lengths in
 * tokens (nearest-rank percentiles). {@link #toMap} gives a flat map for logs and the memory store.
 *
 * @param sequences samples kept
 * @param tokens tokens over the kept samples
 * @param targets trained targets over the kept samples (labels after the shift)
 * @param truncated kept or skipped samples that were longer than max_seq_length
 * @param truncatedTokens tokens cut away by truncation (skipped samples included)
 * @param truncatedLabels trained labels cut away by truncation (skipped samples included)
 * @param skippedTruncated samples skipped because truncation removed every trained label
 * @param skippedUnlabelled samples skipped because they had no trained label at all
 * @param minLength shortest kept sample, in tokens
 * @param p50 median kept length
 * @param p90 90th percentile of kept lengths
 * @param p99 99th percentile of kept lengths
 * @param maxLength longest kept sample (at most max_seq_length)
 * @param longestBeforeTruncation longest sample before truncation (for choosing max_seq_length)
 * @param maxSeqLength the truncation length
 */
public record TokenizationStatistics(
    long sequences,
    long tokens,
    long targets,
    long truncated,
    long truncatedTokens,
    long truncatedLabels,
    long skippedTruncated,
    long skippedUnlabelled,
    long minLength,
    long p50,
    long p90,
    long p99,
    long maxLength,
    long longestBeforeTruncation,
    int maxSeqLength) {

  /** Counts samples as they are tokenized; {@link #finish} makes the statistics. */
  static final class Tally {
    private final int maxSeqLength;
    private final IntStream.Builder lengths = IntStream.builder();
    private long targets;
    private long truncated;
    private long truncatedTokens;
    private long truncatedLabels;
    private long skippedTruncated;
    private long skippedUnlabelled;
    private long longest;

    Tally(int maxSeqLength) {
      this.maxSeqLength = maxSeqLength;
    }

    /** A sample of {@code length} tokens before truncation was seen. */
    void seen(int length) {
      longest = Math.max(longest, length);
    }

    /** Truncation cut {@code tokens} tokens holding {@code labels} trained labels. */
    void truncated(long tokens, long labels) {
      truncated++;
      truncatedTokens += tokens;
      truncatedLabels += labels;
    }

    /** A sample of {@code length} tokens with {@code sampleTargets} targets was kept. */
    void kept(int length, long sampleTargets) {
      lengths.add(length);
      targets += sampleTargets;
    }

    /** A sample was skipped: its labels were all truncated away, or it never had any. */
    void skipped(boolean byTruncation) {
      if (byTruncation) {
        skippedTruncated++;
      } else {
        skippedUnlabelled++;
      }
    }

    TokenizationStatistics finish() {
      int[] sorted = lengths.build().sorted().toArray();
      long tokens = 0;
      for (int l : sorted) {
        tokens += l;
      }
      return new TokenizationStatistics(
          sorted.length,
          tokens,
          targets,
          truncated,
          truncatedTokens,
          truncatedLabels,
          skippedTruncated,
          skippedUnlabelled,
          sorted.length == 0 ? 0 : sorted[0],
          percentile(sorted, 50),
          percentile(sorted, 90),
          percentile(sorted, 99),
          sorted.length == 0 ? 0 : sorted[sorted.length - 1],
          longest,
          maxSeqLength);
    }
  }

  private static long percentile(int[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(rank, 1) - 1];
  }

  /** Samples skipped for either reason. */
  public long skipped() {
    return skippedTruncated + skippedUnlabelled;
  }

  /** Trained targets per token, 0 when nothing was kept. */
  public double labelFraction() {
    return tokens == 0 ? 0 : (double) targets / tokens;
  }

  /** Mean kept length in tokens. */
  public double meanLength() {
    return sequences == 0 ? 0 : (double) tokens / sequences;
  }

  /** One line for people, e.g. for the log after the progress bar. */
  public String describe() {
    return String.format(
        "%,d sequences, %,d tokens, %,d trained (%.1f%%); length p50 %,d, p90 %,d, p99 %,d, max"
            + " %,d; %,d truncated to %,d tokens (%,d labels lost), %,d skipped (%,d with every"
            + " label truncated away, %,d with no label)",
        sequences,
        tokens,
        targets,
        100 * labelFraction(),
        p50,
        p90,
        p99,
        maxLength,
        truncated,
        maxSeqLength,
        truncatedLabels,
        skipped(),
        skippedTruncated,
        skippedUnlabelled);
  }

  /** Every figure under a snake_case key, for the memory resource and JSON. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("sequences", sequences);
    m.put("tokens", tokens);
    m.put("targets", targets);
    m.put("label_fraction", labelFraction());
    m.put("truncated", truncated);
    m.put("truncated_tokens", truncatedTokens);
    m.put("truncated_labels", truncatedLabels);
    m.put("skipped", skipped());
    m.put("skipped_truncated", skippedTruncated);
    m.put("skipped_unlabelled", skippedUnlabelled);
    m.put("min_length", minLength);
    m.put("p50_length", p50);
    m.put("p90_length", p90);
    m.put("p99_length", p99);
    m.put("max_length", maxLength);
    m.put("longest_before_truncation", longestBeforeTruncation);
    m.put("max_seq_length", maxSeqLength);
    return m;
  }
}
