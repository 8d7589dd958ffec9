package dev.entity.training.cli;

import dev.entity.core.EntityException;
import dev.entity.core.PluginRegistry;
import dev.entity.core.resource.Storage;
import dev.entity.engine.model.ModelConfig;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code entity-train quickstart}: the main job on built-in defaults, in seconds: the project's
 * {@code configs/quickstart.yaml} on {@code data/sample.jsonl} and the {@code tiny} model shape.
 * Until the engine can write a tiny model with weights, the model folder is a placeholder holding
 * only the shape's {@code config.json}, which is all the parse stage reads.
 */
@Command(
    name = "quickstart",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Run the pipeline on built-in defaults: sample data, a tiny model. Takes seconds.",
    description = {
      "Runs configs/quickstart.yaml on data/sample.jsonl (100 alpaca records) and a tiny"
          + " 2-layer llama-shaped model, in a run folder (default runs/quickstart):",
      "  input  load, validate and split the dataset; write the split to dataset/",
      "  parse  check the LoRA config against the model, estimate memory, auto-adjust",
      "and then says which later stages (training, evaluation, export) are not built yet.",
      "",
      "The model folder (model/ in the run folder) is a placeholder: the tiny shape's"
          + " config.json, no weights. Everything written stays inside the run folder.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train quickstart",
      "  entity-train quickstart --output /tmp/qs --dataset my-data.jsonl"
    })
final class QuickstartCommand implements Callable<Integer> {

  /** The model shape the quickstart estimates on. */
  static final String SHAPE = "tiny";

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Option(
      names = "--output",
      paramLabel = "DIR",
      description = "Run folder (default: ${DEFAULT-VALUE}).",
      defaultValue = "runs/quickstart")
  Path output;

  @Option(
      names = "--dataset",
      paramLabel = "PATH",
      description = "Dataset file instead of the project's data/sample.jsonl.")
  Path dataset;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Path project = ProjectFolder.find();
    Path data = dataset != null ? dataset : project.resolve("data/sample.jsonl");
    Path folder = output.toAbsolutePath().normalize();
    Path model = writePlaceholderModel(folder.resolve("model"));
    out.println(
        "entity-train quickstart: sample data and a tiny model, in "
            + PlanReport.relative(Path.of("").toAbsolutePath(), folder.toString()));
    out.println(
        "The model folder model/ is a placeholder: the '"
            + SHAPE
            + "' shape's config.json (a 2-layer llama), no weights yet.");
    out.println();
    TrainingJob job = new TrainingJob(PluginRegistry.discover(), System::getenv, main.input, out);
    int code =
        job.run(
            new TrainingJob.Request(
                project.resolve(ProjectFolder.MARKER),
                List.of(data.toString()),
                model.toString(),
                folder,
                null,
                false,
                List.of()));
    out.println();
    out.println("Next:");
    out.println("  ./entity-train train --config configs/quickstart.yaml --output " + output);
    out.println("  ./entity-train estimate-memory --shape smollm2-135m --method lora");
    out.println("  ./entity-train --help");
    return code;
  }

  /** Writes the tiny shape's config.json and a note into {@code dir}; returns the folder. */
  static Path writePlaceholderModel(Path dir) {
    ModelConfig shape = ModelConfig.shape(SHAPE);
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new EntityException("cannot create the model folder " + dir + ": " + e, e);
    }
    String note =
        String.format(
            Locale.ROOT,
            "Placeholder model folder written by `entity-train quickstart`.%n%n"
                + "config.json is the '%s' shape (%s, %,d parameters): enough for the parse"
                + " stage to check the training config and estimate memory. There are no weights"
                + " and no tokenizer here; training needs a real model folder.%n",
            SHAPE,
            shape.architecture().name().toLowerCase(Locale.ROOT),
            shape.parameterCount());
    Storage.writeAtomically(
        dir.resolve("config.json"),
        stream -> stream.write(shape.toJson().getBytes(StandardCharsets.UTF_8)));
    Storage.writeAtomically(
        dir.resolve("README.txt"), stream -> stream.write(note.getBytes(StandardCharsets.UTF_8)));
    return dir;
  }
}
