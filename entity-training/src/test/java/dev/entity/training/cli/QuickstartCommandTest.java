package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuickstartCommandTest {

  @TempDir Path dir;

  @Test
  void runsInputAndParseOnTheSampleDataInTheRunFolder() throws IOException {
    Path folder = dir.resolve("qs");
    Cli cli = Cli.run("quickstart", "--output", folder.toString());

    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.err()).isEmpty();
    assertThat(cli.out())
        .contains("placeholder")
        .contains("sample.jsonl: alpaca format, 100 records")
        .contains("90 for training, 10 for validation")
        .contains("model: ")
        .contains("(llama, ")
        .contains("Memory estimate (")
        .contains("fits: estimated")
        .contains("Not built yet")
        .contains("DO (training)")
        .contains("REVIEW (evaluation)")
        .contains("OUTPUT (export)")
        .contains("Done in");
    assertThat(folder.resolve("model/config.json")).isRegularFile();
    assertThat(folder.resolve("model/README.txt")).content().contains("no weights");
    assertThat(
            new ObjectMapper()
                .readTree(folder.resolve("model/config.json").toFile())
                .get("model_type")
                .asText())
        .isEqualTo("llama");
    assertThat(Files.readAllLines(folder.resolve("dataset/train.jsonl"))).hasSize(90);
    assertThat(Files.readAllLines(folder.resolve("dataset/validation.jsonl"))).hasSize(10);
    assertThat(folder.resolve("events.jsonl")).content().contains("\"dataset loaded\"");
  }

  @Test
  void runsTwiceInTheSameFolder() {
    Path folder = dir.resolve("qs");
    assertThat(Cli.run("quickstart", "--output", folder.toString()).code()).isZero();
    Cli again = Cli.run("quickstart", "--output", folder.toString());
    assertThat(again.code()).as(again.toString()).isZero();
  }

  @Test
  void aMissingDatasetIsOneErrorLineWithoutAStackTrace() {
    Cli cli =
        Cli.run(
            "quickstart",
            "--output",
            dir.resolve("qs").toString(),
            "--dataset",
            dir.resolve("missing.jsonl").toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .startsWith("error: plugin 'dataset_loader' failed in stage INPUT")
        .contains("missing.jsonl")
        .doesNotContain("\tat dev.entity");
  }

  @Test
  void debugShowsTheStackTrace() {
    Cli cli =
        Cli.run(
            "--debug",
            "quickstart",
            "--output",
            dir.resolve("qs").toString(),
            "--dataset",
            dir.resolve("missing.jsonl").toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("\tat dev.entity").contains("error: plugin 'dataset_loader'");
  }
}
