// Convention: the workflow file is read twice: once to learn which plugins it holds (so key=value
// overrides and flags can find their plugin), then again with the overrides applied and bound.
package dev.entity.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.entity.core.Cancellation;
import dev.entity.core.EntityException;
import dev.entity.core.Plugin;
import dev.entity.core.PluginContext;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.config.ConfigBinder;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.core.workflow.WorkflowYaml;
import dev.entity.training.plugins.DatasetLoaderPlugin;
import dev.entity.training.plugins.EvaluationPlugin;
import dev.entity.training.plugins.PreparedDataset;
import dev.entity.training.plugins.TrainingConfigPlugin;
import dev.entity.training.plugins.TrainingPlan;
import dev.entity.training.train.TrainingConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs a workflow file the way {@code train} and {@code quickstart} do: reads the YAML (with {@code
 * ${ENV}} substitution), maps the {@code --dataset/--model/--output/--resume} flags and the {@code
 * key=value} overrides onto the plugins that have those keys, adds a plan review after PARSE that
 * prints the dataset, config and memory estimate (and, interactively, asks before going on), runs
 * it once, and says which later stages the workflow leaves out. A failed run becomes an {@link
 * EntityException} naming the plugin and stage.
 */
final class TrainingJob {

  /** The config key each flag sets, in the plugins that have it. */
  static final String DATASET_KEY = "dataset_path";

  static final String MODEL_KEY = "model_name_or_path";
  static final String OUTPUT_KEY = "output_dir";
  static final String RESUME_KEY = "resume_from_checkpoint";

  /** The cancellation reason when the user answers no at the plan review. */
  static final String DECLINED = "declined at the plan review";

  /** The name of the plan review step added to THINK. */
  static final String REVIEW_STEP = "plan_review";

  /** The name of the step added at the end of REVIEW that prints the evaluation's verdict. */
  static final String VERDICT_STEP = "verdict_report";

  /**
   * What to run.
   *
   * @param config the workflow YAML file
   * @param datasets {@code --dataset} values, empty when not given
   * @param model {@code --model}, or null
   * @param output {@code --output}: the run folder and every plugin's output_dir; or null
   * @param resume {@code --resume}: {@code latest} or a checkpoint folder; or null
   * @param interactive ask before running the stages after PARSE
   * @param overrides {@code key=value} arguments
   */
  record Request(
      Path config,
      List<String> datasets,
      String model,
      Path output,
      String resume,
      boolean interactive,
      List<String> overrides) {
    Request {
      datasets = List.copyOf(datasets);
      overrides = List.copyOf(overrides);
    }
  }

  private final PluginRegistry registry;
  private final Function<String, String> environment;
  private final BufferedReader in;
  private final PrintWriter out;

  TrainingJob(
      PluginRegistry registry,
      Function<String, String> environment,
      BufferedReader in,
      PrintWriter out) {
    this.registry = registry;
    this.environment = environment;
    this.in = in;
    this.out = out;
  }

  /**
   * Runs the request; returns the exit code (0 done, or stopped at the user's answer).
   *
   * @throws EntityException for a bad workflow, flag or override, and for a failed run
   */
  int run(Request request) {
    Path base = Path.of("").toAbsolutePath();
    Map<String, List<String>> pluginKeys = pluginKeys(request.config());
    Map<String, Map<String, JsonNode>> overrides = new LinkedHashMap<>();
    applyFlag(overrides, pluginKeys, "--dataset", DATASET_KEY, datasets(request.datasets()), true);
    applyFlag(overrides, pluginKeys, "--model", MODEL_KEY, text(request.model()), true);
    applyFlag(overrides, pluginKeys, "--output", OUTPUT_KEY, path(request.output()), false);
    String resumeNote = null;
    if (request.resume() != null) {
      String resume = checkResume(request.resume());
      if (ConfigOverrides.owners(RESUME_KEY, pluginKeys).isEmpty()) {
        resumeNote =
            "--resume "
                + resume
                + " was checked, but this workflow does not train (no fine_tuning in its do"
                + " stage), so there is nothing to resume.";
      } else {
        applyFlag(overrides, pluginKeys, "--resume", RESUME_KEY, TextNode.valueOf(resume), true);
      }
    }
    ConfigOverrides.resolve(request.overrides(), pluginKeys)
        .forEach(
            (plugin, values) ->
                overrides.computeIfAbsent(plugin, p -> new LinkedHashMap<>()).putAll(values));

    Workflow.Builder builder = WorkflowYaml.read(request.config(), registry, environment);
    overrides.forEach(builder::override);
    if (request.output() != null) {
      builder.runFolder(request.output());
    }
    builder.add(Stage.THINK, reviewStep(base, request.interactive()), new Plugin.NoConfig());
    Workflow draft = builder.build();
    if (!draft.steps(Stage.REVIEW).isEmpty()) {
      builder.add(Stage.REVIEW, verdictStep(), new Plugin.NoConfig());
      draft = builder.build();
    }
    Optional<Path> outputDir = outputDir(draft);
    // One folder per run: the events and the dataset split go where the checkpoints will.
    Workflow workflow =
        request.output() == null && draft.runFolder().isEmpty() && outputDir.isPresent()
            ? builder.runFolder(outputDir.get()).build()
            : draft;

    out.println("Workflow " + relativeOrAbsolute(base, request.config()));
    for (Stage stage : Stage.PIPELINE) {
      List<String> names =
          workflow.steps(stage).stream()
              .map(step -> step.plugin().name())
              .filter(name -> !name.equals(REVIEW_STEP) && !name.equals(VERDICT_STEP))
              .toList();
      if (!names.isEmpty()) {
        out.printf(Locale.ROOT, "  %-6s %s%n", stage.yamlName(), String.join(", ", names));
      }
    }
    out.println();
    out.flush();

    long start = System.nanoTime();
    WorkflowResult result =
        new WorkflowExecutor(workflow, out::println, Clock.systemUTC()).run("", new Cancellation());
    double seconds = (System.nanoTime() - start) / 1e9;
    String folder = PlanReport.relative(base, result.runFolder().toString());
    return switch (result) {
      case WorkflowResult.Failed failed ->
          throw new EntityException(
              failed.failure().toString()
                  + System.lineSeparator()
                  + "(the run's events are in "
                  + folder
                  + "/events.jsonl)",
              failed.failure().cause());
      case WorkflowResult.Cancelled cancelled when DECLINED.equals(cancelled.reason()) -> {
        out.println("Stopped before training, as asked; nothing after the parse stage ran.");
        out.println("Run folder: " + folder);
        yield 0;
      }
      case WorkflowResult.Cancelled cancelled -> throw new EntityException(cancelled.summary());
      case WorkflowResult.Completed completed -> {
        List<Stage> empty =
            List.of(Stage.DO, Stage.REVIEW, Stage.OUTPUT).stream()
                .filter(stage -> workflow.steps(stage).isEmpty())
                .toList();
        out.print(PlanReport.notBuilt(empty));
        if (resumeNote != null) {
          out.println(resumeNote);
        }
        out.printf(
            Locale.ROOT,
            "Done in %.1f s. Run folder: %s (events.jsonl, dataset/)%n",
            seconds,
            folder);
        yield 0;
      }
    };
  }

  /** The output_dir of the workflow's training config, if it has one. */
  private static Optional<Path> outputDir(Workflow workflow) {
    return Stage.PIPELINE.stream()
        .flatMap(stage -> workflow.steps(stage).stream())
        .map(Workflow.Step::config)
        .filter(TrainingConfig.class::isInstance)
        .map(config -> Path.of(((TrainingConfig) config).outputDir()))
        .findFirst();
  }

  /** Each plugin of the workflow file with its config keys, in the order they appear. */
  private Map<String, List<String>> pluginKeys(Path config) {
    Workflow.Builder draft = WorkflowYaml.read(config, registry, environment);
    Map<String, List<String>> keys = new LinkedHashMap<>();
    for (String name : draft.pluginNames()) {
      registry
          .find(name)
          .ifPresent(plugin -> keys.putIfAbsent(name, ConfigBinder.keys(plugin.configType())));
    }
    return keys;
  }

  private static void applyFlag(
      Map<String, Map<String, JsonNode>> overrides,
      Map<String, List<String>> pluginKeys,
      String flag,
      String key,
      JsonNode value,
      boolean required) {
    if (value == null) {
      return;
    }
    List<String> owners = ConfigOverrides.owners(key, pluginKeys);
    if (owners.isEmpty() && required) {
      throw new EntityException(
          flag
              + " sets "
              + key
              + ", but no plugin of this workflow has that key (its plugins are "
              + (pluginKeys.isEmpty() ? "none" : String.join(", ", pluginKeys.keySet()))
              + "); add the plugin that takes it, e.g. "
              + (key.equals(DATASET_KEY) ? DatasetLoaderPlugin.NAME : TrainingConfigPlugin.NAME));
    }
    for (String owner : owners) {
      overrides.computeIfAbsent(owner, p -> new LinkedHashMap<>()).put(key, value);
    }
  }

  private static JsonNode datasets(List<String> datasets) {
    if (datasets.isEmpty()) {
      return null;
    }
    ArrayNode list = JsonNodeFactory.instance.arrayNode();
    datasets.forEach(d -> list.add(Path.of(d).toAbsolutePath().normalize().toString()));
    return list;
  }

  private static JsonNode text(String value) {
    if (value == null) {
      return null;
    }
    Path local = Path.of(value);
    return TextNode.valueOf(
        Files.exists(local) ? local.toAbsolutePath().normalize().toString() : value);
  }

  private static JsonNode path(Path value) {
    return value == null ? null : TextNode.valueOf(value.toAbsolutePath().normalize().toString());
  }

  /**
   * {@code latest}, or a checkpoint folder that exists (made absolute).
   *
   * @throws EntityException for anything else
   */
  static String checkResume(String resume) {
    if (resume.equals("latest")) {
      return resume;
    }
    Path folder = Path.of(resume).toAbsolutePath().normalize();
    if (!Files.isDirectory(folder)) {
      throw new EntityException(
          "--resume: "
              + folder
              + (Files.exists(folder) ? " is not a folder" : " does not exist")
              + "; give a checkpoint folder (checkpoint-STEP in the output folder) or 'latest'");
    }
    return folder.toString();
  }

  /** The REVIEW step that prints what the evaluation found, when an evaluation ran. */
  private Plugin<Plugin.NoConfig> verdictStep() {
    return Plugin.of(
        VERDICT_STEP,
        Plugin.NoConfig.class,
        Set.of(Stage.REVIEW),
        Set.of("memory"),
        (context, config) -> {
          context
              .recall(EvaluationPlugin.MEMORY_KEY, EvaluationPlugin.Result.class)
              .ifPresent(result -> out.print(EvaluationReport.of(result)));
          out.flush();
          return null;
        });
  }

  /** The THINK step that prints the plan and, interactively, asks before going on. */
  private Plugin<Plugin.NoConfig> reviewStep(Path base, boolean interactive) {
    return Plugin.of(
        REVIEW_STEP,
        Plugin.NoConfig.class,
        Set.of(Stage.THINK),
        Set.of("memory"),
        (context, config) -> {
          review(context, base, interactive);
          return null;
        });
  }

  private void review(PluginContext context, Path base, boolean interactive) throws IOException {
    List<String> parts = new ArrayList<>();
    context
        .recall(DatasetLoaderPlugin.MEMORY_KEY, PreparedDataset.class)
        .ifPresent(d -> parts.add(PlanReport.dataset(d, base)));
    context
        .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
        .ifPresent(p -> parts.add(PlanReport.training(p, base)));
    out.println(String.join(System.lineSeparator(), parts));
    if (interactive) {
      out.print("Go on with the stages after parse (training, evaluation, export)? [y/N] ");
      out.flush();
      String answer = in.readLine();
      out.println();
      if (answer == null || !answer.strip().toLowerCase(Locale.ROOT).matches("y|yes")) {
        context.cancellation().cancel(DECLINED);
        context.cancellation().throwIfCancelled();
      }
    }
    out.flush();
  }

  private static String relativeOrAbsolute(Path base, Path file) {
    return PlanReport.relative(base, file.toAbsolutePath().normalize().toString());
  }
}
