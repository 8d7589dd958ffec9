// Convention: this plugin's own keys (gradient_checkpointing, max_grad_norm, output_dir) override
// the training config's only when given; null means "as the training config says". Everything the
// run owns natively (backend, session, signal handlers) is closed in one try-with-resources, so
// every exit path frees it.
package dev.entity.training.plugins;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.Backends;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.engine.tokenizer.TokenizerLoader;
import dev.entity.training.data.BatchSource;
import dev.entity.training.data.TokenizedDataset;
import dev.entity.training.data.TrainingBatches;
import dev.entity.training.hub.HubDownloader;
import dev.entity.training.hub.HubSettings;
import dev.entity.training.report.RunReportSink;
import dev.entity.training.train.InterruptHandler;
import dev.entity.training.train.Trainer;
import dev.entity.training.train.TrainingConfig;
import dev.entity.training.train.metrics.MemoryResourceMetricsSink;
import dev.entity.training.train.metrics.MetricsSink;
import dev.entity.training.train.metrics.MetricsSinks;
import dev.entity.training.train.metrics.ProgressBarMetricsSink;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The DO plugin {@value #NAME}: loads the model named by the training plan (a local Hugging Face
 * folder, or a Hub id downloaded into the Hub cache), builds LoRA or full fine-tuning on the chosen
 * backend, prepares the dataset stored by the INPUT stage, runs the {@link Trainer} with the run's
 * cancellation flag (Ctrl-C and SIGTERM checkpoint and stop), records metrics and checkpoints in
 * the memory resource and stores a {@link Summary} under {@value #MEMORY_KEY}. The returned message
 * is a one-paragraph summary.
 */
public final class FineTuningPlugin extends BaseTrainingPlugin<FineTuningPlugin.Config> {

  /** The plugin's name in workflow YAML. */
  public static final String NAME = "fine_tuning";

  /** The memory key of the {@link Summary}. */
  public static final String MEMORY_KEY = "training.result";

  /** The memory key prefix of the tokenization statistics (".training", ".validation"). */
  public static final String DATA_KEY = "training.data";

  /** The memory key under which the CLI may store the command line that started this run. */
  public static final String COMMAND_KEY = "cli.command_line";

  /**
   * The plugin's config, as the seed plan names it.
   *
   * @param resumeFromCheckpoint {@code latest} or a checkpoint folder; null starts fresh
   * @param outputDir overrides the training config's output_dir when given
   * @param pushToHub passed on to the export stage (pushing is not done here)
   * @param hubModelId the Hub repository for push_to_hub
   * @param gradientCheckpointing overrides the training config's when given
   * @param optim the optimizer: adamw (adamw_torch is accepted as its name in the seed plan)
   * @param maxGradNorm overrides the training config's max_grad_norm when given
   * @param fp16 keep frozen weights in F16 (the CPU computes in F32 either way)
   * @param bf16 keep frozen weights in BF16
   */
  public record Config(
      String resumeFromCheckpoint,
      String outputDir,
      Boolean pushToHub,
      String hubModelId,
      Boolean gradientCheckpointing,
      @Pattern(
              regexp = "adamw|adamw_torch",
              message = "must be adamw (adamw_torch is accepted); no other optimizer is supported")
          String optim,
      @PositiveOrZero Double maxGradNorm,
      @JsonProperty("fp16") Boolean fp16,
      @JsonProperty("bf16") Boolean bf16) {
    public Config {
      pushToHub = pushToHub != null && pushToHub;
      optim = optim == null ? "adamw" : optim;
      fp16 = fp16 != null && fp16;
      bf16 = bf16 != null && bf16;
    }
  }

  /**
   * What the trainer trains on: the training batches in a resumable order, the validation batches
   * and a description for the run report (tokens, truncation, label fraction).
   */
  public record TrainingData(BatchSource train, List<Batch> validation, String description) {
    public TrainingData {
      validation = List.copyOf(validation);
      description = description == null ? "" : description;
    }
  }

  /**
   * Turns the stored dataset into batches for a model (chat template, truncation, padding or
   * packing); supplied by the data preparation library.
   */
  @FunctionalInterface
  public interface DataPreparation {
    TrainingData prepare(
        PreparedDataset dataset, Path modelFolder, TrainingConfig config, PluginContext context);
  }

  /**
   * What a run did, stored in memory for the later stages.
   *
   * @param outcome completed, early_stopped (failures are thrown)
   * @param steps optimizer steps taken
   * @param finalLoss the last step's training loss
   * @param bestEvalLoss the best validation loss, or null
   * @param bestStep its step, or -1
   * @param bestCheckpoint its checkpoint folder, or null
   * @param finalModel the final-model folder (adapter or model)
   * @param baseModel the base model folder
   * @param method full or lora
   * @param microBatchSize the micro-batch at the end (lower after an out-of-memory retry)
   * @param tokens training tokens seen
   * @param seconds training wall time in this process
   * @param pushToHub whether the export stage should push
   * @param hubModelId where to push
   */
  public record Summary(
      String outcome,
      long steps,
      double finalLoss,
      Double bestEvalLoss,
      long bestStep,
      String bestCheckpoint,
      String finalModel,
      String baseModel,
      String method,
      int microBatchSize,
      long tokens,
      double seconds,
      boolean pushToHub,
      String hubModelId) {}

  private final DataPreparation preparation;
  private final BiFunction<Path, String, MetricsSink> sinks;

  /** The plugin as the registry finds it. */
  public FineTuningPlugin() {
    this(
        DeviceInfo::detect,
        FineTuningPlugin::prepareWithTokenizer,
        FineTuningPlugin::standardSinks);
  }

  /**
   * The run's standard sinks in {@code outputDir}: the progress bar, metrics.jsonl, metrics.csv,
   * TensorBoard events and, when the run ends, report.md/report.html with {@code datasetSummary}.
   */
  public static MetricsSink standardSinks(Path outputDir, String datasetSummary) {
    return MetricsSinks.standard(
        outputDir,
        ProgressBarMetricsSink.onStandardOutput(),
        null,
        System.err::println,
        new RunReportSink(outputDir, datasetSummary));
  }

  /**
   * A plugin with a fixed host, a data preparation and the metric sinks for an output folder and a
   * dataset summary (console, files, report; the memory resource is always recorded).
   */
  public FineTuningPlugin(
      Supplier<DeviceInfo> probe,
      DataPreparation preparation,
      BiFunction<Path, String, MetricsSink> sinks) {
    super(probe);
    this.preparation = preparation;
    this.sinks = sinks;
  }

  /**
   * The data library's preparation ({@link TrainingBatches#prepare}): the model folder's tokenizer
   * and its chat template (built-in chatml when it has none), assistant-only labels, truncation to
   * max_seq_length, padding (length-grouped) or packing; statistics logged and stored under {@value
   * #DATA_KEY}.
   */
  static TrainingData prepareWithTokenizer(
      PreparedDataset dataset, Path modelFolder, TrainingConfig config, PluginContext context) {
    Tokenizer tokenizer;
    ChatTemplate template;
    try {
      tokenizer = TokenizerLoader.load(modelFolder);
      template = ChatTemplate.fromTokenizer(tokenizer, "chatml");
    } catch (EngineException e) {
      throw new EntityException(
          "cannot load the tokenizer of " + modelFolder + ": " + e.getMessage(), e);
    }
    TrainingBatches batches =
        TrainingBatches.prepare(
            dataset.train(),
            dataset.validation(),
            tokenizer,
            template,
            config,
            TokenizedDataset.Progress.none());
    String description = "training tokens: " + batches.trainStatistics().describe();
    context.log().info(description);
    context.remember(DATA_KEY + ".training", batches.trainStatistics().toMap());
    context.remember(DATA_KEY + ".validation", batches.validationStatistics().toMap());
    return new TrainingData(batches.train(), batches.validation(), description);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.DO);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) throws Exception {
    TrainingPlan plan = TrainingPlan.recall(context);
    TrainingConfig training = overridden(plan.trainingConfig(), config);
    if (config.fp16() && config.bf16()) {
      throw new EntityException("fp16 and bf16 are both true; choose one (or neither for F32)");
    }
    if (plan.estimated() && !plan.fits()) {
      throw new EntityException(
          "not enough memory: the run needs about "
              + formatBytes(plan.estimatedBytes())
              + " but "
              + plan.deviceDescription()
              + System.lineSeparator()
              + plan.estimateTable()
              + String.join(System.lineSeparator(), plan.warnings()));
    }
    Path modelFolder = modelFolder(plan.modelPath(), context);
    DType frozen =
        config.bf16()
            ? DType.BF16
            : config.fp16()
                ? DType.F16
                : "bf16".equals(training.frozenWeightsDtype()) ? DType.BF16 : DType.F32;
    LoraConfig lora =
        new LoraConfig(
            training.loraR(),
            training.loraAlpha(),
            training.loraDropout(),
            training.targetModules(),
            training.useRslora(),
            training.seed());
    Decoder.Options options =
        (switch (training.method()) {
              case FULL -> Decoder.Options.full();
              case LORA -> Decoder.Options.lora(lora);
              // Block linears frozen in NF4 (bitsandbytes layout), dequantized per layer.
              case QLORA ->
                  Decoder.Options.qlora(
                      lora,
                      Nf4Config.of(
                          training.bnb4bitComputeDtype(), training.bnb4bitUseDoubleQuant()));
            })
            .withFrozenDType(frozen)
            .withGradientCheckpointing(training.gradientCheckpointing());
    AdamW.Config adam =
        new AdamW.Config(0.9f, 0.999f, 1e-8f, training.weightDecay().floatValue(), false);

    String command =
        context.recall(COMMAND_KEY, String.class).orElse("entity-train train --config <workflow>");
    List<String> notices = new ArrayList<>();
    Trainer.Options trainerOptions =
        new Trainer.Options(
            context.runId(),
            plan.modelPath(),
            modelFolder,
            config.resumeFromCheckpoint(),
            command,
            line -> {
              notices.add(line);
              context.log().info(line);
            });
    Path output = Path.of(training.outputDir());
    try (InterruptHandler interrupts =
            InterruptHandler.install(context.cancellation(), trainerOptions.notices());
        Backend backend = backend(plan.device());
        TrainingSession session = open(backend, modelFolder, options, adam, plan)) {
      PreparedDataset dataset = PreparedDataset.recall(context);
      TrainingData data = preparation.prepare(dataset, modelFolder, training, context);
      String datasetSummary =
          dataset.info().summary()
              + (data.description().isEmpty() ? "" : System.lineSeparator() + data.description());
      try (MetricsSink sink =
          MetricsSink.of(
              List.of(
                  new MemoryResourceMetricsSink(context.resource(Memory.class), context.runId()),
                  sinks.apply(output, datasetSummary)))) {
        return train(
            context, config, training, plan, modelFolder, session, data, trainerOptions, sink);
      }
    }
  }

  private static String train(
      PluginContext context,
      Config config,
      TrainingConfig training,
      TrainingPlan plan,
      Path modelFolder,
      TrainingSession session,
      TrainingData data,
      Trainer.Options trainerOptions,
      MetricsSink sink) {
    {
      Trainer trainer =
          new Trainer(
              session,
              training,
              data.train(),
              data.validation(),
              trainerOptions,
              sink,
              context.cancellation());
      Trainer.Result r = trainer.train();
      Summary summary =
          new Summary(
              r.outcome().name().toLowerCase(Locale.ROOT),
              r.steps(),
              r.lastLoss(),
              r.bestEvalLoss(),
              r.bestStep(),
              r.bestCheckpoint() == null ? null : r.bestCheckpoint().toString(),
              r.finalModel().toString(),
              modelFolder.toString(),
              training.trainingMethod(),
              r.microBatchSize(),
              r.tokens(),
              r.seconds(),
              config.pushToHub(),
              config.hubModelId());
      context.remember(MEMORY_KEY, summary);
      return String.format(
          Locale.ROOT,
          "%s fine-tuning of %s %s after %d steps (%.1f s, %,d tokens): final loss %.4f%s;"
              + " final model in %s",
          training.trainingMethod(),
          plan.modelPath(),
          summary.outcome().replace('_', ' '),
          r.steps(),
          r.seconds(),
          r.tokens(),
          r.lastLoss(),
          r.bestEvalLoss() == null
              ? ""
              : String.format(
                  Locale.ROOT,
                  ", best validation loss %.4f at step %d",
                  r.bestEvalLoss(),
                  r.bestStep()),
          r.finalModel());
    }
  }

  private static TrainingConfig overridden(TrainingConfig t, Config c) {
    if (c.outputDir() != null) {
      t = t.with("output_dir", outputDir(c.outputDir()).toString());
    }
    if (c.gradientCheckpointing() != null) {
      t = t.with("gradient_checkpointing", c.gradientCheckpointing());
    }
    if (c.maxGradNorm() != null) {
      t = t.with("max_grad_norm", c.maxGradNorm());
    }
    return t;
  }

  /** The local model folder: as given, or the Hub id's snapshot in the Hub cache. */
  private static Path modelFolder(String model, PluginContext context) {
    Path local = Path.of(model);
    if (Files.isDirectory(local)) {
      if (!Files.isRegularFile(local.resolve("config.json"))) {
        throw new EntityException(
            "model_name_or_path: "
                + local
                + " has no config.json; give a Hugging Face model folder");
      }
      return local.toAbsolutePath().normalize();
    }
    boolean hubId = model.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    if (!hubId || Files.exists(local)) {
      throw new EntityException(
          "model_name_or_path: model not found: "
              + model
              + " is neither a model folder nor a Hub id (owner/name)");
    }
    context.log().info("downloading " + model + " from the Hugging Face Hub");
    return new HubDownloader(HubSettings.fromEnvironment(), line -> context.log().info(line))
        .download(model);
  }

  private static Backend backend(String device) {
    return Backends.open(device == null ? "cpu" : device, 0);
  }

  private static TrainingSession open(
      Backend backend, Path folder, Decoder.Options options, AdamW.Config adam, TrainingPlan plan) {
    try {
      return TrainingSession.open(backend, folder, options, adam);
    } catch (EngineException e) {
      throw new EntityException("cannot load the model in " + folder + ": " + e.getMessage(), e);
    } catch (OutOfMemoryError e) {
      throw new EntityException(
          "not enough memory to load the model in "
              + folder
              + (plan.estimated()
                  ? " (estimated peak " + formatBytes(plan.estimatedBytes()) + ")"
                  : "")
              + "; use training_method: lora, bf16: true, gradient_checkpointing: true or a"
              + " smaller batch_size / max_seq_length",
          e);
    }
  }
}
