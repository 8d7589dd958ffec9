package dev.entity.training.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.model.ModelConfig;
import dev.entity.training.train.MemoryEstimator;
import dev.entity.training.train.TrainingConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingConfigPluginTest {

  @TempDir Path dir;

  private Map<String, Object> config(Path model, Object... keyValues) {
    Map<String, Object> config = new HashMap<>();
    config.put("model_name_or_path", model.toString());
    config.put("max_seq_length", 256);
    config.put("output_dir", dir.resolve("out").toString());
    for (int i = 0; i < keyValues.length; i += 2) {
      config.put((String) keyValues[i], keyValues[i + 1]);
    }
    return config;
  }

  private static long estimateAtBatch(int batch) {
    TrainingConfig c =
        TrainingConfig.defaults("m").with("max_seq_length", 256).with("batch_size", batch);
    return new MemoryEstimator(ModelConfig.shape("tiny"), c, MemoryEstimator.Target.CPU)
        .estimate()
        .total();
  }

  @Test
  void storesTheConfigAndEstimateWhenItFits() {
    Path model = PipelineRun.tinyModel(dir);
    PipelineRun run =
        PipelineRun.run(dir.resolve("run"), PipelineRun.cpuHost(8L << 30), null, config(model));

    assertThat(run.result.succeeded()).as(run.result.summary()).isTrue();
    TrainingPlan plan = run.plan;
    assertThat(plan.architecture()).isEqualTo("llama");
    assertThat(plan.parameters()).isEqualTo(ModelConfig.shape("tiny").parameterCount());
    assertThat(plan.trainableParameters()).isPositive().isLessThan(plan.parameters());
    assertThat(plan.device()).isEqualTo("cpu");
    assertThat(plan.deviceMemoryBytes()).isEqualTo(8L << 30);
    assertThat(plan.estimatedBytes()).isEqualTo(estimateAtBatch(4));
    assertThat(plan.fits()).isTrue();
    assertThat(plan.adjustments()).isEmpty();
    assertThat(plan.estimateTable()).contains("total");
    assertThat(plan.outputDir()).isEqualTo(dir.resolve("out").toString());
    TrainingConfig typed = plan.trainingConfig();
    assertThat(typed.batchSize()).isEqualTo(4);
    assertThat(typed.maxSeqLength()).isEqualTo(256);
    assertThat(typed.modelNameOrPath()).isEqualTo(model.toString());
  }

  @Test
  void lowersTheMicroBatchKeepingTheEffectiveBatchAndStoresWhatItChanged() {
    Path model = PipelineRun.tinyModel(dir);
    long room = estimateAtBatch(2) + 1;
    assertThat(room).isLessThan(estimateAtBatch(4));
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(room),
            null,
            config(model, "batch_size", 4, "gradient_accumulation_steps", 3));

    TrainingPlan plan = run.plan;
    assertThat(plan.config())
        .containsEntry("batch_size", 2)
        .containsEntry("gradient_accumulation_steps", 6);
    assertThat(plan.trainingConfig().effectiveBatchSize()).isEqualTo(12);
    assertThat(plan.fits()).isTrue();
    assertThat(plan.estimatedBytes()).isEqualTo(estimateAtBatch(2));
    assertThat(plan.adjustments()).singleElement().asString().contains("batch_size 4 -> 2");
    assertThat(run.result.message()).contains("Adjusted batch_size 4 -> 2");
  }

  @Test
  void warnsButDoesNotFailWhenNothingFits() {
    Path model = PipelineRun.tinyModel(dir);
    PipelineRun run =
        PipelineRun.run(dir.resolve("run"), PipelineRun.cpuHost(1L << 20), null, config(model));
    assertThat(run.result.succeeded()).isTrue();
    assertThat(run.plan.fits()).isFalse();
    assertThat(run.plan.config()).containsEntry("batch_size", 1);
    assertThat(run.plan.warnings())
        .first()
        .asString()
        .contains("does not fit even at batch_size 1");
    assertThat(run.result.message()).contains("does NOT fit");
  }

  @Test
  void usesTheGpuWhenOneIsDetected() {
    Path model = PipelineRun.tinyModel(dir);
    DeviceInfo host =
        new DeviceInfo(
            4,
            8L << 30,
            4L << 30,
            1L << 30,
            List.of(new DeviceInfo.Gpu(0, "Test GPU", 24L << 30, 1L << 30)));
    PipelineRun run = PipelineRun.run(dir.resolve("run"), host, null, config(model));
    assertThat(run.plan.device()).isEqualTo("cuda");
    assertThat(run.plan.deviceMemoryBytes()).isEqualTo(23L << 30);
    assertThat(run.plan.deviceDescription()).contains("Test GPU");
    assertThat(run.plan.estimateTable()).contains("CUDA context");
  }

  @Test
  void cudaWithoutAGpuIsAnError() {
    Path model = PipelineRun.tinyModel(dir);
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(8L << 30),
            null,
            config(model, "device", "cuda"));
    assertThat(run.failure())
        .contains("plugin 'training_config' failed in stage PARSE")
        .contains("device: cuda")
        .contains("no NVIDIA GPU");
  }

  @Test
  void aHubIdWithoutALocalCopySkipsTheEstimateWithAWarning() {
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(8L << 30),
            null,
            config(Path.of("SomeOrg/some-model-that-is-not-here")));
    assertThat(run.result.succeeded()).isTrue();
    assertThat(run.plan.estimated()).isFalse();
    assertThat(run.plan.architecture()).isNull();
    assertThat(run.plan.warnings())
        .singleElement()
        .asString()
        .contains("Hub id")
        .contains("config.json");
    assertThat(run.plan.trainingConfig().modelNameOrPath())
        .isEqualTo("SomeOrg/some-model-that-is-not-here");
  }

  @Test
  void aMissingLocalPathIsAnError() {
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"), PipelineRun.cpuHost(8L << 30), null, config(dir.resolve("a/b/c")));
    assertThat(run.failure()).contains("model_name_or_path").contains("does not exist");
  }

  @Test
  void aModelFolderWithoutConfigJsonIsAnError() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty-model"));
    PipelineRun run =
        PipelineRun.run(dir.resolve("run"), PipelineRun.cpuHost(8L << 30), null, config(empty));
    assertThat(run.failure()).contains("empty-model").contains("config.json").contains("not found");
  }

  @Test
  void anUnsupportedArchitectureIsAnErrorListingTheSupportedOnes() throws IOException {
    Path model = Files.createDirectories(dir.resolve("mamba"));
    Files.writeString(
        model.resolve("config.json"), "{\"model_type\": \"mamba\", \"hidden_size\": 64}");
    PipelineRun run =
        PipelineRun.run(dir.resolve("run"), PipelineRun.cpuHost(8L << 30), null, config(model));
    assertThat(run.failure()).contains("mamba").contains("llama").contains("gpt2");
  }

  @Test
  void crossFieldRulesAreCheckedAgainstTheArchitecture() {
    Path model = PipelineRun.tinyModel(dir);
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(8L << 30),
            null,
            config(model, "target_modules", List.of("c_attn")));
    assertThat(run.failure()).contains("target_modules").contains("c_attn").contains("llama");
  }

  @Test
  void badFieldsAreReportedWithTheirPathsWhenTheWorkflowIsBuilt() {
    Path model = PipelineRun.tinyModel(dir);
    assertThatThrownBy(
            () ->
                PipelineRun.run(
                    dir.resolve("run"),
                    PipelineRun.cpuHost(8L << 30),
                    null,
                    config(model, "learning_rate", 5, "training_method", "dpo", "lora_rank", 8)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("config.learning_rate")
        .hasMessageContaining("config.training_method: must be one of full, lora, qlora")
        .hasMessageContaining("lora_rank");
  }
}
