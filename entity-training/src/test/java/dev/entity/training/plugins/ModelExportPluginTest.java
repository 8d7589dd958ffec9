package dev.entity.training.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.Architecture;
import dev.entity.training.checksum.FileChecksums;
import dev.entity.training.export.TinyExportModels;
import dev.entity.training.hub.FakeHubServer;
import dev.entity.training.hub.HubSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelExportPluginTest {

  @TempDir static Path shared;
  static Path base;
  static Path adapter;

  @BeforeAll
  static void models() {
    base = TinyExportModels.base(Architecture.QWEN2, shared.resolve("base"));
    adapter = TinyExportModels.adapter(base, shared.resolve("adapter"), true);
  }

  /** Runs model_export in OUTPUT (after an optional THINK step) and reads back its memory. */
  static final class Run {
    final List<String> said = new ArrayList<>();
    ModelExportPlugin.Result stored;
    WorkflowResult result;
  }

  static Run run(Path runFolder, Map<String, ?> config, Plugin<Plugin.NoConfig> think) {
    return run(runFolder, config, think, null);
  }

  static Run run(
      Path runFolder, Map<String, ?> config, Plugin<Plugin.NoConfig> think, HubSettings hub) {
    Run run = new Run();
    ModelExportPlugin plugin = new ModelExportPlugin(() -> new CpuBackend(1), hub);
    Plugin<Plugin.NoConfig> probe =
        Plugin.of(
            "probe",
            Plugin.NoConfig.class,
            Set.of(Stage.OUTPUT),
            Set.of("memory"),
            (context, c) -> {
              run.stored =
                  context
                      .recall(ModelExportPlugin.MEMORY_KEY, ModelExportPlugin.Result.class)
                      .orElse(null);
              return null;
            });
    List<Plugin<?>> plugins = new ArrayList<>(List.of(plugin, probe));
    if (think != null) {
      plugins.add(think);
    }
    Workflow.Builder b =
        Workflow.builder("test", PluginRegistry.of(plugins.toArray(Plugin[]::new)))
            .runFolder(runFolder);
    if (think != null) {
      b.add(Stage.THINK, think, new Plugin.NoConfig());
    }
    b.add(Stage.OUTPUT, ModelExportPlugin.NAME, config);
    b.add(Stage.OUTPUT, probe, new Plugin.NoConfig());
    run.result = new WorkflowExecutor(b.build(), run.said::add, Clock.systemUTC()).run("");
    return run;
  }

  @Test
  void loraAdapterIsExportedMergedConvertedAndGivenAModelfile(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Run r =
        run(
            dir.resolve("run"),
            Map.of(
                "export_format", List.of("adapter", "huggingface", "gguf", "ollama"),
                "adapter_path", adapter.toString(),
                "base_model_path", base.toString(),
                "output_path", out.toString(),
                "quantization_format", "q8_0",
                "license", "mit",
                "system_prompt", "You are helpful.",
                "ollama_parameters", Map.of("temperature", 0.2, "num_ctx", 512),
                "run_ollama", false),
            null);
    assertThat(r.result).isInstanceOf(WorkflowResult.Completed.class);
    assertThat(out.resolve("adapter/adapter_model.safetensors")).isRegularFile();
    assertThat(out.resolve("merged/model.safetensors")).isRegularFile();
    assertThat(out.resolve("gguf/model-q8_0.gguf")).isRegularFile();
    String modelfile = Files.readString(out.resolve("Modelfile"));
    assertThat(modelfile)
        .contains("FROM ./gguf/model-q8_0.gguf", "PARAMETER stop \"<|im_end|>\"")
        .contains("SYSTEM \"\"\"You are helpful.\"\"\"", "PARAMETER num_ctx 512");
    assertThat(Files.readString(out.resolve("merged/README.md")))
        .contains("library_name: \"transformers\"", "license: \"mit\"", "model-q8_0.gguf");
    assertThat(Files.readString(out.resolve("adapter/README.md")))
        .contains("library_name: \"peft\"");
    FileChecksums.verifyManifest(out.resolve("merged"));
    FileChecksums.verifyManifest(out.resolve("adapter"));
    assertThat(r.stored.written())
        .extracting(w -> w.format())
        .containsExactly("adapter", "merged", "gguf", "ollama");
    assertThat(String.join("\n", r.said)).contains(out.resolve("Modelfile").toString(), "merged");
  }

  @Test
  void adapterWithoutMergeGivesBaseGgufPlusLoraAdapterForOllama(@TempDir Path dir)
      throws Exception {
    Path out = dir.resolve("out");
    Run r =
        run(
            dir.resolve("run"),
            Map.of(
                "export_format",
                "ollama",
                "merge_adapter",
                false,
                "adapter_path",
                adapter.toString(),
                "base_model_path",
                base.toString(),
                "output_path",
                out.toString(),
                "quantization_format",
                "f16",
                "run_ollama",
                false),
            null);
    assertThat(r.result).isInstanceOf(WorkflowResult.Completed.class);
    assertThat(Files.readString(out.resolve("Modelfile")))
        .contains("FROM ./gguf/base-f16.gguf\nADAPTER ./gguf/adapter-f32.gguf\n");
    assertThat(out.resolve("merged")).doesNotExist();
  }

  @Test
  void theTrainersFinalModelInMemoryIsExported(@TempDir Path dir) {
    Plugin<Plugin.NoConfig> trainer =
        Plugin.of(
            "fake_trainer",
            Plugin.NoConfig.class,
            Set.of(Stage.THINK),
            Set.of("memory"),
            (context, c) -> {
              context.remember(
                  FineTuningPlugin.MEMORY_KEY,
                  new FineTuningPlugin.Summary(
                      "completed",
                      3,
                      1.5,
                      1.4,
                      3,
                      null,
                      adapter.toString(),
                      base.toString(),
                      "lora",
                      1,
                      100,
                      1.0,
                      false,
                      null));
              return null;
            });
    Run r = run(dir.resolve("run"), Map.of("export_format", "huggingface"), trainer);
    assertThat(r.result).isInstanceOf(WorkflowResult.Completed.class);
    Path merged = dir.resolve("run/export/merged");
    assertThat(merged.resolve("config.json")).isRegularFile();
    assertThat(r.stored.written().getFirst().format()).isEqualTo("merged");
  }

  @Test
  void withoutATrainedModelOrPathsItFailsClearly(@TempDir Path dir) {
    Run r = run(dir.resolve("run"), Map.of("export_format", "gguf"), null);
    assertThat(r.result).isInstanceOf(WorkflowResult.Failed.class);
    assertThat(r.result.summary()).contains("nothing to export", "model_path");
    Run bad =
        run(
            dir.resolve("run2"),
            Map.of("export_format", "zip", "model_path", base.toString()),
            null);
    assertThat(bad.result.summary()).contains("export_format", "huggingface");
  }

  @Test
  void evaluationsGoIntoTheCardAndTheMergedFolderIsPushed(@TempDir Path dir) throws Exception {
    Plugin<Plugin.NoConfig> evaluation =
        Plugin.of(
            "fake_evaluation",
            Plugin.NoConfig.class,
            Set.of(Stage.THINK),
            Set.of("memory"),
            (context, c) -> {
              context
                  .resource(Memory.class)
                  .addEvaluation(
                      new Memory.Evaluation(
                          context.runId(),
                          3,
                          "perplexity",
                          4.25,
                          Memory.Verdict.PASS,
                          Instant.now()));
              return null;
            });
    try (FakeHubServer hub = new FakeHubServer()) {
      Path out = dir.resolve("out");
      Run r =
          run(
              dir.resolve("run"),
              Map.of(
                  "export_format",
                  "huggingface",
                  "adapter_path",
                  adapter.toString(),
                  "base_model_path",
                  base.toString(),
                  "output_path",
                  out.toString(),
                  "push_to_hub",
                  true,
                  "hub_model_id",
                  "me/tiny-merged",
                  "private",
                  true),
              evaluation,
              hub.settings(FakeHubServer.TOKEN));
      assertThat(r.result).as(r.result.summary()).isInstanceOf(WorkflowResult.Completed.class);
      String card = Files.readString(out.resolve("merged/README.md"));
      assertThat(card).contains("| perplexity | 4.2500 |", "# me/tiny-merged");
      assertThat(hub.problems).isEmpty();
      assertThat(hub.committed)
          .containsKeys("README.md", "config.json", "model.safetensors", "SHA256SUMS");
      assertThat(hub.committed.get("model.safetensors"))
          .isEqualTo(Files.readAllBytes(out.resolve("merged/model.safetensors")));
      assertThat(r.stored.hubUrl()).endsWith("/me/tiny-merged");
      assertThat(String.join("\n", r.said))
          .contains("pushed to")
          .doesNotContain(FakeHubServer.TOKEN);
    }
  }
}
