package dev.entity.training.cli;

import dev.entity.training.data.DatasetFormat;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.DatasetPreparation;
import dev.entity.training.data.DatasetStatistics;
import dev.entity.training.data.LoadedDataset;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code entity-train prepare-dataset}: validate, convert, split and describe a dataset. */
@Command(
    name = "prepare-dataset",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Validate a dataset, print statistics, and write converted train/validation files.",
    description = {
      "Reads one or more files (JSON array, JSONL, Parquet, CSV; alpaca, sharegpt, openai or"
          + " json records, detected per file unless --input-format is given), checks every"
          + " record (errors name the file, line and field), splits it reproducibly and prints"
          + " statistics: records, turns, characters and record-length percentiles.",
      "",
      "With --output it also writes train.jsonl and validation.jsonl (no validation file when"
          + " --validation-split is 0) in --format; without it nothing is written.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train prepare-dataset data/sample.jsonl",
      "  entity-train prepare-dataset data/sample.jsonl -o data/prepared \\",
      "      --format openai",
      "  entity-train prepare-dataset chats.parquet more.jsonl -o out \\",
      "      --validation-split 0.05 --seed 7 --skip-invalid --overwrite"
    })
final class PrepareDatasetCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Dataset files, read in order.")
  List<Path> inputs = new ArrayList<>();

  @Option(
      names = {"-o", "--output"},
      paramLabel = "DIR",
      description = "Folder for train.jsonl and validation.jsonl; nothing is written without it.")
  Path output;

  @Option(
      names = "--format",
      paramLabel = "FORMAT",
      defaultValue = "openai",
      description =
          "Output format: alpaca, sharegpt, openai or json (default: ${DEFAULT-VALUE}; openai"
              + " and sharegpt hold any conversation).")
  String format;

  @Option(
      names = "--input-format",
      paramLabel = "FORMAT",
      defaultValue = "auto",
      description = "Input format: auto, alpaca, sharegpt, openai or json (default: auto).")
  String inputFormat;

  @Option(
      names = "--validation-split",
      paramLabel = "FRACTION",
      defaultValue = "0.1",
      description = "Fraction held out for validation, 0 <= f < 1 (default: ${DEFAULT-VALUE}).")
  double validationSplit;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "42",
      description = "Shuffle seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--no-shuffle", description = "Keep file order when splitting.")
  boolean noShuffle;

  @Option(
      names = "--max-samples",
      paramLabel = "N",
      defaultValue = "0",
      description = "Use only the first N records (default: all).")
  long maxSamples;

  @Option(
      names = "--skip-invalid",
      description = "Skip bad records (counted and listed) instead of stopping at them.")
  boolean skipInvalid;

  @Option(names = "--overwrite", description = "Replace existing output files.")
  boolean overwrite;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    DatasetOptions options =
        DatasetOptions.of(inputs)
            .withFormat(DatasetFormat.parse(inputFormat))
            .withValidationSplit(validationSplit)
            .withSeed(seed)
            .withShuffle(!noShuffle)
            .withMaxSamples(maxSamples)
            .withSkipInvalid(skipInvalid);
    LoadedDataset dataset;
    if (output == null) {
      dataset = DatasetLoader.load(options);
      out.println(dataset.summary());
    } else {
      DatasetPreparation.Result result =
          DatasetPreparation.prepare(options, output, DatasetFormat.parse(format), overwrite);
      dataset = result.dataset();
      out.println(result.summary());
    }
    out.println();
    out.println(statisticsTable(dataset));
    return 0;
  }

  /** Records, turns, characters and length percentiles of each split and of all records. */
  static String statisticsTable(LoadedDataset dataset) {
    StringBuilder s = new StringBuilder();
    String row = "%-10s %8s %8s %12s %8s %8s %8s %8s %8s%n";
    s.append(
        String.format(
            Locale.ROOT,
            row,
            "",
            "records",
            "turns",
            "characters",
            "min",
            "p50",
            "p90",
            "p99",
            "max"));
    addRow(s, row, "train", DatasetStatistics.of(dataset.train()));
    addRow(s, row, "validation", DatasetStatistics.of(dataset.validation()));
    addRow(s, row, "all", dataset.statistics());
    s.append("(record length in characters, over all turns)");
    return s.toString();
  }

  private static void addRow(StringBuilder s, String row, String name, DatasetStatistics st) {
    s.append(
        String.format(
            Locale.ROOT,
            row,
            name,
            String.format(Locale.ROOT, "%,d", st.records()),
            String.format(Locale.ROOT, "%,d", st.turns()),
            String.format(Locale.ROOT, "%,d", st.characters()),
            String.format(Locale.ROOT, "%,d", st.minLength()),
            String.format(Locale.ROOT, "%,d", st.p50()),
            String.format(Locale.ROOT, "%,d", st.p90()),
            String.format(Locale.ROOT, "%,d", st.p99()),
            String.format(Locale.ROOT, "%,d", st.maxLength())));
  }
}
