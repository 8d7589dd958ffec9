// Convention: the conversations themselves are not in memory; they are in the run folder as
// openai-format JSONL (one file per split), and this record, which is in memory, names those files.
package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.DatasetFile;
import dev.entity.training.data.DatasetFormat;
import dev.entity.training.data.DatasetInfo;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.LoadedDataset;
import dev.entity.training.data.RecordProblem;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link DatasetLoaderPlugin} stores in memory under {@value DatasetLoaderPlugin#MEMORY_KEY}:
 * the library's {@link DatasetInfo} (files, formats, counts, split, statistics, summary), the
 * problems of the first skipped records, and the two files in the run folder that hold the split
 * conversations. A later stage (the trainer) recalls it with {@link #recall} and reads the
 * conversations with {@link #train()} and {@link #validation()}. Files rather than a memory value
 * keep large datasets out of the database, let a resumed run read exactly the split it started
 * with, and can be inspected by hand.
 *
 * @param info the dataset's description
 * @param skippedExamples the first few skipped records' problems (only with skip_invalid)
 * @param trainFile absolute path of the training split, openai-format JSONL
 * @param validationFile absolute path of the validation split, or null when it is empty
 */
public record PreparedDataset(
    DatasetInfo info, List<String> skippedExamples, String trainFile, String validationFile) {

  public PreparedDataset {
    skippedExamples = List.copyOf(skippedExamples);
  }

  /** The loaded dataset whose splits were written to {@code train} and {@code validation}. */
  static PreparedDataset of(LoadedDataset dataset, Path train, Path validation) {
    return new PreparedDataset(
        dataset.info(),
        dataset.skippedExamples().stream().map(RecordProblem::toString).toList(),
        train.toString(),
        validation == null ? null : validation.toString());
  }

  /**
   * The dataset stored by the INPUT stage of this run.
   *
   * @throws EntityException when no dataset was loaded (no dataset_loader in the input stage)
   */
  public static PreparedDataset recall(PluginContext context) {
    return context
        .recall(DatasetLoaderPlugin.MEMORY_KEY, PreparedDataset.class)
        .orElseThrow(
            () ->
                new EntityException(
                    "no dataset was loaded in this run; put the "
                        + DatasetLoaderPlugin.NAME
                        + " plugin in the input stage"));
  }

  /** The format of every file, or {@code mixed} when they differ. */
  public String format() {
    List<DatasetFormat> formats =
        info.files().stream().map(DatasetFile::format).distinct().toList();
    return formats.size() == 1 ? formats.getFirst().configName() : "mixed";
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
