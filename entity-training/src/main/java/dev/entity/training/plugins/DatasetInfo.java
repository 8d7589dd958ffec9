// Convention: the conversations themselves are not in memory; they are in the run folder as
// openai-format JSONL (one file per split), and this record, which is in memory, names those files.
package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.DatasetFile;
import dev.entity.training.data.DatasetFormat;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.DatasetStatistics;
import dev.entity.training.data.LoadedDataset;
import dev.entity.training.data.RecordProblem;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link DatasetLoaderPlugin} stores in memory under {@value DatasetLoaderPlugin#MEMORY_KEY}:
 * the source files with their formats and counts, the split, statistics, anything skipped, and the
 * two files in the run folder that hold the split conversations. A later stage (the trainer)
 * recalls it with {@link #recall} and reads the conversations with {@link #train()} and {@link
 * #validation()}. Files rather than a memory value keep large datasets out of the database, let a
 * resumed run read exactly the split it started with, and can be inspected by hand.
 *
 * @param paths the dataset paths as configured
 * @param files what each file contributed (path, format found, records, skipped)
 * @param format the format of every file, or {@code mixed} when files differ
 * @param records records kept, train plus validation
 * @param trainRecords records in the training split
 * @param validationRecords records in the validation split
 * @param validationSplit the fraction asked for
 * @param shuffled whether records were shuffled before splitting
 * @param seed the shuffle seed
 * @param maxSamples the record limit, 0 for none
 * @param skipped bad records skipped (only with skip_invalid)
 * @param skippedExamples the first few skipped records' problems
 * @param statistics records, turns, characters and length percentiles over all kept records
 * @param trainFile absolute path of the training split, openai-format JSONL
 * @param validationFile absolute path of the validation split, or null when it is empty
 */
public record DatasetInfo(
    List<String> paths,
    List<DatasetFile> files,
    String format,
    long records,
    long trainRecords,
    long validationRecords,
    double validationSplit,
    boolean shuffled,
    long seed,
    long maxSamples,
    long skipped,
    List<String> skippedExamples,
    DatasetStatistics statistics,
    String trainFile,
    String validationFile) {

  public DatasetInfo {
    paths = List.copyOf(paths);
    files = List.copyOf(files);
    skippedExamples = List.copyOf(skippedExamples);
  }

  /**
   * The info of a loaded dataset whose splits were written to {@code train} and {@code validation}.
   */
  static DatasetInfo of(LoadedDataset dataset, Path train, Path validation) {
    DatasetOptions options = dataset.options();
    List<DatasetFormat> formats =
        dataset.files().stream().map(DatasetFile::format).distinct().toList();
    return new DatasetInfo(
        options.paths().stream().map(Path::toString).toList(),
        dataset.files(),
        formats.size() == 1 ? formats.getFirst().configName() : "mixed",
        dataset.size(),
        dataset.train().size(),
        dataset.validation().size(),
        options.validationSplit(),
        options.shuffle(),
        options.seed(),
        options.maxSamples(),
        dataset.skipped(),
        dataset.skippedExamples().stream().map(RecordProblem::toString).toList(),
        dataset.statistics(),
        train.toString(),
        validation == null ? null : validation.toString());
  }

  /**
   * The dataset info stored by the INPUT stage of this run.
   *
   * @throws EntityException when no dataset was loaded (no dataset_loader in the input stage)
   */
  public static DatasetInfo recall(PluginContext context) {
    return context
        .recall(DatasetLoaderPlugin.MEMORY_KEY, DatasetInfo.class)
        .orElseThrow(
            () ->
                new EntityException(
                    "no dataset was loaded in this run; put the "
                        + DatasetLoaderPlugin.NAME
                        + " plugin in the input stage"));
  }

  /** The training conversations, read back from {@link #trainFile}, in split order. */
  public List<Conversation> train() {
    return read(trainFile);
  }

  /** The validation conversations, empty when the split is empty. */
  public List<Conversation> validation() {
    return validationFile == null ? List.of() : read(validationFile);
  }

  private static List<Conversation> read(String file) {
    DatasetOptions options =
        DatasetOptions.of(Path.of(file))
            .withFormat(DatasetFormat.OPENAI)
            .withValidationSplit(0)
            .withShuffle(false);
    return DatasetLoader.load(options).train();
  }
}
