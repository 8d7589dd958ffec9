package dev.entity.training.data;

import dev.entity.core.EntityException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The library behind {@code entity-train prepare-dataset}: load and validate a dataset, convert it
 * to one format, and write its train and validation splits as JSONL files ({@code train.jsonl} and
 * {@code validation.jsonl} in the output folder; no validation file when the split is 0). Both
 * targets are checked before either is written, so a refusal leaves the folder as it was.
 */
public final class DatasetPreparation {

  /**
   * What was written: the loaded dataset, and the files (validation null when none was written).
   */
  public record Result(
      LoadedDataset dataset, Path trainFile, Path validationFile, DatasetFormat format) {

    /** The dataset summary plus where the files went. */
    public String summary() {
      return dataset.summary()
          + " Wrote "
          + dataset.train().size()
          + " training records to "
          + trainFile
          + (validationFile == null
              ? ""
              : " and " + dataset.validation().size() + " validation records to " + validationFile)
          + " in "
          + format.configName()
          + " format.";
    }
  }

  private DatasetPreparation() {}

  public static Result prepare(
      DatasetOptions options, Path outputDir, DatasetFormat outputFormat, boolean overwrite) {
    if (outputFormat == DatasetFormat.AUTO) {
      throw new EntityException(
          "output format: choose alpaca, sharegpt, openai or json; auto only applies to reading");
    }
    Path train = outputDir.resolve("train.jsonl");
    Path validation = options.validationSplit() > 0 ? outputDir.resolve("validation.jsonl") : null;
    if (!overwrite) {
      for (Path p : new Path[] {train, validation}) {
        if (p != null && Files.exists(p)) {
          throw new EntityException(
              p + " already exists; choose another output folder or ask to overwrite");
        }
      }
    }
    LoadedDataset dataset = DatasetLoader.load(options);
    // Convert everything first so a record that does not fit the format fails before any file is
    // written.
    for (Conversation c : dataset.all()) {
      DatasetWriter.toRecord(c, outputFormat);
    }
    DatasetWriter.write(dataset.train(), train, outputFormat, overwrite);
    if (validation != null) {
      DatasetWriter.write(dataset.validation(), validation, outputFormat, overwrite);
    }
    return new Result(dataset, train, validation, outputFormat);
  }
}
