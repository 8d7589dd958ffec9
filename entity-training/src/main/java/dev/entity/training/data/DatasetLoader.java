package dev.entity.training.data;

// Records are kept in file order until every file is read; only then are they shuffled (with the
// seed) and split, so the same files, options and seed always give the same split.

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Loads dataset files (JSON, JSONL, Parquet, CSV) into validated {@link Conversation}s and splits
 * them into train and validation sets. Every user error is an {@link EntityException} naming the
 * file, line and field: missing files, wrong encodings, invalid JSON, unsupported formats, empty
 * datasets, files mixing formats, and bad records (the first {@value #LISTED_PROBLEMS} listed, all
 * counted). Bad records fail the load unless {@link DatasetOptions#skipInvalid()} is set.
 */
public final class DatasetLoader {

  /** How many record problems an error message lists. */
  public static final int LISTED_PROBLEMS = 10;

  private DatasetLoader() {}

  /**
   * Reads every file in order, validates and converts each record, stops once {@code maxSamples}
   * valid records are kept, then (when {@code shuffle}) shuffles them with {@link SplitMix64}
   * seeded by {@code seed} (a Fisher-Yates pass, identical on every JDK and machine) and holds out
   * the last {@link #validationCount} records for validation. All records are held in memory.
   *
   * @throws EntityException for any problem with the files or their records
   */
  public static LoadedDataset load(DatasetOptions options) {
    List<Conversation> kept = new ArrayList<>();
    List<DatasetFile> files = new ArrayList<>();
    Collector collector = new Collector(options, kept);
    for (Path path : options.paths()) {
      if (collector.full()) {
        break;
      }
      files.add(readFile(path, options, collector));
    }
    if (collector.badRecords > 0 && !options.skipInvalid()) {
      throw new EntityException(badRecordsMessage(collector));
    }
    if (kept.isEmpty()) {
      throw new EntityException(
          "the dataset is empty: "
              + (collector.badRecords > 0
                  ? "all "
                      + collector.badRecords
                      + " records were bad and skipped; first: "
                      + collector.problems.getFirst()
                  : "no records in " + options.paths())
              + "; give files with at least one valid record");
    }
    List<Conversation> order = new ArrayList<>(kept);
    if (options.shuffle()) {
      new SplitMix64(options.seed()).shuffle(order);
    }
    int validationCount = validationCount(order.size(), options.validationSplit());
    int trainCount = order.size() - validationCount;
    return new LoadedDataset(
        order.subList(0, trainCount),
        order.subList(trainCount, order.size()),
        files,
        collector.badRecords,
        collector.problems.subList(0, Math.min(LISTED_PROBLEMS, collector.problems.size())),
        DatasetStatistics.of(kept),
        options);
  }

  /**
   * Records held out for validation: {@code round(n * split)}, at least one when the split is
   * positive and there are two or more records, and never all of them.
   */
  static int validationCount(int n, double split) {
    if (split <= 0 || n < 2) {
      return 0;
    }
    long count = Math.round(n * split);
    return (int) Math.min(Math.max(count, 1), n - 1);
  }

  private static DatasetFile readFile(Path path, DatasetOptions options, Collector collector) {
    String name = path.toString();
    if (!Files.exists(path)) {
      throw new EntityException(
          "dataset_path: file not found: "
              + name
              + " (relative paths start at "
              + Path.of("").toAbsolutePath()
              + ")");
    }
    if (Files.isDirectory(path)) {
      throw new EntityException(
          "dataset_path: " + name + " is a directory; give the data files in it instead");
    }
    if (!Files.isReadable(path)) {
      throw new EntityException("dataset_path: cannot read " + name + ": permission denied");
    }
    collector.startFile(name);
    try {
      switch (extension(name)) {
        case "jsonl", "ndjson" ->
            new JsonRecordReader(options.maxLineBytes()).readLines(path, name, collector);
        case "json" -> {
          JsonRecordReader reader = new JsonRecordReader(options.maxLineBytes());
          if (JsonRecordReader.startsWithArray(path)) {
            reader.readArray(path, name, collector);
          } else {
            reader.readLines(path, name, collector);
          }
        }
        case "parquet" ->
            TableRecordReader.read(path, name, TableRecordReader.Kind.PARQUET, collector);
        case "csv", "tsv" ->
            TableRecordReader.read(path, name, TableRecordReader.Kind.CSV, collector);
        default ->
            throw new EntityException(
                "dataset_path: "
                    + name
                    + ": unsupported file type; use .jsonl, .json (an array or JSON Lines), .parquet or .csv");
      }
    } catch (IOException e) {
      throw new EntityException("cannot read dataset file " + name + ": " + e.getMessage(), e);
    }
    if (collector.fileRecords == 0 && collector.fileBad == 0) {
      throw new EntityException(
          name + ": the file has no records (it is empty or holds only blank lines)");
    }
    DatasetFormat format = collector.fileFormat != null ? collector.fileFormat : options.format();
    return new DatasetFile(name, format, collector.fileRecords, collector.fileBad);
  }

  private static String extension(String name) {
    int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    int dot = name.lastIndexOf('.');
    return dot > slash ? name.substring(dot + 1).toLowerCase(Locale.ROOT) : "";
  }

  private static String badRecordsMessage(Collector c) {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            "%,d bad record%s in the dataset", c.badRecords, c.badRecords == 1 ? "" : "s"));
    int listed = Math.min(LISTED_PROBLEMS, c.problems.size());
    s.append(
        c.problemCount > listed
            ? " (first " + listed + " of " + c.problemCount + " problems):"
            : ":");
    for (int i = 0; i < listed; i++) {
      s.append("\n  ").append(c.problems.get(i));
    }
    s.append(
        "\nFix these records, or set skip_invalid to skip bad records (they are then counted and reported).");
    return s.toString();
  }

  /** Receives one file's records, resolves its format, converts and counts. */
  private static final class Collector implements RecordSink {
    private static final int KEPT_PROBLEMS = 1000;

    private final DatasetOptions options;
    private final List<Conversation> kept;
    final List<RecordProblem> problems = new ArrayList<>();
    long problemCount;
    long badRecords;
    String fileName;
    DatasetFormat fileFormat;
    String firstRecordLocation;
    long fileRecords;
    long fileBad;

    Collector(DatasetOptions options, List<Conversation> kept) {
      this.options = options;
      this.kept = kept;
    }

    void startFile(String name) {
      fileName = name;
      fileFormat = options.format() == DatasetFormat.AUTO ? null : options.format();
      firstRecordLocation = null;
      fileRecords = 0;
      fileBad = 0;
    }

    boolean full() {
      return options.maxSamples() > 0 && kept.size() >= options.maxSamples();
    }

    @Override
    public boolean record(SourceRecord record) {
      List<RecordProblem> found = new ArrayList<>();
      DatasetFormat format = fileFormat;
      if (options.format() == DatasetFormat.AUTO && record.value().isObject()) {
        DatasetFormat detected = ConversationConverter.detect(record.value());
        if (detected == null) {
          found.add(
              new RecordProblem(
                  record.location(), "", ConversationConverter.describeKeys(record.value())));
        } else if (fileFormat == null) {
          fileFormat = detected;
          firstRecordLocation = record.location();
          format = detected;
        } else if (detected != fileFormat) {
          throw new EntityException(
              record.location()
                  + ": mixed formats in one file: this record is "
                  + detected.configName()
                  + " but the file's first record ("
                  + firstRecordLocation
                  + ") is "
                  + fileFormat.configName()
                  + "; put each format in its own file");
        }
      }
      Conversation c = null;
      if (found.isEmpty()) {
        c =
            ConversationConverter.convert(
                record, format == null ? DatasetFormat.JSON : format, found);
      }
      if (c == null) {
        return bad(found);
      }
      kept.add(c);
      fileRecords++;
      return !full();
    }

    @Override
    public boolean unparsable(RecordProblem problem) {
      return bad(List.of(problem));
    }

    private boolean bad(List<RecordProblem> found) {
      badRecords++;
      fileBad++;
      problemCount += found.size();
      for (RecordProblem p : found) {
        if (problems.size() < KEPT_PROBLEMS) {
          problems.add(p);
        }
      }
      return true;
    }
  }
}
