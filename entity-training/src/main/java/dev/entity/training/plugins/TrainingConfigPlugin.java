// Convention: a model path that does not exist locally and reads like a Hub id (at most one slash)
// is not an error: the estimate is skipped with a warning, since downloading is not built yet.
package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.model.ModelConfig;
import dev.entity.training.train.MemoryEstimator;
import dev.entity.training.train.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The PARSE plugin {@value #NAME}: its config is a {@link TrainingConfig} (every field, its
 * defaults and single-field rules are checked when the workflow is built). When it runs it reads
 * the model folder's {@code config.json}, checks the cross-field rules against that architecture,
 * picks the device (CPU RAM, or a GPU's free memory when one is detected), runs the {@link
 * MemoryEstimator} and, when the estimate is larger than the device, lowers the micro-batch while
 * raising gradient accumulation so the effective batch is unchanged. It logs what it changed, warns
 * when nothing fits, stores a {@link TrainingPlan} in memory under {@value #MEMORY_KEY} and returns
 * a one-paragraph summary.
 */
public final class TrainingConfigPlugin extends BaseTrainingPlugin<TrainingConfig> {

  /** The plugin's name in workflow YAML. */
  public static final String NAME = "training_config";

  /** The memory key of the {@link TrainingPlan}. */
  public static final String MEMORY_KEY = "training.plan";

  private static final Pattern HUB_ID =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?");

  /** The plugin as the registry finds it; probes this host when it first runs. */
  public TrainingConfigPlugin() {}

  /** A plugin with a fixed host description (tests, or a caller that probed already). */
  public TrainingConfigPlugin(Supplier<DeviceInfo> probe) {
    super(probe);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.PARSE);
  }

  @Override
  public Class<TrainingConfig> configType() {
    return TrainingConfig.class;
  }

  @Override
  public String execute(PluginContext context, TrainingConfig config) {
    ModelConfig model = readModel(config.modelNameOrPath());
    ChosenDevice device = chooseDevice(config.device());
    String outputDir = outputDir(config.outputDir()).toString();
    if (model == null) {
      String warning =
          "model_name_or_path '"
              + config.modelNameOrPath()
              + "' is not a local folder ("
              + Path.of(config.modelNameOrPath()).toAbsolutePath().normalize()
              + " does not exist), so it is taken as a Hugging Face Hub id; the memory estimate"
              + " needs the model's config.json and was skipped. Download the model (e.g."
              + " huggingface-cli download "
              + config.modelNameOrPath()
              + " --local-dir models/NAME) and give that folder";
      context.log().warn("memory estimate skipped", "reason", warning);
      TrainingPlan plan =
          new TrainingPlan(
              config.toMap(),
              config.modelNameOrPath(),
              null,
              0,
              0,
              device.configName(),
              device.description(),
              device.memoryBytes(),
              List.of(),
              "",
              0,
              false,
              List.of(),
              List.of(warning),
              outputDir);
      context.remember(MEMORY_KEY, plan);
      return describe(config) + " on " + device.description() + ". Warning: " + warning + ".";
    }
    List<String> violations = config.violations(model);
    if (!violations.isEmpty()) {
      throw new EntityException(
          "training config does not fit the model at "
              + config.modelNameOrPath()
              + " ("
              + model.architecture().name().toLowerCase(Locale.ROOT)
              + "): "
              + String.join("; ", violations));
    }
    MemoryEstimator.Fit fit =
        new MemoryEstimator(model, config, device.target()).fit(device.memoryBytes());
    for (String change : fit.changes()) {
      context.log().info("batch auto-adjusted to fit the device", "change", change);
    }
    for (String warning : fit.warnings()) {
      context.log().warn("memory estimate", "warning", warning);
    }
    MemoryEstimator.Estimate estimate = fit.estimate();
    TrainingPlan plan =
        new TrainingPlan(
            fit.config().toMap(),
            Path.of(config.modelNameOrPath()).toAbsolutePath().normalize().toString(),
            model.architecture().name().toLowerCase(Locale.ROOT),
            estimate.parameters(),
            estimate.trainableParameters(),
            device.configName(),
            device.description(),
            device.memoryBytes(),
            estimate.items(),
            estimate.table(),
            estimate.total(),
            fit.fits(),
            fit.changes(),
            fit.warnings(),
            outputDir);
    context.remember(MEMORY_KEY, plan);
    context
        .log()
        .info(
            "training config checked",
            "method",
            config.trainingMethod(),
            "estimated_bytes",
            estimate.total(),
            "device_bytes",
            device.memoryBytes(),
            "fits",
            fit.fits());
    return summary(fit, model, device);
  }

  /**
   * The model's config, or null for a Hub id without a local copy.
   *
   * @throws EntityException for a local path that does not exist or is not a model folder
   */
  private static ModelConfig readModel(String modelNameOrPath) {
    Path path;
    try {
      path = Path.of(modelNameOrPath);
    } catch (InvalidPathException e) {
      throw new EntityException(
          "model_name_or_path: '" + modelNameOrPath + "' is not a valid path: " + e.getReason(), e);
    }
    if (Files.exists(path)) {
      return ModelConfig.load(path);
    }
    if (HUB_ID.matcher(modelNameOrPath).matches()) {
      return null;
    }
    throw new EntityException(
        "model_name_or_path: "
            + path.toAbsolutePath().normalize()
            + " does not exist; give a model folder with config.json (as written by"
            + " save_pretrained)");
  }

  private static String describe(TrainingConfig c) {
    return String.format(
        Locale.ROOT,
        "Training config: %s on %s, learning rate %s, batch %d x %d accumulation (effective %d),"
            + " max_seq_length %d, %s",
        c.trainingMethod(),
        c.modelNameOrPath(),
        c.learningRate(),
        c.batchSize(),
        c.gradientAccumulationSteps(),
        c.effectiveBatchSize(),
        c.maxSeqLength(),
        c.maxSteps() > 0 ? c.maxSteps() + " steps" : c.numEpochs() + " epochs");
  }

  private static String summary(MemoryEstimator.Fit fit, ModelConfig model, ChosenDevice device) {
    MemoryEstimator.Estimate e = fit.estimate();
    StringBuilder s = new StringBuilder(describe(fit.config()));
    s.append(
        String.format(
            Locale.ROOT,
            ". Model: %s, %,d parameters, %,d trainable. Estimated peak memory %s on %s: %s.",
            model.architecture().name().toLowerCase(Locale.ROOT),
            e.parameters(),
            e.trainableParameters(),
            formatBytes(e.total()),
            device.description(),
            fit.fits() ? "fits" : "does NOT fit"));
    if (!fit.changes().isEmpty()) {
      s.append(" Adjusted ").append(String.join("; ", fit.changes())).append('.');
    }
    if (!fit.warnings().isEmpty()) {
      List<String> lines = new ArrayList<>(fit.warnings());
      s.append(" Warning: ").append(String.join("; ", lines)).append('.');
    }
    return s.toString();
  }
}
