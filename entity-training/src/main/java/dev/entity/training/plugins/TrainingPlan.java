package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.core.config.ConfigBinder;
import dev.entity.training.train.MemoryEstimator;
import dev.entity.training.train.TrainingConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link TrainingConfigPlugin} stores in memory under {@value
 * TrainingConfigPlugin#MEMORY_KEY}: the final training config (after the batch auto-adjust) as its
 * YAML keys, the model it was checked against, the device and its memory, the memory estimate, what
 * was changed and the warnings. The trainer recalls it with {@link #recall} and takes the typed
 * config from {@link #trainingConfig()}.
 *
 * @param config the final training config, snake_case YAML keys to values
 * @param modelPath the absolute model folder, or the Hub id as given when there is no local copy
 * @param architecture the model's architecture ({@code llama}, {@code qwen2}, {@code gpt2}), or
 *     null when config.json could not be read (a Hub id without a local copy)
 * @param parameters all parameters of the model, 0 when unknown
 * @param trainableParameters parameters that get gradients, 0 when unknown
 * @param device {@code cpu} or {@code cuda}
 * @param deviceDescription the device, for people
 * @param deviceMemoryBytes the memory the estimate was fitted to
 * @param estimate the estimate's breakdown; empty when it was skipped
 * @param estimateTable the breakdown as a table for people; empty when skipped
 * @param estimatedBytes the estimated peak, 0 when skipped
 * @param fits whether the estimate fits the device memory (false when skipped)
 * @param adjustments what the batch auto-adjust changed, empty when nothing
 * @param warnings why it does not fit and what would help, or why the estimate was skipped
 * @param outputDir absolute folder for checkpoints and the final model
 */
public record TrainingPlan(
    Map<String, Object> config,
    String modelPath,
    String architecture,
    long parameters,
    long trainableParameters,
    String device,
    String deviceDescription,
    long deviceMemoryBytes,
    List<MemoryEstimator.Item> estimate,
    String estimateTable,
    long estimatedBytes,
    boolean fits,
    List<String> adjustments,
    List<String> warnings,
    String outputDir) {

  public TrainingPlan {
    config = Collections.unmodifiableMap(new LinkedHashMap<>(config));
    estimate = List.copyOf(estimate);
    adjustments = List.copyOf(adjustments);
    warnings = List.copyOf(warnings);
  }

  /**
   * The plan stored by the PARSE stage of this run.
   *
   * @throws EntityException when there is none (no training_config in the parse stage)
   */
  public static TrainingPlan recall(PluginContext context) {
    return context
        .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
        .orElseThrow(
            () ->
                new EntityException(
                    "no training config was checked in this run; put the "
                        + TrainingConfigPlugin.NAME
                        + " plugin in the parse stage"));
  }

  /** The final config as the typed record (bound and validated again from {@link #config}). */
  public TrainingConfig trainingConfig() {
    return ConfigBinder.bind(TrainingConfig.class, config);
  }

  /** Whether the memory estimate ran (it needs the model's config.json). */
  public boolean estimated() {
    return !estimate.isEmpty();
  }
}
