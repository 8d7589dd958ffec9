package dev.entity.training.data;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A loaded, validated and split dataset: the train and validation conversations, what each file
 * contributed, the bad records skipped (only ever non-zero when {@code skipInvalid} was asked for;
 * {@code skippedExamples} holds the first few problems), and statistics over all kept records.
 */
public record LoadedDataset(
    List<Conversation> train,
    List<Conversation> validation,
    List<DatasetFile> files,
    long skipped,
    List<RecordProblem> skippedExamples,
    DatasetStatistics statistics,
    DatasetOptions options) {

  public LoadedDataset {
    train = List.copyOf(train);
    validation = List.copyOf(validation);
    files = List.copyOf(files);
    skippedExamples = List.copyOf(skippedExamples);
  }

  /** Number of kept records, train plus validation. */
  public long size() {
    return (long) train.size() + validation.size();
  }

  /** Train then validation, as one list. */
  public List<Conversation> all() {
    List<Conversation> all = new ArrayList<>(train);
    all.addAll(validation);
    return all;
  }

  /** The dataset's description without its records. */
  public DatasetInfo info() {
    return new DatasetInfo(
        files,
        size(),
        train.size(),
        validation.size(),
        skipped,
        options.validationSplit(),
        options.shuffle(),
        options.seed(),
        options.maxSamples(),
        statistics,
        summary());
  }

  /** A one-paragraph summary for people: sources, split, size, lengths and anything skipped. */
  public String summary() {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            "Loaded %,d records from %d file%s (",
            size(), files.size(), files.size() == 1 ? "" : "s"));
    s.append(
        files.stream()
            .map(
                f ->
                    f.path()
                        + ": "
                        + f.format().configName()
                        + ", "
                        + String.format("%,d records", f.records()))
            .collect(Collectors.joining("; ")));
    s.append(
        String.format(
            "): %,d for training and %,d for validation", train.size(), validation.size()));
    s.append(" (validation_split ").append(options.validationSplit());
    s.append(options.shuffle() ? ", shuffled with seed " + options.seed() : ", not shuffled")
        .append(")");
    if (options.maxSamples() > 0) {
      s.append(
          String.format(", limited to the first %,d records by max_samples", options.maxSamples()));
    }
    s.append(". ").append(statistics.describe()).append('.');
    if (skipped > 0) {
      s.append(
          String.format(
              " Skipped %,d bad record%s as asked (skip_invalid)",
              skipped, skipped == 1 ? "" : "s"));
      if (!skippedExamples.isEmpty()) {
        s.append(", first: ").append(skippedExamples.getFirst());
      }
      s.append('.');
    }
    return s.toString();
  }
}
