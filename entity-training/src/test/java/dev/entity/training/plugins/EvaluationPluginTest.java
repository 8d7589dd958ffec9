package dev.entity.training.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.engine.model.Architecture;
import dev.entity.training.cli.TinyChatModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation and inference-test plugins in a workflow: dataset_loader's validation split, a
 * stand-in for the trainer that records a final-model adapter, then REVIEW and OUTPUT.
 */
class EvaluationPluginTest {

  @TempDir static Path dir;
  static Path model;
  static Path adapter;
  static Path data;

  @BeforeAll
  static void setUp() throws IOException {
    Path[] written = TinyChatModel.write(dir, Architecture.QWEN2);
    model = written[0];
    adapter = written[1];
    StringBuilder s = new StringBuilder();
    String[][] pairs = {
      {"What is the capital of France?", "The capital of France is Paris."},
      {"Name a primary colour.", "Red is a primary colour."},
      {"How many legs does a spider have?", "A spider has eight legs."},
      {"What colour is the sky?", "The sky is blue."}
    };
    for (int i = 0; i < 8; i++) {
      String[] p = pairs[i % pairs.length];
      s.append("{\"instruction\":\"")
          .append(p[0])
          .append("\",\"input\":\"\",\"output\":\"")
          .append(p[1])
          .append("\"}\n");
    }
    data = Files.writeString(dir.resolve("data.jsonl"), s.toString());
  }

  /** What the probe read back after the plugins ran. */
  static final class Seen {
    EvaluationPlugin.Result evaluation;
    InferenceTestPlugin.Result inference;
    List<Memory.Evaluation> rows = new ArrayList<>();
    WorkflowResult result;
  }

  static Seen run(
      Path runFolder,
      FineTuningPlugin.Summary training,
      Map<String, ?> evaluation,
      Map<String, ?> inference) {
    Seen seen = new Seen();
    PluginRegistry registry =
        PluginRegistry.of(
            new DatasetLoaderPlugin(), new EvaluationPlugin(), new InferenceTestPlugin());
    Workflow.Builder b = Workflow.builder("eval-test", registry).runFolder(runFolder);
    b.add(
        Stage.INPUT,
        DatasetLoaderPlugin.NAME,
        Map.of("dataset_path", data.toString(), "validation_split", 0.5, "seed", 1));
    b.add(
        Stage.DO,
        Plugin.of(
            "trainer_stand_in",
            Plugin.NoConfig.class,
            Set.of(Stage.DO),
            Set.of("memory"),
            (context, c) -> {
              if (training != null) {
                context.remember(FineTuningPlugin.MEMORY_KEY, training);
              }
              return null;
            }),
        new Plugin.NoConfig());
    b.add(Stage.REVIEW, EvaluationPlugin.NAME, evaluation);
    if (inference != null) {
      b.add(Stage.OUTPUT, InferenceTestPlugin.NAME, inference);
    }
    b.add(
        Stage.OUTPUT,
        Plugin.of(
            "probe",
            Plugin.NoConfig.class,
            Set.of(Stage.OUTPUT),
            Set.of("memory"),
            (context, c) -> {
              seen.evaluation =
                  context
                      .recall(EvaluationPlugin.MEMORY_KEY, EvaluationPlugin.Result.class)
                      .orElse(null);
              seen.inference =
                  context
                      .recall(InferenceTestPlugin.MEMORY_KEY, InferenceTestPlugin.Result.class)
                      .orElse(null);
              seen.rows.addAll(context.resource(Memory.class).evaluations(context.runId()));
              return null;
            }),
        new Plugin.NoConfig());
    seen.result = new WorkflowExecutor(b.build(), text -> {}, Clock.systemUTC()).run("");
    return seen;
  }

  /** What fine_tuning records after a LoRA run whose final model is the adapter. */
  static FineTuningPlugin.Summary trained() {
    return new FineTuningPlugin.Summary(
        "completed",
        3,
        1.0,
        null,
        -1,
        null,
        adapter.toString(),
        model.toString(),
        "lora",
        4,
        100,
        1.0,
        false,
        null);
  }

  @Test
  void evaluatesTheTrainedAdapterAgainstTheBaseModel() {
    Seen seen =
        run(
            dir.resolve("run1"),
            trained(),
            Map.of(
                "num_samples",
                2,
                "generation_config",
                Map.of("max_new_tokens", 8),
                "thresholds",
                Map.of("max_perplexity", 1e9, "min_bleu", 99.0),
                "threads",
                1),
            Map.of(
                "prompts",
                List.of("Hello?"),
                "max_new_tokens",
                6,
                "prompt_length",
                8,
                "generate_tokens",
                4,
                "runs",
                1,
                "threads",
                1,
                "report_path",
                dir.resolve("run1/bench.md").toString()));
    assertThat(seen.result.succeeded()).as(seen.result.summary()).isTrue();
    EvaluationPlugin.Result r = seen.evaluation;
    assertThat(r.conversations()).isEqualTo(4);
    assertThat(r.tuned()).containsKeys("perplexity", "bleu", "rouge1", "rouge2", "rougeL");
    assertThat(r.base()).containsKeys("perplexity", "bleu", "rougeL");
    assertThat(r.tuned().get("perplexity"))
        .isGreaterThan(1)
        .isNotEqualTo(r.base().get("perplexity"));
    assertThat(r.comparisons()).hasSize(5);
    assertThat(r.outcome()).isEqualTo("FAIL");
    assertThat(r.reasons()).singleElement().asString().contains("bleu 0.0 < min 99.0");
    assertThat(r.passedChecks()).anyMatch(c -> c.contains("<= max 1000000000"));
    assertThat(r.samples()).hasSize(2);
    assertThat(r.samples().getFirst().reference()).isNotBlank();
    assertThat(r.samples().getFirst().base()).isNotNull();
    assertThat(seen.rows)
        .extracting(Memory.Evaluation::name)
        .contains("perplexity", "bleu", "rougeL", "base.perplexity");
    assertThat(seen.rows)
        .filteredOn(e -> e.name().equals("perplexity"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.verdict()).isEqualTo(Memory.Verdict.PASS);
              assertThat(e.step()).isEqualTo(3);
            });
    assertThat(seen.rows)
        .filteredOn(e -> e.name().equals("bleu"))
        .singleElement()
        .extracting(Memory.Evaluation::verdict)
        .isEqualTo(Memory.Verdict.FAIL);
    assertThat(seen.rows)
        .filteredOn(e -> e.name().equals("rouge1"))
        .singleElement()
        .extracting(Memory.Evaluation::verdict)
        .isEqualTo(Memory.Verdict.NONE);

    InferenceTestPlugin.Result inf = seen.inference;
    assertThat(inf.tuned().figures().decodeTokensPerSecond()).isPositive();
    assertThat(inf.base().model()).contains("adapter off");
    assertThat(inf.tuned().answers()).hasSize(1);
    assertThat(Path.of(inf.report())).exists();
    assertThat(dir.resolve("run1/bench.md"))
        .content()
        .contains("# Inference benchmark")
        .contains("decode tokens/s")
        .contains("Hello?");
  }

  @Test
  void perplexityOnlyWithExplicitPathsPasses() {
    Seen seen =
        run(
            dir.resolve("run2"),
            null,
            Map.of(
                "metrics_to_calculate",
                List.of("perplexity"),
                "model_path",
                model.toString(),
                "adapter_path",
                adapter.toString(),
                "num_samples",
                1,
                "generation_config",
                Map.of("max_new_tokens", 4),
                "threads",
                1),
            null);
    assertThat(seen.result.succeeded()).as(seen.result.summary()).isTrue();
    assertThat(seen.evaluation.outcome()).isEqualTo("PASS");
    assertThat(seen.evaluation.tuned()).containsOnlyKeys("perplexity");
    assertThat(seen.evaluation.samples()).hasSize(1);
  }

  @Test
  void withoutATrainedModelTheErrorSaysWhatToDo() {
    Seen seen = run(dir.resolve("run3"), null, Map.of("threads", 1), null);
    assertThat(seen.result.succeeded()).isFalse();
    assertThat(seen.result.summary()).contains("no trained model in this run");
    assertThatThrownBy(
            () ->
                run(
                    dir.resolve("run4"),
                    trained(),
                    Map.of("metrics_to_calculate", List.of("meteor")),
                    null))
        .hasMessageContaining("unknown metric 'meteor'");
  }
}
