package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.model.Architecture;
import dev.entity.training.export.TinyExportModels;
import dev.entity.training.hub.FakeHubServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportCommandsTest {

  @TempDir static Path shared;
  static Path base;
  static Path adapter;

  @BeforeAll
  static void models() {
    base = TinyExportModels.base(Architecture.GPT2, shared.resolve("base"));
    adapter = TinyExportModels.adapter(base, shared.resolve("adapter"), false);
  }

  @AfterEach
  void resetHub() {
    PushCommand.settings = null;
  }

  @Test
  void everyCommandHasHelpWithExamples() {
    for (String c : List.of("export", "merge-adapter", "convert-to-gguf", "push")) {
      Cli r = Cli.run(c, "--help");
      assertThat(r.code()).as(r.toString()).isZero();
      assertThat(r.out()).contains("Usage: entity-train " + c, "Examples:");
    }
    assertThat(Cli.run("--help").out())
        .contains("merge-adapter", "convert-to-gguf", "push", "export");
  }

  @Test
  void mergeAdapterWritesAVerifiedFolder(@TempDir Path dir) {
    Path out = dir.resolve("merged");
    Cli r =
        Cli.run(
            "merge-adapter",
            "--base",
            base.toString(),
            "--adapter",
            adapter.toString(),
            "--out",
            out.toString(),
            "--dtype",
            "bf16");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("merged", "probe logits");
    assertThat(out.resolve("config.json")).isRegularFile();
    assertThat(out.resolve("SHA256SUMS")).isRegularFile();
    Cli bad =
        Cli.run(
            "merge-adapter",
            "--base",
            base.toString(),
            "--adapter",
            dir.resolve("none").toString(),
            "--out",
            dir.resolve("x").toString());
    assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
    assertThat(bad.err()).contains("adapter_config.json").doesNotContain("Exception");
    assertThat(Cli.run("merge-adapter", "--base", "b").code()).isEqualTo(2);
  }

  @Test
  void convertToGgufWritesModelAndAdapterFiles(@TempDir Path dir) {
    Cli r =
        Cli.run(
            "convert-to-gguf",
            "--model",
            base.toString(),
            "--out",
            dir.resolve("m.gguf").toString(),
            "--type",
            "q5_1");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("q5_1", "tensors read back");
    Cli a =
        Cli.run(
            "convert-to-gguf",
            "--model",
            base.toString(),
            "--adapter",
            adapter.toString(),
            "--out",
            dir.resolve("a.gguf").toString());
    assertThat(a.code()).as(a.toString()).isZero();
    Cli bad =
        Cli.run(
            "convert-to-gguf",
            "--model",
            base.toString(),
            "--out",
            dir.resolve("b.gguf").toString(),
            "--type",
            "q2_k");
    assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
    assertThat(bad.err()).contains("q8_0");
    assertThat(dir.resolve("b.gguf")).doesNotExist();
  }

  @Test
  void exportWritesEveryFormatAndPrintsTheOllamaCommands(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("export");
    Cli r =
        Cli.run(
            "export",
            "--adapter",
            adapter.toString(),
            "--base",
            base.toString(),
            "--out",
            out.toString(),
            "--format",
            "adapter,huggingface,gguf,ollama",
            "--param",
            "temperature=0.5",
            "--system",
            "Be kind.",
            "--no-ollama-create",
            "--ollama-name",
            "tiny-gpt2");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).contains("ollama create tiny-gpt2 -f", "merged:", "gguf:", "adapter:");
    // gpt2 tiny models use the alpaca template: its Modelfile stops on EOS
    assertThat(Files.readString(out.resolve("Modelfile")))
        .contains(
            "### Instruction:", "PARAMETER stop \"<|endoftext|>\"", "PARAMETER temperature 0.5");
    Cli bad =
        Cli.run(
            "export", "--model", base.toString(), "--out", out.toString(), "--format", "adapter");
    assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
    assertThat(bad.err()).contains("adapter needs a LoRA run");
  }

  @Test
  void pushUploadsAFolderAndNeverPrintsTheToken(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("README.md"), "# m\n");
    Files.write(dir.resolve("model.safetensors"), new byte[300]);
    try (FakeHubServer hub = new FakeHubServer()) {
      PushCommand.settings = hub.settings(FakeHubServer.TOKEN);
      Cli r = Cli.run("push", "--folder", dir.toString(), "--repo", "me/m", "--private");
      assertThat(r.code()).as(r.toString()).isZero();
      assertThat(r.out()).contains("pushed 2 files (1 via LFS)");
      assertThat(hub.problems).isEmpty();
      assertThat(hub.committed).containsKeys("README.md", "model.safetensors");
      assertThat(r.out() + r.err()).doesNotContain(FakeHubServer.TOKEN);
      PushCommand.settings = hub.settings(null);
      Cli none = Cli.run("push", "--folder", dir.toString(), "--repo", "me/m");
      assertThat(none.code()).isEqualTo(Main.USER_ERROR);
      assertThat(none.err()).contains("HF_TOKEN");
    }
  }
}
