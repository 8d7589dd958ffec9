package dev.entity.training.cli;

import dev.entity.core.PluginRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code entity-train train}: runs a workflow file with flags and {@code key=value} overrides. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    headerHeading = "",
    header = "Run a training workflow from a YAML file.",
    description = {
      "Reads the workflow (stage -> list of {plugin, config}; $${VAR} and $${VAR:-default} are"
          + " taken from the environment), applies the flags and key=value overrides, and runs"
          + " the pipeline once: input (load and validate the dataset), parse (check the training"
          + " config against the model, estimate memory, lower the micro-batch if it does not"
          + " fit), then the later stages.",
      "",
      "With a do stage (fine_tuning) it trains and writes checkpoints, final-model/, metrics"
          + " and the run report; with review (evaluation) it prints PASS or FAIL beside the base"
          + " model; with output (model_export) it exports. Stages the file leaves out are listed"
          + " at the end. Examples of each kind are in configs/.",
      "",
      "The run folder (events.jsonl, the dataset split) is --output, else the file's"
          + " resources.storage.run_folder, else the training config's output_dir.",
      "",
      "Overrides: key=value sets that key in the one plugin whose config has it;"
          + " plugin.key=value picks the plugin when several have it (seed is in both"
          + " dataset_loader and training_config). Values are YAML: 8, 2e-4, true,"
          + " [q_proj, v_proj]. An empty value (key=) restores the default. Overrides win over"
          + " the flags, flags over the file.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train train --config configs/quickstart.yaml",
      "  entity-train train -c configs/cpu_lora.yaml --model models/smollm2-135m \\",
      "      --dataset data/sample.jsonl --output runs/smollm2 lora_r=8",
      "  entity-train train -c configs/cpu_lora.yaml dataset_loader.seed=7 -i",
      "  entity-train train -c configs/cpu_lora.yaml --output runs/smollm2 \\",
      "      --resume latest"
    })
final class TrainCommand implements Callable<Integer> {

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Option(
      names = {"-c", "--config"},
      required = true,
      paramLabel = "FILE",
      description = "The workflow YAML file, e.g. configs/cpu_lora.yaml.")
  Path config;

  @Option(
      names = "--dataset",
      paramLabel = "PATH",
      description =
          "Dataset file (JSON, JSONL, Parquet, CSV); repeat for several. Sets dataset_path.")
  List<String> datasets = new ArrayList<>();

  @Option(
      names = "--model",
      paramLabel = "DIR",
      description = "Model folder with config.json (or a Hub id). Sets model_name_or_path.")
  String model;

  @Option(
      names = "--output",
      paramLabel = "DIR",
      description =
          "Run folder (events, dataset split) and output_dir for checkpoints and the final model.")
  Path output;

  @Option(
      names = "--resume",
      paramLabel = "latest|DIR",
      description =
          "Continue an interrupted run exactly: latest (the newest complete checkpoint in"
              + " output_dir) or a checkpoint-N folder. Sets resume_from_checkpoint; a checkpoint"
              + " of a different model, dataset or setting is refused.")
  String resume;

  @Option(
      names = {"-i", "--interactive"},
      description = "Show the plan after parse and ask before going on. Batch mode never asks.")
  boolean interactive;

  @Parameters(
      paramLabel = "KEY=VALUE",
      arity = "0..*",
      description = "Config overrides, e.g. lora_r=8 or training_config.seed=7.")
  List<String> overrides = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    TrainingJob job = new TrainingJob(PluginRegistry.discover(), System::getenv, main.input, out);
    return job.run(
        new TrainingJob.Request(config, datasets, model, output, resume, interactive, overrides));
  }
}
