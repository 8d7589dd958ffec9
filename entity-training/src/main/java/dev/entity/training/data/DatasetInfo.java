package dev.entity.training.data;

import java.util.List;

/**
 * Everything about a loaded dataset except the records themselves: per-file formats and counts,
 * split sizes and options, statistics and the summary. Small and made of records, strings and
 * numbers only, so it serializes as JSON as it is (what the INPUT plugin stores in memory).
 */
public record DatasetInfo(
    List<DatasetFile> files,
    long records,
    long train,
    long validation,
    long skipped,
    double validationSplit,
    boolean shuffle,
    long seed,
    long maxSamples,
    DatasetStatistics statistics,
    String summary) {

  public DatasetInfo {
    files = List.copyOf(files);
  }
}
