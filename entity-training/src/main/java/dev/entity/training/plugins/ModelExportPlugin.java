// Convention: explicit paths in the config (model_path, adapter_path, base_model_path) win over
// what the trainer left in memory; without either, the plugin refuses rather than guess a model.
package dev.entity.training.plugins;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.core.resource.Storage;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.training.export.ExportFormat;
import dev.entity.training.export.ExportRequest;
import dev.entity.training.export.HfModelExport;
import dev.entity.training.export.ModelCard;
import dev.entity.training.export.ModelExport;
import dev.entity.training.hub.HubSettings;
import dev.entity.training.hub.HubUploader;
import dev.entity.training.train.TrainingConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The OUTPUT plugin {@value #NAME}: exports the model the DO stage trained (or the folders named in
 * the config) as a Hugging Face folder, a PEFT adapter, a merged model, a GGUF file and an Ollama
 * Modelfile, with a model card, each verified after writing ({@link ModelExport}); records what it
 * wrote under {@value #MEMORY_KEY}, optionally pushes to the Hugging Face Hub, and {@code say}s a
 * summary.
 */
public final class ModelExportPlugin extends BaseTrainingPlugin<ModelExportPlugin.Config> {

  /** The plugin's name in workflow YAML. */
  public static final String NAME = "model_export";

  /** The memory key of the {@link Result}. */
  public static final String MEMORY_KEY = "export.result";

  /**
   * The plugin's config.
   *
   * @param exportFormat one or several of huggingface, safetensors, adapter, gguf, ollama
   * @param mergeAdapter fold a LoRA adapter into its base (default true)
   * @param quantizationFormat GGUF type: f32, f16, bf16, q8_0 (default), q4_0, q5_1
   * @param dtype dtype of Hugging Face weights: f32 (default), bf16, f16
   * @param outputPath the export folder (default: export/ in the run folder)
   * @param modelPath a full model folder to export instead of the trained one
   * @param adapterPath a PEFT adapter folder to export instead of the trained one
   * @param baseModelPath the adapter's base model folder
   * @param baseModelName the base model's Hub id for the card (default: its folder name)
   * @param license model card license, e.g. apache-2.0
   * @param tags model card tags
   * @param datasets model card datasets (default: the run's dataset files)
   * @param description model card description
   * @param pushToHub push the main exported folder to the Hub
   * @param hubModelId the Hub repository (owner/name)
   * @param privateRepo create the repository private (YAML key {@code private})
   * @param systemPrompt Ollama SYSTEM prompt
   * @param ollamaParameters Ollama PARAMETERs (temperature, top_p, top_k, num_ctx, ...)
   * @param ollamaModelName the Ollama model's name (default: entity-model)
   * @param runOllama run {@code ollama create} when Ollama is installed (default true)
   */
  public record Config(
      List<String> exportFormat,
      Boolean mergeAdapter,
      String quantizationFormat,
      String dtype,
      String outputPath,
      String modelPath,
      String adapterPath,
      String baseModelPath,
      String baseModelName,
      String license,
      List<String> tags,
      List<String> datasets,
      String description,
      Boolean pushToHub,
      String hubModelId,
      @JsonProperty("private") Boolean privateRepo,
      String systemPrompt,
      Map<String, Double> ollamaParameters,
      String ollamaModelName,
      Boolean runOllama) {
    public Config {
      exportFormat = exportFormat == null ? List.of("huggingface") : List.copyOf(exportFormat);
      mergeAdapter = mergeAdapter == null || mergeAdapter;
      quantizationFormat = quantizationFormat == null ? "q8_0" : quantizationFormat;
      dtype = dtype == null ? "f32" : dtype;
      tags = tags == null ? List.of() : List.copyOf(tags);
      pushToHub = pushToHub != null && pushToHub;
      privateRepo = privateRepo != null && privateRepo;
      ollamaParameters = ollamaParameters == null ? Map.of() : Map.copyOf(ollamaParameters);
      ollamaModelName = ollamaModelName == null ? "entity-model" : ollamaModelName;
      runOllama = runOllama == null || runOllama;
    }
  }

  /** What the export wrote (stored in memory), and the Hub URL when pushed. */
  public record Result(List<ModelExport.Written> written, String hubUrl) {}

  private final Supplier<Backend> backends;
  private final HubSettings hub;

  /** The plugin as the registry finds it: CPU backend, Hub settings from the environment. */
  public ModelExportPlugin() {
    this(() -> new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors())), null);
  }

  /** A plugin with a given backend source and Hub settings (null: from the environment). */
  public ModelExportPlugin(Supplier<Backend> backends, HubSettings hub) {
    this.backends = backends;
    this.hub = hub;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.OUTPUT);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) throws Exception {
    Set<ExportFormat> formats = EnumSet.noneOf(ExportFormat.class);
    config.exportFormat().forEach(f -> formats.add(ExportFormat.parse(f)));
    if (config.pushToHub() && (config.hubModelId() == null || config.hubModelId().isBlank())) {
      throw new EntityException(
          "hub_model_id: push_to_hub is true; name the repository (owner/name)");
    }
    var trained = context.recall(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class);
    Path model = path(config.modelPath());
    Path adapter = path(config.adapterPath());
    Path base = path(config.baseModelPath());
    if (model == null && adapter == null) {
      FineTuningPlugin.Summary s =
          trained.orElseThrow(
              () ->
                  new EntityException(
                      "model_export: nothing to export: no training ran in this workflow; set"
                          + " model_path (a full model folder) or adapter_path and"
                          + " base_model_path"));
      if (s.method().toLowerCase(Locale.ROOT).contains("lora")) {
        adapter = Path.of(s.finalModel());
        base = base != null ? base : Path.of(s.baseModel());
      } else {
        model = Path.of(s.finalModel());
      }
    }
    Path out =
        config.outputPath() != null
            ? outputDir(config.outputPath())
            : context.resource(Storage.class).resolve("export");
    Path baseForName = adapter != null ? base : model;
    String baseName =
        config.baseModelName() != null
            ? config.baseModelName()
            : baseForName == null ? null : baseForName.getFileName().toString();
    ModelCard card = card(context, config, out, trained.orElse(null));
    ExportRequest request =
        new ExportRequest(
            formats,
            model,
            adapter,
            base,
            baseName,
            config.mergeAdapter(),
            HfModelExport.parseDType(config.dtype()),
            ModelExport.quantization(config.quantizationFormat()),
            out,
            card,
            config.systemPrompt(),
            config.ollamaParameters(),
            config.ollamaModelName(),
            config.runOllama(),
            quantizedBase(context, trained.orElse(null), adapter));
    List<ModelExport.Written> written;
    try (Backend backend = backends.get()) {
      written = ModelExport.run(backend, request, line -> context.log().info(line));
    }
    String url = null;
    if (config.pushToHub()) {
      Path folder = ModelExport.pushFolder(written);
      HubSettings settings = hub != null ? hub : HubSettings.fromEnvironment();
      url =
          new HubUploader(settings, line -> context.log().info(line))
              .push(
                  folder,
                  config.hubModelId(),
                  HubUploader.Options.of(
                      config.privateRepo(), "Upload model trained with entity-training"))
              .url();
    }
    Result result = new Result(written, url);
    context.remember(MEMORY_KEY, result);
    StringBuilder summary = new StringBuilder("Exported to " + out + ":");
    for (ModelExport.Written w : written) {
      summary
          .append("\n  ")
          .append(w.format())
          .append(": ")
          .append(w.path())
          .append(" — ")
          .append(w.detail());
    }
    if (url != null) {
      summary.append("\n  pushed to ").append(url);
    }
    context.say(summary.toString());
    return summary.toString();
  }

  private static Path path(String p) {
    return p == null || p.isBlank() ? null : outputDir(p);
  }

  private static ModelCard card(
      PluginContext context, Config config, Path out, FineTuningPlugin.Summary trained) {
    Map<String, Object> training = new LinkedHashMap<>();
    Map<String, Double> metrics = new LinkedHashMap<>();
    if (trained != null) {
      training.put("method", trained.method());
      training.put("steps", trained.steps());
      training.put("tokens", trained.tokens());
      metrics.put("final_train_loss", trained.finalLoss());
      if (trained.bestEvalLoss() != null) {
        metrics.put("best_eval_loss", trained.bestEvalLoss());
      }
    }
    context
        .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
        .ifPresent(
            p ->
                p.config()
                    .forEach(
                        (k, v) -> {
                          if (v != null) training.putIfAbsent(k, v);
                        }));
    Memory memory = context.resource(Memory.class);
    for (Memory.Evaluation e : memory.evaluations(context.runId())) {
      metrics.put(e.name(), e.value());
    }
    List<String> datasets = new ArrayList<>();
    String datasetSummary = null;
    var dataset = context.recall(DatasetLoaderPlugin.MEMORY_KEY, PreparedDataset.class);
    if (dataset.isPresent()) {
      datasetSummary = dataset.get().info().summary();
      dataset
          .get()
          .info()
          .files()
          .forEach(f -> datasets.add(Path.of(f.path()).getFileName().toString()));
    }
    String modelId =
        config.hubModelId() != null ? config.hubModelId() : out.getFileName().toString();
    return new ModelCard(
        modelId,
        null,
        false,
        config.license(),
        config.tags(),
        config.datasets() != null ? config.datasets() : datasets,
        config.description(),
        training,
        datasetSummary,
        metrics,
        null,
        null);
  }

  /**
   * The NF4 setting of the QLoRA run whose adapter is exported (from the training plan in memory),
   * or null when the adapter did not come from a QLoRA run of this workflow.
   */
  private static Nf4Config quantizedBase(
      PluginContext context, FineTuningPlugin.Summary trained, Path adapter) {
    if (trained == null
        || adapter == null
        || !"qlora".equalsIgnoreCase(trained.method())
        || !adapter.equals(Path.of(trained.finalModel()))) {
      return null;
    }
    TrainingConfig t = TrainingPlan.recall(context).trainingConfig();
    return Nf4Config.of(t.bnb4bitComputeDtype(), t.bnb4bitUseDoubleQuant());
  }
}
