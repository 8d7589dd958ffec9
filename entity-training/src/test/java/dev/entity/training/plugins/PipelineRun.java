package dev.entity.training.plugins;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the two plugins in a workflow built in code, with a THINK step that recalls what they stored
 * exactly as the trainer will (through {@link PreparedDataset#recall} and {@link
 * TrainingPlan#recall}).
 */
final class PipelineRun {

  /** What the THINK step read back from memory; null when the stage did not run. */
  PreparedDataset dataset;

  TrainingPlan plan;
  WorkflowResult result;

  private PipelineRun() {}

  /** A host with {@code ramBytes} available and no GPU. */
  static DeviceInfo cpuHost(long ramBytes) {
    return new DeviceInfo(4, 2 * ramBytes, ramBytes, 1L << 30, List.of());
  }

  /** Writes the tiny shape's config.json into {@code dir}/model and returns the folder. */
  static Path tinyModel(Path dir) {
    Path model = dir.resolve("model");
    try {
      Files.createDirectories(model);
      ModelConfig.shape("tiny").write(model.resolve("config.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return model;
  }

  /**
   * Runs {@code dataset_loader} with {@code datasetConfig} (when not null) and {@code
   * training_config} with {@code trainingConfig} (when not null) on {@code host}.
   */
  static PipelineRun run(
      Path runFolder,
      DeviceInfo host,
      Map<String, ?> datasetConfig,
      Map<String, ?> trainingConfig) {
    PipelineRun run = new PipelineRun();
    PluginRegistry registry =
        PluginRegistry.of(new DatasetLoaderPlugin(), new TrainingConfigPlugin(() -> host));
    Workflow.Builder builder = Workflow.builder("test", registry).runFolder(runFolder);
    if (datasetConfig != null) {
      builder.add(Stage.INPUT, DatasetLoaderPlugin.NAME, datasetConfig);
    }
    if (trainingConfig != null) {
      builder.add(Stage.PARSE, TrainingConfigPlugin.NAME, trainingConfig);
    }
    builder.add(
        Stage.THINK,
        Plugin.of(
            "recall_probe",
            Plugin.NoConfig.class,
            Set.of(Stage.THINK),
            Set.of("memory"),
            (context, config) -> {
              if (datasetConfig != null) {
                run.dataset = PreparedDataset.recall(context);
              }
              if (trainingConfig != null) {
                run.plan = TrainingPlan.recall(context);
              }
              return null;
            }),
        new Plugin.NoConfig());
    run.result = new WorkflowExecutor(builder.build(), text -> {}, Clock.systemUTC()).run("");
    return run;
  }

  /** The failure's one-line message; fails the test when the run did not fail. */
  String failure() {
    if (!(result instanceof WorkflowResult.Failed failed)) {
      throw new AssertionError("expected the run to fail, got " + result.summary());
    }
    return failed.failure().toString();
  }
}
