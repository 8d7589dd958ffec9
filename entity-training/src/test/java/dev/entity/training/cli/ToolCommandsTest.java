package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The root command's help and the small tools: prepare-dataset, estimate-memory, plugins. */
class ToolCommandsTest {

  @TempDir Path dir;

  @Test
  void helpListsEveryCommand() {
    Cli cli = Cli.run("--help");
    assertThat(cli.code()).isZero();
    assertThat(cli.out())
        .contains("quickstart", "train", "prepare-dataset", "estimate-memory", "plugins", "help");
    Cli bare = Cli.run();
    assertThat(bare.code()).isZero();
    assertThat(bare.out()).contains("estimate-memory");
  }

  @Test
  void helpOfEachCommandHasExamples() {
    for (String command :
        new String[] {"quickstart", "train", "prepare-dataset", "estimate-memory", "plugins"}) {
      Cli cli = Cli.run("help", command);
      assertThat(cli.code()).as(command).isZero();
      assertThat(cli.out())
          .as(command)
          .contains("Usage: entity-train " + command)
          .contains("Example");
      assertThat(Cli.run(command, "--help").out()).isEqualTo(cli.out());
    }
  }

  @Test
  void anUnknownFlagIsAUsageError() {
    Cli cli = Cli.run("estimate-memory", "--shape", "tiny", "--bogus");
    assertThat(cli.code()).isEqualTo(2);
    assertThat(cli.err())
        .contains("Unknown option: '--bogus'")
        .contains("Usage: entity-train estimate-memory");
    assertThat(Cli.run("frobnicate").code()).isEqualTo(2);
  }

  @Test
  void prepareDatasetPrintsStatisticsAndWritesNothingWithoutOutput() {
    Cli cli = Cli.run("prepare-dataset", Cli.project("data/sample.jsonl"));
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("Loaded 100 records")
        .contains("records")
        .contains("p50")
        .containsPattern("train\\s+90\\s+180")
        .containsPattern("validation\\s+10\\s+20")
        .containsPattern("all\\s+100\\s+200");
  }

  @Test
  void prepareDatasetConvertsAndSplitsIntoFiles() throws IOException {
    Path out = dir.resolve("prepared");
    Cli cli =
        Cli.run(
            "prepare-dataset",
            Cli.project("data/sample.jsonl"),
            "--output",
            out.toString(),
            "--format",
            "sharegpt",
            "--validation-split",
            "0.2");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(Files.readAllLines(out.resolve("train.jsonl")))
        .hasSize(80)
        .allMatch(l -> l.contains("\"conversations\""));
    assertThat(Files.readAllLines(out.resolve("validation.jsonl"))).hasSize(20);

    Cli again =
        Cli.run("prepare-dataset", Cli.project("data/sample.jsonl"), "--output", out.toString());
    assertThat(again.code()).isEqualTo(Main.USER_ERROR);
    assertThat(again.err()).contains("already exists");
  }

  @Test
  void prepareDatasetReportsBadRecordsAndFormatsThatCannotHoldThem() throws IOException {
    Path bad =
        Files.writeString(
            dir.resolve("bad.jsonl"),
            "{\"instruction\":\"q\",\"output\":\"a\"}\n{\"instruction\": 3}\n");
    Cli cli = Cli.run("prepare-dataset", bad.toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).startsWith("error: ").contains("bad.jsonl:2");

    Path chat =
        Files.writeString(
            dir.resolve("chat.jsonl"),
            "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
                + "{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\",\"content\":\"d\"}]}\n");
    Cli alpaca =
        Cli.run(
            "prepare-dataset",
            chat.toString(),
            "--output",
            dir.resolve("o").toString(),
            "--format",
            "alpaca",
            "--validation-split",
            "0");
    assertThat(alpaca.code()).isEqualTo(Main.USER_ERROR);
    assertThat(alpaca.err()).contains("does not fit the alpaca format");

    Cli missing = Cli.run("prepare-dataset", dir.resolve("none.jsonl").toString());
    assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
    assertThat(missing.err()).contains("none.jsonl");
  }

  @Test
  void estimateMemoryPrintsTheBreakdownForAShape() {
    Cli cli =
        Cli.run(
            "estimate-memory",
            "--shape",
            "tiny",
            "--batch",
            "2",
            "--seq",
            "128",
            "--device",
            "cpu",
            "--device-memory",
            "8GB");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("Memory estimate (cpu, lora)")
        .contains("activations")
        .contains("total")
        .contains("Device: cpu, 8.00 GiB (--device-memory)")
        .contains("Fits:");
  }

  @Test
  void estimateMemorySuggestsWhatWouldFit() {
    Cli cli =
        Cli.run(
            "estimate-memory",
            "--shape",
            "llama-3-8b",
            "--method",
            "qlora",
            "--batch",
            "8",
            "--seq",
            "2048",
            "--device",
            "cuda",
            "--device-memory",
            "24GB");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("Memory estimate (cuda, qlora)")
        .contains("Does not fit")
        .contains("Suggestions:")
        .contains("auto-adjust: batch_size 8 -> ")
        .contains("gradient_checkpointing");
  }

  @Test
  void estimateMemoryReadsAModelFolderAndRejectsBadOnes() throws IOException {
    Path model = Cli.tinyModel(dir);
    Cli ok =
        Cli.run(
            "estimate-memory",
            "--model",
            model.toString(),
            "--seq",
            "256",
            "--method",
            "full",
            "--device",
            "cpu");
    assertThat(ok.code()).as(ok.toString()).isZero();
    assertThat(ok.out()).contains("(cpu, full)");

    Path empty = Files.createDirectories(dir.resolve("empty"));
    Cli noConfig = Cli.run("estimate-memory", "--model", empty.toString());
    assertThat(noConfig.code()).isEqualTo(Main.USER_ERROR);
    assertThat(noConfig.err()).contains("config.json").doesNotContain("\tat ");

    Path odd = Files.createDirectories(dir.resolve("odd"));
    Files.writeString(odd.resolve("config.json"), "{\"model_type\":\"falcon\"}");
    Cli unsupported = Cli.run("estimate-memory", "--model", odd.toString());
    assertThat(unsupported.code()).isEqualTo(Main.USER_ERROR);
    assertThat(unsupported.err()).contains("falcon").contains("llama");

    Cli both = Cli.run("estimate-memory", "--model", model.toString(), "--shape", "tiny");
    assertThat(both.code()).isEqualTo(2);
    Cli shape = Cli.run("estimate-memory", "--shape", "llama-99b");
    assertThat(shape.code()).isEqualTo(Main.USER_ERROR);
    assertThat(shape.err()).contains("llama-99b").contains("smollm2-135m");
    Cli badBatch = Cli.run("estimate-memory", "--shape", "tiny", "--batch", "0");
    assertThat(badBatch.code()).isEqualTo(Main.USER_ERROR);
    assertThat(badBatch.err()).contains("batch_size");
    Cli badSize = Cli.run("estimate-memory", "--shape", "tiny", "--device-memory", "lots");
    assertThat(badSize.code()).isEqualTo(Main.USER_ERROR);
    assertThat(badSize.err()).contains("cannot read 'lots' as a size");
  }

  @Test
  void sizesAreBinary() {
    assertThat(EstimateMemoryCommand.parseSize("24GB")).isEqualTo(24L << 30);
    assertThat(EstimateMemoryCommand.parseSize("16GiB")).isEqualTo(16L << 30);
    assertThat(EstimateMemoryCommand.parseSize("512m")).isEqualTo(512L << 20);
    assertThat(EstimateMemoryCommand.parseSize("1.5 GB")).isEqualTo(3L << 29);
    assertThat(EstimateMemoryCommand.parseSize("1000")).isEqualTo(1000);
    assertThatThrownBy(() -> EstimateMemoryCommand.parseSize("-3GB"))
        .isInstanceOf(EntityException.class);
    assertThatThrownBy(() -> EstimateMemoryCommand.parseSize("0"))
        .isInstanceOf(EntityException.class);
    assertThatThrownBy(() -> EstimateMemoryCommand.parseSize("9999999999TB"))
        .isInstanceOf(EntityException.class);
  }

  @Test
  void pluginsListsNamesStagesAndKeys() {
    Cli cli = Cli.run("plugins");
    assertThat(cli.code()).isZero();
    assertThat(cli.out())
        .contains("dataset_loader (stage input)")
        .contains("training_config (stage parse)")
        .contains("dataset_path, dataset_format")
        .contains("lora_r");
  }
}
