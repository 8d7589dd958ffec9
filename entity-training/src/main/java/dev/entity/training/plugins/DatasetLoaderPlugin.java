package dev.entity.training.plugins;

import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.core.resource.Storage;
import dev.entity.training.data.DatasetFormat;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.DatasetWriter;
import dev.entity.training.data.LoadedDataset;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The INPUT plugin {@value #NAME}: loads, validates and splits the dataset with the {@code
 * training.data} library, writes the two splits into the run folder ({@code dataset/train.jsonl},
 * {@code dataset/validation.jsonl}, openai format) and stores a {@link PreparedDataset} in memory
 * under {@value #MEMORY_KEY}; the trainer reads the conversations through it. Returns the loader's
 * one-paragraph summary. Every problem with the data is an error naming the file, line and field,
 * unless {@code skip_invalid} asks to skip bad records, which are then counted and reported.
 */
public final class DatasetLoaderPlugin extends BaseTrainingPlugin<DatasetLoaderPlugin.Config> {

  /** The plugin's name in workflow YAML. */
  public static final String NAME = "dataset_loader";

  /** The memory key of the {@link PreparedDataset}. */
  public static final String MEMORY_KEY = "dataset";

  /** Where the splits go inside the run folder. */
  public static final String TRAIN_FILE = "dataset/train.jsonl";

  /** Where the validation split goes inside the run folder. */
  public static final String VALIDATION_FILE = "dataset/validation.jsonl";

  /**
   * The plugin's config.
   *
   * @param datasetPath a file or a list of files (JSON, JSONL, Parquet, CSV), read in order
   * @param datasetFormat auto | alpaca | sharegpt | openai | json (default auto: detected per file)
   * @param maxSamples use at most this many records, from the start; 0 or absent for all
   * @param validationSplit fraction held out for validation, 0 &le; s &lt; 1 (default 0.1)
   * @param shuffle shuffle before splitting (default true)
   * @param seed the shuffle seed (default 42)
   * @param skipInvalid skip bad records (counted and reported) instead of failing (default false)
   */
  public record Config(
      @NotEmpty(message = "is required: a dataset file or a list of files")
          List<String> datasetPath,
      @Pattern(
              regexp = "(?i)auto|alpaca|sharegpt|openai|json",
              message = "must be one of auto, alpaca, sharegpt, openai, json")
          String datasetFormat,
      @PositiveOrZero Long maxSamples,
      @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double validationSplit,
      Boolean shuffle,
      Long seed,
      Boolean skipInvalid) {

    public Config {
      datasetPath = datasetPath == null ? List.of() : List.copyOf(datasetPath);
      datasetFormat = datasetFormat == null ? "auto" : datasetFormat;
      maxSamples = maxSamples == null ? 0L : maxSamples;
      validationSplit =
          validationSplit == null ? DatasetOptions.DEFAULT_VALIDATION_SPLIT : validationSplit;
      shuffle = shuffle == null ? Boolean.TRUE : shuffle;
      seed = seed == null ? DatasetOptions.DEFAULT_SEED : seed;
      skipInvalid = skipInvalid == null ? Boolean.FALSE : skipInvalid;
    }

    /** The data library's options for this config. */
    public DatasetOptions options() {
      return new DatasetOptions(
          datasetPath.stream().map(Path::of).toList(),
          DatasetFormat.parse(datasetFormat),
          maxSamples,
          validationSplit,
          shuffle,
          seed,
          skipInvalid,
          DatasetOptions.DEFAULT_MAX_LINE_BYTES);
    }
  }

  /** The plugin as the registry finds it. */
  public DatasetLoaderPlugin() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.INPUT);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) {
    LoadedDataset dataset = DatasetLoader.load(config.options());
    Storage storage = context.resource(Storage.class);
    Path train = storage.resolve(TRAIN_FILE);
    DatasetWriter.write(dataset.train(), train, DatasetFormat.OPENAI, true);
    Path validation = null;
    if (!dataset.validation().isEmpty()) {
      validation = storage.resolve(VALIDATION_FILE);
      DatasetWriter.write(dataset.validation(), validation, DatasetFormat.OPENAI, true);
    }
    PreparedDataset prepared = PreparedDataset.of(dataset, train, validation);
    context.remember(MEMORY_KEY, prepared);
    context
        .log()
        .info(
            "dataset loaded",
            "records",
            dataset.size(),
            "train",
            dataset.train().size(),
            "validation",
            dataset.validation().size(),
            "format",
            prepared.format(),
            "skipped",
            dataset.skipped());
    return dataset.summary();
  }
}
