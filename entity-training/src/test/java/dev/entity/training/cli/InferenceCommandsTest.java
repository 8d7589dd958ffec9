package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.model.Architecture;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate}, {@code chat} and {@code benchmark infer} on a tiny model and adapter. */
class InferenceCommandsTest {

  @TempDir static Path dir;
  static String model;
  static String adapter;

  @BeforeAll
  static void tinyModel() {
    Path[] written = TinyChatModel.write(dir, Architecture.LLAMA);
    model = written[0].toString();
    adapter = written[1].toString();
  }

  @Test
  void generateIsDeterministicAndReportsTheSpeed() {
    String[] args = {
      "generate",
      "--model",
      model,
      "--prompt",
      "The capital of",
      "--max-new-tokens",
      "12",
      "--threads",
      "1"
    };
    Cli first = Cli.run(args);
    assertThat(first.code()).as(first.toString()).isZero();
    assertThat(first.err())
        .containsPattern("\\[\\d+ tokens, (max tokens|stop token);")
        .contains("decode");
    assertThat(Cli.run(args).out()).isEqualTo(first.out());
    Cli sampled =
        Cli.run(
            "generate",
            "--model",
            model,
            "--prompt",
            "The capital of",
            "--max-new-tokens",
            "12",
            "--temperature",
            "1.5",
            "--seed",
            "3",
            "--threads",
            "1");
    assertThat(sampled.code()).isZero();
    assertThat(sampled.out()).isNotEqualTo(first.out());
  }

  @Test
  void theAdapterChangesWhatIsGenerated() {
    Cli base =
        Cli.run(
            "generate",
            "--model",
            model,
            "--chat",
            "--prompt",
            "Name a primary colour.",
            "--max-new-tokens",
            "16",
            "--threads",
            "1");
    Cli tuned =
        Cli.run(
            "generate",
            "--model",
            model,
            "--adapter",
            adapter,
            "--chat",
            "--prompt",
            "Name a primary colour.",
            "--max-new-tokens",
            "16",
            "--threads",
            "1");
    assertThat(base.code()).as(base.toString()).isZero();
    assertThat(tuned.code()).as(tuned.toString()).isZero();
    assertThat(tuned.out() + tuned.err()).isNotEqualTo(base.out() + base.err());
  }

  @Test
  void chatKeepsTheConversationAndReadsStandardInput() {
    Cli cli =
        Cli.runWithInput(
            "What is the capital of France?\n\nHow many legs?\n/reset\nHello\n/exit\nignored\n",
            "chat",
            "--model",
            model,
            "--max-new-tokens",
            "6",
            "--stats",
            "--threads",
            "1");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out()).contains("Chatting with").contains("(new conversation)");
    assertThat(cli.out().split("\\[\\d+ tokens", -1)).hasSize(4); // three answers, not four
  }

  @Test
  void benchmarkInferPrintsPrefillAndDecodeSpeed() {
    Cli cli =
        Cli.run(
            "benchmark",
            "infer",
            "--shape",
            "tiny",
            "--prompt-len",
            "8",
            "--gen",
            "4",
            "--runs",
            "1",
            "--threads",
            "1");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("shape tiny (random weights)")
        .containsPattern("prefill: [0-9.]+ tokens/s")
        .containsPattern("decode: [0-9.]+ tokens/s")
        .contains("peak resident memory");
    Cli folder =
        Cli.run(
            "benchmark",
            "infer",
            "--model",
            model,
            "--adapter",
            adapter,
            "--prompt-len",
            "4",
            "--gen",
            "3",
            "--runs",
            "1");
    assertThat(folder.code()).as(folder.toString()).isZero();
    assertThat(folder.out()).contains("+ adapter");
  }

  @Test
  void userErrorsAreOneClearLine() {
    Cli missing = Cli.run("generate", "--model", dir.resolve("nope").toString(), "--prompt", "x");
    assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
    assertThat(missing.err()).contains("has no config.json").doesNotContain("\tat ");
    Cli swapped = Cli.run("generate", "--model", adapter, "--prompt", "x");
    assertThat(swapped.code()).isEqualTo(Main.USER_ERROR);
    assertThat(swapped.err()).contains("is a LoRA adapter, not a model");
    Cli badTemp = Cli.run("generate", "--model", model, "--prompt", "x", "--temperature", "-1");
    assertThat(badTemp.code()).isEqualTo(Main.USER_ERROR);
    assertThat(badTemp.err()).contains("temperature");
    Cli tooLong =
        Cli.run("benchmark", "infer", "--shape", "tiny", "--prompt-len", "100000", "--gen", "4");
    assertThat(tooLong.code()).isEqualTo(Main.USER_ERROR);
    assertThat(tooLong.err()).contains("exceed the model's context");
  }
}
