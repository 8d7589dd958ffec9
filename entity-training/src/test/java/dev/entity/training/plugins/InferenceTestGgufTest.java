package dev.entity.training.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.engine.format.gguf.GgmlType;
import dev.entity.engine.format.gguf.GgufExport;
import dev.entity.engine.model.Architecture;
import dev.entity.training.cli.TinyChatModel;
import dev.entity.training.export.ModelExport;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inference test on a GGUF file: the Q8_0 model that model_export recorded in this run (the
 * quickstart's case), measured beside the training's base model; and a GGUF given as model_path.
 */
class InferenceTestGgufTest {

  @TempDir static Path dir;
  static Path model;
  static Path gguf;

  @BeforeAll
  static void export() {
    model = TinyChatModel.write(dir, Architecture.LLAMA)[0];
    gguf = dir.resolve("export/gguf/model-q8_0.gguf");
    GgufExport.model(model, gguf, GgufExport.Options.of(GgmlType.Q8_0));
  }

  /** Runs the inference test after a stand-in that records what training and export did. */
  static InferenceTestPlugin.Result[] run(Path runFolder, boolean exported, Map<String, ?> extra) {
    InferenceTestPlugin.Result[] seen = new InferenceTestPlugin.Result[1];
    Workflow.Builder b =
        Workflow.builder("gguf-inference", PluginRegistry.of(new InferenceTestPlugin()))
            .runFolder(runFolder);
    b.add(
        Stage.DO,
        Plugin.of(
            "training_and_export_stand_in",
            Plugin.NoConfig.class,
            Set.of(Stage.DO),
            Set.of("memory"),
            (context, c) -> {
              context.remember(
                  FineTuningPlugin.MEMORY_KEY,
                  new FineTuningPlugin.Summary(
                      "completed",
                      3,
                      1.0,
                      null,
                      -1,
                      null,
                      model.toString(),
                      model.toString(),
                      "full",
                      4,
                      100,
                      1.0,
                      false,
                      null));
              if (exported) {
                context.remember(
                    ModelExportPlugin.MEMORY_KEY,
                    new ModelExportPlugin.Result(
                        List.of(new ModelExport.Written("gguf", gguf.toString(), "q8_0", "x")),
                        null));
              }
              return null;
            }),
        new Plugin.NoConfig());
    Map<String, Object> config = new HashMap<>();
    config.put("prompts", List.of("Hello?"));
    config.put("max_new_tokens", 6);
    config.put("prompt_length", 8);
    config.put("generate_tokens", 4);
    config.put("runs", 1);
    config.put("threads", 1);
    config.put("report_path", runFolder.resolve("bench.md").toString());
    config.putAll(extra);
    b.add(Stage.OUTPUT, InferenceTestPlugin.NAME, config);
    b.add(
        Stage.OUTPUT,
        Plugin.of(
            "probe",
            Plugin.NoConfig.class,
            Set.of(Stage.OUTPUT),
            Set.of("memory"),
            (context, c) -> {
              seen[0] =
                  context
                      .recall(InferenceTestPlugin.MEMORY_KEY, InferenceTestPlugin.Result.class)
                      .orElse(null);
              return null;
            }),
        new Plugin.NoConfig());
    WorkflowResult result = new WorkflowExecutor(b.build(), text -> {}, Clock.systemUTC()).run("");
    assertThat(result.succeeded()).as(result.summary()).isTrue();
    return seen;
  }

  @Test
  void testsTheExportedGgufBesideTheBase() {
    InferenceTestPlugin.Result r = run(dir.resolve("run1"), true, Map.of())[0];
    assertThat(r.tuned().model()).contains("model-q8_0.gguf").contains("GGUF");
    assertThat(r.tuned().figures().decodeTokensPerSecond()).isPositive();
    assertThat(r.tuned().figures().prefillTokensPerSecond()).isPositive();
    assertThat(r.tuned().answers())
        .singleElement()
        .satisfies(a -> assertThat(a.tokens()).isPositive());
    assertThat(r.base()).isNotNull();
    assertThat(r.base().model()).isEqualTo(model.toString());
    assertThat(Path.of(r.report()))
        .content()
        .contains("model-q8_0.gguf")
        .contains(model.toString())
        .contains("decode tokens/s");
  }

  @Test
  void withoutAnExportTheFolderIsTestedAndAGgufCanBeNamed() {
    InferenceTestPlugin.Result folder = run(dir.resolve("run2"), false, Map.of())[0];
    assertThat(folder.tuned().model()).isEqualTo(model.toString());
    InferenceTestPlugin.Result named =
        run(
            dir.resolve("run3"),
            false,
            Map.of("model_path", gguf.toString(), "compare_with_base", false))[0];
    assertThat(named.tuned().model()).contains("model-q8_0.gguf");
    assertThat(named.base()).isNull();
    InferenceTestPlugin.Result notExported =
        run(dir.resolve("run4"), true, Map.of("exported_gguf", false, "compare_with_base", false))[
            0];
    assertThat(notExported.tuned().model()).isEqualTo(model.toString());
  }
}
