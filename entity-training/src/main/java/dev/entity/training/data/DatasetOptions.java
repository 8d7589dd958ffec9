package dev.entity.training.data;

import dev.entity.core.EntityException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * How to load a dataset: the files (concatenated in the order given), their format ({@link
 * DatasetFormat#AUTO} detects per file), at most {@code maxSamples} records (0 = all; taken from
 * the start of the data, before shuffling and splitting), the fraction held out for validation (in
 * [0, 1)), whether to shuffle before splitting and with which seed, whether to skip bad records
 * (counted and reported) instead of failing, and the longest line accepted in a JSONL file.
 */
public record DatasetOptions(
    List<Path> paths,
    DatasetFormat format,
    long maxSamples,
    double validationSplit,
    boolean shuffle,
    long seed,
    boolean skipInvalid,
    long maxLineBytes) {

  public static final double DEFAULT_VALIDATION_SPLIT = 0.1;
  public static final long DEFAULT_SEED = 42;
  public static final long DEFAULT_MAX_LINE_BYTES = 64L << 20;

  public DatasetOptions {
    if (paths == null || paths.isEmpty()) {
      throw new EntityException(
          "dataset_path: no dataset file given; set it to a file or a list of files");
    }
    paths = List.copyOf(paths);
    format = format == null ? DatasetFormat.AUTO : format;
    if (maxSamples < 0) {
      throw new EntityException(
          "max_samples: must be positive (or left out to use every record), got " + maxSamples);
    }
    if (!(validationSplit >= 0 && validationSplit < 1)) {
      throw new EntityException(
          "validation_split: must be at least 0 and less than 1 (e.g. 0.1 holds out 10%), got "
              + validationSplit);
    }
    if (maxLineBytes <= 0) {
      throw new EntityException("max_line_bytes: must be positive, got " + maxLineBytes);
    }
  }

  /** Defaults: auto format, every record, 10% validation, shuffled with seed 42, strict. */
  public static DatasetOptions of(List<Path> paths) {
    return new DatasetOptions(
        paths,
        DatasetFormat.AUTO,
        0,
        DEFAULT_VALIDATION_SPLIT,
        true,
        DEFAULT_SEED,
        false,
        DEFAULT_MAX_LINE_BYTES);
  }

  /**
   * Reads the {@code dataset_path} config value: one path (a string) or a list of them.
   *
   * @throws EntityException when the value is neither, or a path is blank
   */
  public static List<Path> paths(Object value) {
    List<?> items =
        value instanceof Collection<?> c
            ? List.copyOf(c)
            : value == null ? List.of() : List.of(value);
    List<Path> paths = new ArrayList<>();
    for (Object item : items) {
      if (item instanceof Path p) {
        paths.add(p);
      } else if (item instanceof String s && !s.isBlank()) {
        paths.add(Path.of(s.trim()));
      } else {
        throw new EntityException(
            "dataset_path: expected a file path or a list of file paths, found " + item);
      }
    }
    return paths;
  }

  public static DatasetOptions of(Path... paths) {
    return of(List.of(paths));
  }

  public DatasetOptions withFormat(DatasetFormat f) {
    return new DatasetOptions(
        paths, f, maxSamples, validationSplit, shuffle, seed, skipInvalid, maxLineBytes);
  }

  public DatasetOptions withMaxSamples(long n) {
    return new DatasetOptions(
        paths, format, n, validationSplit, shuffle, seed, skipInvalid, maxLineBytes);
  }

  public DatasetOptions withValidationSplit(double s) {
    return new DatasetOptions(
        paths, format, maxSamples, s, shuffle, seed, skipInvalid, maxLineBytes);
  }

  public DatasetOptions withShuffle(boolean s) {
    return new DatasetOptions(
        paths, format, maxSamples, validationSplit, s, seed, skipInvalid, maxLineBytes);
  }

  public DatasetOptions withSeed(long s) {
    return new DatasetOptions(
        paths, format, maxSamples, validationSplit, shuffle, s, skipInvalid, maxLineBytes);
  }

  public DatasetOptions withSkipInvalid(boolean s) {
    return new DatasetOptions(
        paths, format, maxSamples, validationSplit, shuffle, seed, s, maxLineBytes);
  }

  public DatasetOptions withMaxLineBytes(long n) {
    return new DatasetOptions(
        paths, format, maxSamples, validationSplit, shuffle, seed, skipInvalid, n);
  }
}
