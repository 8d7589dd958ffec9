// Convention: a problem in the outputs (an empty answer, an answer cut by max_new_tokens instead
// of an end-of-turn token) is reported and stored; it fails the stage only with
// fail_on_problems: true, since a model trained for a few steps rarely stops well.
package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.format.gguf.GgufModel;
import dev.entity.engine.generate.ChatModel;
import dev.entity.engine.generate.DecodeBenchmark;
import dev.entity.engine.generate.GenerationOptions;
import dev.entity.engine.generate.GenerationResult;
import dev.entity.engine.template.ChatMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The plugin {@value #NAME} (OUTPUT or REVIEW): loads the trained or exported model (a Hugging Face
 * folder with its adapter, or a GGUF file: the one model_export wrote in this run when there is
 * one, else {@code model_path}), answers sample prompts and checks each answer is non-empty and
 * ends with an end-of-turn token, measures prefill and decode tokens/s and memory, does the same
 * for the base model, writes a short Markdown benchmark report and stores the figures in memory
 * under {@value #MEMORY_KEY}.
 */
public final class InferenceTestPlugin extends BaseTrainingPlugin<InferenceTestPlugin.Config> {

  /** The plugin's name in workflow YAML. */
  public static final String NAME = "inference_test";

  /** Memory key of the {@link Result}. */
  public static final String MEMORY_KEY = "inference_test.result";

  /** The report's file name in the output folder. */
  public static final String REPORT_FILE = "inference_benchmark.md";

  /**
   * The plugin's config.
   *
   * @param modelPath the model folder (the base model with an adapter) or a GGUF file; default the
   *     GGUF model_export wrote in this run (see {@code exportedGguf}), else the training's
   * @param exportedGguf test the GGUF model that model_export wrote earlier in this run (default
   *     true when it wrote one and {@code model_path} is not set); the base model is measured
   *     beside it
   * @param adapterPath the adapter folder; default the training's
   * @param basePath the base model to compare with when there is no adapter; default the training's
   *     base
   * @param prompts sample prompts
   * @param chat render the prompts with the chat template as user messages
   * @param maxNewTokens most tokens per answer
   * @param promptLength prompt tokens of the speed measurement
   * @param generateTokens generated tokens of the speed measurement
   * @param runs measured runs (after a warm-up)
   * @param compareWithBase also measure the base model
   * @param failOnProblems fail the stage when an answer is empty or does not stop by itself
   * @param reportPath the report file; default {@value #REPORT_FILE} in the run's output folder
   * @param device backend to run on
   * @param threads worker threads (0 = every core)
   */
  public record Config(
      String modelPath,
      Boolean exportedGguf,
      String adapterPath,
      String basePath,
      List<String> prompts,
      Boolean chat,
      Integer maxNewTokens,
      Integer promptLength,
      Integer generateTokens,
      Integer runs,
      Boolean compareWithBase,
      Boolean failOnProblems,
      String reportPath,
      String device,
      Integer threads) {
    public Config {
      prompts =
          prompts == null || prompts.isEmpty()
              ? List.of(
                  "What is the capital of France?",
                  "Write one sentence about the sea.",
                  "Explain fine-tuning in one sentence.")
              : List.copyOf(prompts);
      chat = chat == null || chat;
      maxNewTokens = maxNewTokens == null ? 64 : maxNewTokens;
      promptLength = promptLength == null ? 64 : promptLength;
      generateTokens = generateTokens == null ? 32 : generateTokens;
      runs = runs == null ? 2 : runs;
      compareWithBase = compareWithBase == null || compareWithBase;
      failOnProblems = failOnProblems != null && failOnProblems;
      device = device == null ? "cpu" : device;
      threads = threads == null ? 0 : threads;
      exportedGguf = exportedGguf == null ? modelPath == null && adapterPath == null : exportedGguf;
      if (maxNewTokens < 1 || promptLength < 1 || generateTokens < 2 || runs < 1) {
        throw new EntityException(
            "max_new_tokens, prompt_length and runs must be >= 1 and generate_tokens >= 2");
      }
    }
  }

  /**
   * One sample prompt's answer and its checks.
   *
   * @param prompt the prompt
   * @param answer the text
   * @param tokens generated tokens
   * @param finishReason why it ended
   * @param problem what is wrong with it, or null
   */
  public record Answer(
      String prompt, String answer, int tokens, String finishReason, String problem) {}

  /**
   * The figures of one model.
   *
   * @param model the model, for people
   * @param weightBytes bytes of its weights
   * @param figures speed and memory
   * @param answers the sample answers
   */
  public record ModelFigures(
      String model, long weightBytes, DecodeBenchmark.Figures figures, List<Answer> answers) {}

  /**
   * What the test found (stored in memory).
   *
   * @param tuned the tested model
   * @param base the base model, or null when not compared
   * @param problems every answer's problem, prefixed with the model
   * @param report the report file
   */
  public record Result(
      ModelFigures tuned, ModelFigures base, List<String> problems, String report) {}

  /** The plugin as the registry finds it. */
  public InferenceTestPlugin() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.OUTPUT, Stage.REVIEW);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) {
    EvaluationPlugin.TunedModel tuned = tunedModel(context, config);
    Path base = config.basePath() != null ? Path.of(config.basePath()) : tuned.base();
    ModelFigures tunedFigures;
    ModelFigures baseFigures = null;
    try (Backend backend = EvaluationPlugin.backend(config.device(), config.threads())) {
      try (ChatModel m = EvaluationPlugin.open(backend, tuned.model(), tuned.adapter())) {
        tunedFigures = measure(m, tunedName(tuned), config, context);
        if (config.compareWithBase() && tuned.adapter() != null) {
          m.useAdapter(false);
          baseFigures = measure(m, tuned.model() + " (adapter off)", config, context);
        }
      }
      if (config.compareWithBase() && tuned.adapter() == null && base != null) {
        try (ChatModel b = EvaluationPlugin.open(backend, base, null)) {
          baseFigures = measure(b, base.toString(), config, context);
        }
      }
    }
    List<String> problems = new ArrayList<>();
    for (ModelFigures f :
        baseFigures == null ? List.of(tunedFigures) : List.of(tunedFigures, baseFigures)) {
      for (Answer a : f.answers()) {
        if (a.problem() != null) {
          problems.add(f.model() + ": \"" + a.prompt() + "\": " + a.problem());
        }
      }
    }
    Path report = reportPath(context, config);
    String text = report(tunedFigures, baseFigures, problems);
    try {
      Files.createDirectories(report.toAbsolutePath().getParent());
      Files.writeString(report, text);
    } catch (IOException e) {
      throw new EntityException(
          "cannot write the benchmark report " + report + ": " + e.getMessage(), e);
    }
    Result result = new Result(tunedFigures, baseFigures, problems, report.toString());
    context.remember(MEMORY_KEY, result);
    List<String> tunedProblems =
        tunedFigures.answers().stream()
            .filter(a -> a.problem() != null)
            .map(Answer::problem)
            .toList();
    if (config.failOnProblems() && !tunedProblems.isEmpty()) {
      throw new EntityException(
          "inference test failed for "
              + tunedFigures.model()
              + ": "
              + String.join("; ", problems)
              + " (report: "
              + report
              + ")");
    }
    for (String p : problems) {
      context.log().warn("inference test", "problem", p);
    }
    String summary = summary(tunedFigures, baseFigures, problems.size(), report);
    context.say(summary);
    return summary;
  }

  /**
   * What to test: the GGUF model_export wrote (when asked and there is one; its base is the
   * training's base model, else the model that was exported), or what the evaluation would load.
   */
  private static EvaluationPlugin.TunedModel tunedModel(PluginContext context, Config config) {
    if (config.exportedGguf()) {
      Path gguf = exportedGguf(context);
      if (gguf != null) {
        Path base =
            context
                .recall(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class)
                .map(FineTuningPlugin.Summary::baseModel)
                .or(
                    () ->
                        context
                            .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
                            .map(TrainingPlan::modelPath))
                .map(Path::of)
                .orElse(null);
        return new EvaluationPlugin.TunedModel(gguf, null, base);
      }
      if (config.modelPath() != null || config.adapterPath() != null) {
        throw new EntityException(
            "exported_gguf is true but model_export wrote no GGUF model in this run; put"
                + " model_export (export_format: [gguf]) before this plugin, or set"
                + " exported_gguf: false");
      }
    }
    return EvaluationPlugin.TunedModel.resolve(context, config.modelPath(), config.adapterPath());
  }

  /** The GGUF model file model_export wrote in this run, or null. */
  private static Path exportedGguf(PluginContext context) {
    return context
        .recall(ModelExportPlugin.MEMORY_KEY, ModelExportPlugin.Result.class)
        .flatMap(r -> r.written().stream().filter(w -> w.format().equals("gguf")).findFirst())
        .map(w -> Path.of(w.path()))
        .filter(GgufModel::isGgufFile)
        .orElse(null);
  }

  private static String tunedName(EvaluationPlugin.TunedModel t) {
    if (GgufModel.isGgufFile(t.model())) {
      try {
        return t.model() + " (GGUF, " + DeviceInfo.formatBytes(Files.size(t.model())) + " file)";
      } catch (IOException e) {
        return t.model() + " (GGUF)";
      }
    }
    return t.adapter() == null ? t.model().toString() : t.model() + " + adapter " + t.adapter();
  }

  private static ModelFigures measure(
      ChatModel m, String name, Config config, PluginContext context) {
    List<Answer> answers = new ArrayList<>();
    GenerationOptions options = GenerationOptions.greedy(config.maxNewTokens());
    for (String prompt : config.prompts()) {
      GenerationResult r =
          config.chat()
              ? m.chat(List.of(ChatMessage.user(prompt)), options, null)
              : m.complete(prompt, options, null);
      String problem = null;
      if (r.text().isBlank()) {
        problem = "empty answer (" + r.tokens().length + " tokens, " + reason(r) + ")";
      } else if (!r.stoppedProperly()) {
        problem =
            "did not stop by itself (" + reason(r) + " after " + r.tokens().length + " tokens)";
      }
      answers.add(new Answer(prompt, r.text(), r.tokens().length, reason(r), problem));
    }
    int context2 = m.decoder().config().maxPositions();
    int promptLength = Math.min(config.promptLength(), context2 / 2);
    int generate = Math.max(2, Math.min(config.generateTokens(), context2 - promptLength));
    DecodeBenchmark.Figures figures =
        DecodeBenchmark.run(m.generator(), promptLength, generate, config.runs());
    context
        .log()
        .info(
            "inference figures",
            "model",
            name,
            "decode_tokens_per_second",
            String.format(Locale.ROOT, "%.2f", figures.decodeTokensPerSecond()));
    return new ModelFigures(name, m.weightBytes(), figures, answers);
  }

  private static String reason(GenerationResult r) {
    return r.finishReason().name().toLowerCase(Locale.ROOT).replace('_', ' ');
  }

  private static Path reportPath(PluginContext context, Config config) {
    if (config.reportPath() != null) {
      return Path.of(config.reportPath());
    }
    String out =
        context
            .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
            .map(TrainingPlan::outputDir)
            .orElse(".");
    return outputDir(out).resolve(REPORT_FILE);
  }

  /** The Markdown report: a table of the figures, then every answer. */
  static String report(ModelFigures tuned, ModelFigures base, List<String> problems) {
    StringBuilder s = new StringBuilder("# Inference benchmark\n\n");
    s.append(
        "| model | weights | prefill tokens/s | decode tokens/s | first token ms |"
            + " KV cache | peak RSS |\n|---|---|---|---|---|---|---|\n");
    for (ModelFigures f : base == null ? List.of(tuned) : List.of(tuned, base)) {
      DecodeBenchmark.Figures g = f.figures();
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %.1f | %.2f | %.1f | %s | %s |%n",
              f.model(),
              DeviceInfo.formatBytes(f.weightBytes()),
              g.prefillTokensPerSecond(),
              g.decodeTokensPerSecond(),
              g.firstTokenMillis(),
              DeviceInfo.formatBytes(g.kvCacheBytes()),
              g.peakResidentBytes() < 0
                  ? "unknown"
                  : DeviceInfo.formatBytes(g.peakResidentBytes())));
    }
    DecodeBenchmark.Figures g = tuned.figures();
    s.append(
        String.format(
            Locale.ROOT,
            "%nPrompt of %d random tokens, %d generated, median of %d runs after a warm-up.%n",
            g.promptTokens(),
            g.generatedTokens(),
            g.runs()));
    for (ModelFigures f : base == null ? List.of(tuned) : List.of(tuned, base)) {
      s.append("\n## Answers of ").append(f.model()).append("\n\n");
      for (Answer a : f.answers()) {
        s.append("- **")
            .append(a.prompt())
            .append("** (")
            .append(a.tokens())
            .append(" tokens, ")
            .append(a.finishReason())
            .append("): ")
            .append(a.answer().strip().replace("\n", " "))
            .append('\n');
      }
    }
    s.append("\n## Checks\n\n");
    s.append(
        problems.isEmpty()
            ? "Every answer is non-empty and ends with an end-of-turn token.\n"
            : "- " + String.join("\n- ", problems) + "\n");
    return s.toString();
  }

  private static String summary(ModelFigures tuned, ModelFigures base, int problems, Path report) {
    String s =
        String.format(
            Locale.ROOT,
            "inference test of %s: decode %.2f tokens/s, prefill %.1f" + " tokens/s",
            tuned.model(),
            tuned.figures().decodeTokensPerSecond(),
            tuned.figures().prefillTokensPerSecond());
    if (base != null) {
      s +=
          String.format(
              Locale.ROOT, " (base: decode %.2f tokens/s)", base.figures().decodeTokensPerSecond());
    }
    return s
        + "; "
        + (problems == 0 ? "every answer non-empty and stopped" : problems + " answer problem(s)")
        + "; report "
        + report;
  }
}
