package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code entity-train benchmark train} on the tiny shape, and its refusals of bad flags. */
class BenchmarkTrainCommandTest {

  @TempDir Path dir;

  /** The tiny shape, 16 tokens x 2, one warm-up step and {@code steps} timed ones. */
  private static Cli tiny(int steps, String... extra) {
    String[] base = {
      "benchmark",
      "train",
      "--shape",
      "tiny",
      "--seq",
      "16",
      "--batch",
      "2",
      "--warmup",
      "1",
      "--steps",
      String.valueOf(steps),
      "--threads",
      "1"
    };
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Cli.run(args);
  }

  @Test
  void loraOnTheTinyShapePrintsEveryFigureAndWritesJson() throws IOException {
    Path json = dir.resolve("tiny.json");
    Cli cli = tiny(2, "--json", json.toString());
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("Benchmark: tiny, lora r=16 on all-linear")
        .contains("Machine: ")
        .contains("warm-up 1/1")
        .contains("step 2/2")
        .contains("tokens/s ")
        .contains("step time ")
        .contains("peak RSS ")
        .contains("parameter store ")
        .contains("estimate / measured peak = ");
    JsonNode root = new ObjectMapper().readTree(json.toFile());
    assertThat(root.get("tokens_per_second").asDouble()).isPositive();
    assertThat(root.get("step_seconds")).hasSize(2);
    assertThat(root.get("losses")).hasSize(2);
    assertThat(root.get("peak_rss_bytes").asLong())
        .isGreaterThan(root.get("activation_bytes").asLong());
    assertThat(root.get("machine").get("cores").asInt()).isPositive();
    assertThat(root.get("machine").get("jvm").asText())
        .contains(String.valueOf(Runtime.version().feature()));
    assertThat(root.get("trainable_parameters").asLong())
        .isEqualTo(32_768); // 7 linears x 2 layers, r=16
    // The estimator counts the engine's own buffers: its LoRA items equal what the engine
    // allocated.
    JsonNode estimate = root.get("estimate_bytes");
    assertThat(estimate.get("gradients (F32)").asLong())
        .isEqualTo(root.get("gradient_bytes").asLong());
    assertThat(estimate.get("AdamW moments (2 × F32)").asLong())
        .isEqualTo(root.get("optimizer_bytes").asLong());
  }

  @Test
  void profilePrintsTheTimedStepsOpsByTimeAndWritesThemToJson() throws IOException {
    Path json = dir.resolve("profile.json");
    Cli cli = tiny(2, "--profile", "--json", json.toString());
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("Time by backend op, per step")
        .contains("attentionForward [2, 16, 4, 16]")
        .contains("matmul 32x64x16 b^T") // the LoRA A product: 32 rows, C = 64 in, r = 16 out
        .doesNotContain(" close")
        .doesNotContain("allocate");
    JsonNode ops = new ObjectMapper().readTree(json.toFile()).get("backend_ops");
    assertThat(ops).isNotEmpty();
    double previous = Double.MAX_VALUE;
    for (JsonNode op : ops) { // the longest first; two timed steps of 2 layers each
      assertThat(op.get("seconds").asDouble()).isLessThanOrEqualTo(previous);
      previous = op.get("seconds").asDouble();
      if (op.get("op").asText().startsWith("attentionForward")) {
        assertThat(op.get("calls").asLong()).isEqualTo(4);
      }
    }
  }

  @Test
  void fullAndQloraRunOnTheTinyShape() {
    Cli full = tiny(1, "--method", "full");
    assertThat(full.code()).as(full.toString()).isZero();
    long all = ModelConfig.shape("tiny").parameterCount();
    assertThat(full.out())
        .contains("full fine-tuning")
        .contains(String.format(Locale.ROOT, "(%,d parameters, %,d trainable)", all, all));
    Cli qlora = tiny(1, "--method", "qlora");
    assertThat(qlora.code()).as(qlora.toString()).isZero();
    assertThat(qlora.out()).contains("qlora r=16").contains("frozen nf4");
  }

  @Test
  void anUnknownShapeListsTheValidOnes() {
    Cli cli = Cli.run("benchmark", "train", "--shape", "llama-9000");
    assertThat(cli.code()).isEqualTo(1);
    assertThat(cli.err())
        .contains("unknown model shape 'llama-9000'")
        .contains("tiny, gpt2, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b");
  }

  @Test
  void badFlagsAreClearErrors() {
    assertThat(tiny(1, "--method", "dora").err()).contains("--method: 'dora' is not one of");
    assertThat(tiny(0).err()).contains("--steps: must be a positive number, got 0");
    assertThat(tiny(1, "--frozen-dtype", "fp8").err()).contains("--frozen-dtype: 'fp8'");
    assertThat(tiny(1, "--method", "qlora", "--frozen-dtype", "bf16").err())
        .contains("qlora keeps frozen weights in NF4");
    assertThat(tiny(1, "--dropout", "1.5").err()).contains("--dropout: must be in [0, 1)");
    assertThat(tiny(1, "--targets", "q_proj,wq").err()).contains("wq").contains("q_proj");
    Cli tooLong = Cli.run("benchmark", "train", "--shape", "tiny", "--seq", "1024");
    assertThat(tooLong.code()).isEqualTo(1);
    assertThat(tooLong.err()).contains("max_seq_length: 1024 is longer than the model's 256");
    Cli neither = Cli.run("benchmark", "train", "--steps", "1");
    assertThat(neither.code()).isEqualTo(2);
    assertThat(neither.err()).contains("--shape").contains("--model");
  }

  @Test
  void benchmarkAloneShowsItsSubcommands() {
    Cli cli = Cli.run("benchmark");
    assertThat(cli.out()).contains("Usage: entity-train benchmark").contains("train");
    assertThat(Cli.run("benchmark", "train", "--help").out()).contains("Example");
  }
}
