package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.format.gguf.GgmlType;
import dev.entity.engine.format.gguf.GgufExport;
import dev.entity.engine.model.Architecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate}, {@code chat} and {@code benchmark infer} on GGUF files exported from a tiny
 * model: F32 generates exactly what the folder generates (with and without an adapter), Q8_0 runs,
 * bad files are one clear line.
 */
class GgufInferenceCommandsTest {

  @TempDir static Path dir;
  static String folder;
  static String adapter;
  static String f32;
  static String q8;

  @BeforeAll
  static void export() {
    Path[] written = TinyChatModel.write(dir, Architecture.LLAMA);
    folder = written[0].toString();
    adapter = written[1].toString();
    f32 = dir.resolve("model-f32.gguf").toString();
    q8 = dir.resolve("model-q8_0.gguf").toString();
    GgufExport.model(written[0], Path.of(f32), GgufExport.Options.of(GgmlType.F32));
    GgufExport.model(written[0], Path.of(q8), GgufExport.Options.of(GgmlType.Q8_0));
  }

  static Cli generate(String model, String... more) {
    String[] base = {
      "generate", "--model", model, "--chat", "--prompt", "Name a primary colour.", "--threads", "1"
    };
    String[] args = Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return Cli.run(args);
  }

  @Test
  void generateFromAnF32GgufIsGenerateFromTheFolder() {
    Cli fromFolder = generate(folder, "--max-new-tokens", "12");
    Cli fromGguf = generate(f32, "--max-new-tokens", "12");
    assertThat(fromFolder.code()).as(fromFolder.toString()).isZero();
    assertThat(fromGguf.code()).as(fromGguf.toString()).isZero();
    assertThat(fromGguf.out()).isEqualTo(fromFolder.out());
    Cli quantized = generate(q8, "--max-new-tokens", "12", "--bf16");
    assertThat(quantized.code()).as(quantized.toString()).isZero();
    assertThat(quantized.err()).containsPattern("\\[\\d+ tokens, (max tokens|stop token);");
  }

  @Test
  void chatAndBenchmarkInferTakeAGgufFile() {
    Cli chat =
        Cli.runWithInput(
            "What is the capital of France?\n/exit\n",
            "chat",
            "--model",
            q8,
            "--max-new-tokens",
            "6",
            "--stats",
            "--threads",
            "1");
    assertThat(chat.code()).as(chat.toString()).isZero();
    assertThat(chat.out()).contains("Chatting with").containsPattern("\\[\\d+ tokens");
    Cli bench =
        Cli.run(
            "benchmark",
            "infer",
            "--model",
            q8,
            "--prompt-len",
            "4",
            "--gen",
            "3",
            "--runs",
            "1",
            "--threads",
            "1");
    assertThat(bench.code()).as(bench.toString()).isZero();
    assertThat(bench.out())
        .contains("model-q8_0.gguf")
        .containsPattern("decode: [0-9.]+ tokens/s")
        .contains("peak resident memory");
  }

  @Test
  void anAdapterOnAGgufBaseGeneratesAsOnTheFolder() {
    Cli fromFolder = generate(folder, "--adapter", adapter, "--max-new-tokens", "10");
    Cli fromGguf = generate(f32, "--adapter", adapter, "--max-new-tokens", "10");
    Cli withoutAdapter = generate(f32, "--max-new-tokens", "10");
    assertThat(fromGguf.code()).as(fromGguf.toString()).isZero();
    assertThat(fromGguf.out()).isEqualTo(fromFolder.out());
    assertThat(fromGguf.out() + fromGguf.err())
        .isNotEqualTo(withoutAdapter.out() + withoutAdapter.err());
  }

  @Test
  void badGgufUseIsOneClearLine() throws IOException {
    Cli modelAsAdapter = generate(f32, "--adapter", folder);
    assertThat(modelAsAdapter.code()).isEqualTo(Main.USER_ERROR);
    assertThat(modelAsAdapter.err()).contains("adapter_config.json").doesNotContain("\tat ");
    Path truncated = dir.resolve("truncated.gguf");
    byte[] bytes = Files.readAllBytes(Path.of(q8));
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    Cli cut = generate(truncated.toString());
    assertThat(cut.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cut.err()).contains("truncated.gguf").contains("truncated").doesNotContain("\tat ");
  }
}
