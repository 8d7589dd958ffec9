package dev.entity.training.data;

import java.util.Arrays;
import java.util.Collection;

/**
 * Size of a set of conversations: records, turns, characters (Unicode code points over all
 * messages) and the distribution of per-record length in characters. Percentiles use the
 * nearest-rank method (the smallest length with at least p% of records at or below it).
 */
public record DatasetStatistics(
    long records,
    long turns,
    long characters,
    long minLength,
    long p50,
    long p90,
    long p99,
    long maxLength) {

  public static DatasetStatistics of(Collection<Conversation> conversations) {
    long[] lengths = new long[conversations.size()];
    long turns = 0;
    long characters = 0;
    int i = 0;
    for (Conversation c : conversations) {
      lengths[i++] = c.characters();
      turns += c.messages().size();
      characters += lengths[i - 1];
    }
    Arrays.sort(lengths);
    return new DatasetStatistics(
        lengths.length,
        turns,
        characters,
        lengths.length == 0 ? 0 : lengths[0],
        percentile(lengths, 50),
        percentile(lengths, 90),
        percentile(lengths, 99),
        lengths.length == 0 ? 0 : lengths[lengths.length - 1]);
  }

  private static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(rank, 1) - 1];
  }

  /** Mean record length in characters. */
  public double meanLength() {
    return records == 0 ? 0 : (double) characters / records;
  }

  /** One line: "100 records, 200 turns, 31,234 characters; length p50 250, ..." */
  public String describe() {
    return String.format(
        "%,d records, %,d turns, %,d characters; record length in characters p50 %,d, p90 %,d,"
            + " p99 %,d, max %,d",
        records, turns, characters, p50, p90, p99, maxLength);
  }
}
