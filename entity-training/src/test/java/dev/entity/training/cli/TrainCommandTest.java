package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.PluginRegistry;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

  @TempDir Path dir;

  /**
   * The project's workflow {@code config} cut before its do stage, under the same file name: the
   * input and parse stages only, so a model folder with just config.json is enough.
   */
  private String parseOnly(String config) {
    try {
      List<String> lines = Files.readAllLines(Path.of(Cli.project(config)));
      int doStage = lines.indexOf("do:");
      assertThat(doStage).as(config + " has a do stage").isPositive();
      Path copy = Files.createDirectories(dir.resolve("parse-only"));
      return Files.write(copy.resolve(Path.of(config).getFileName()), lines.subList(0, doStage))
          .toString();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private Cli train(String... extra) {
    return trainWithInput("", extra);
  }

  private Cli trainWithInput(String input, String... extra) {
    List<String> given = List.of(extra);
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "train",
            "--config",
            parseOnly("configs/cpu_lora.yaml"),
            "--output",
            dir.resolve("run").toString()));
    if (!given.contains("--dataset")) {
      args.addAll(List.of("--dataset", Cli.project("data/sample.jsonl")));
    }
    if (!given.contains("--model")) {
      // The tiny model has 256 positions; cpu_lora.yaml asks for 512.
      args.addAll(List.of("--model", Cli.tinyModel(dir).toString(), "max_seq_length=256"));
    }
    args.addAll(given);
    return Cli.runWithInput(input, args.toArray(String[]::new));
  }

  @Test
  void runsAConfigsWorkflowWithFlagsMappedOntoThePlugins() {
    Cli cli = train();
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("Workflow ")
        .contains("input  dataset_loader")
        .contains("parse  training_config")
        .contains("sample.jsonl: alpaca format, 100 records")
        .contains("tiny-model (llama")
        .contains("output_dir: " + dir.resolve("run"))
        .contains("r=16 on 7 linears")
        .contains("Not in this workflow");
    assertThat(dir.resolve("run/dataset/train.jsonl")).isRegularFile();
  }

  @Test
  void withoutOutputTheRunFolderIsTheOutputDir() {
    Path out = dir.resolve("from-output-dir");
    Cli cli =
        Cli.run(
            "train",
            "--config",
            parseOnly("configs/cpu_lora.yaml"),
            "--dataset",
            Cli.project("data/sample.jsonl"),
            "--model",
            Cli.tinyModel(dir).toString(),
            "output_dir=" + out,
            "max_seq_length=256");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(out.resolve("dataset/train.jsonl")).isRegularFile();
    assertThat(out.resolve("events.jsonl")).isRegularFile();
    assertThat(cli.out()).contains("learning rate 0.0002,");
  }

  @Test
  void overridesReachTheirPlugin() {
    Cli cli = train("lora_r=4", "dataset_loader.seed=9", "validation_split=0.5", "max_steps=7");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("r=4 on 7 linears")
        .contains("50 for training, 50 for validation (validation_split 0.5, shuffled with seed 9)")
        .contains("7 steps");
  }

  @Test
  void unknownOverrideKeysAreErrorsListingTheKeysAndAClosestMatch() {
    Cli cli = train("lora_rank=4");
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .startsWith("error: unknown override key 'lora_rank' (did you mean lora_r?)")
        .contains("training_config: model_name_or_path")
        .contains("dataset_loader: dataset_path");
  }

  @Test
  void ambiguousOverrideKeysNameThePlugins() {
    Cli cli = train("seed=1");
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .contains("'seed' is ambiguous")
        .contains("dataset_loader.seed=...")
        .contains("training_config.seed=...");
  }

  @Test
  void overridesForAPluginNotInTheWorkflowOrAKeyItLacksAreErrors() {
    Cli cli = train("exporter.format=gguf", "training_config.dataset_path=x");
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .contains("no plugin 'exporter' in this workflow")
        .contains("plugin 'training_config' has no key 'dataset_path'")
        .doesNotContain("\tat ");
  }

  @Test
  void anArgumentThatIsNotAnOverrideIsAnError() {
    Cli cli = train("lora_r");
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("'lora_r' is not an override; write key=value");
  }

  @Test
  void aBadConfigValueNamesTheFileLineAndField() {
    Cli cli = train("learning_rate=5", "training_method=dpo");
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .contains("cpu_lora.yaml line")
        .contains("config.learning_rate: must be at most 1")
        .contains("config.training_method: must be one of full, lora, qlora");
  }

  @Test
  void aBadRecordNamesTheFileAndLine() throws IOException {
    Path data =
        Files.writeString(
            dir.resolve("bad.jsonl"),
            "{\"instruction\":\"q\",\"output\":\"a\"}\n{\"instruction\":\"q\",\"outptu\":\"a\"}\n");
    Cli cli = train("--dataset", data.toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("bad.jsonl:2").contains("stage INPUT");
  }

  @Test
  void aModelFolderWithoutConfigJsonIsAnError() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("no-config"));
    Cli cli = train("--model", empty.toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("no-config").contains("config.json").contains("stage PARSE");
  }

  @Test
  void aSequenceLongerThanTheModelsPositionsIsAnError() {
    Cli cli = train("max_seq_length=512");
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("stage PARSE").contains("max_seq_length").contains("256");
  }

  @Test
  void aMissingWorkflowFileIsAnError() {
    Cli cli = Cli.run("train", "--config", dir.resolve("nope.yaml").toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("nope.yaml does not exist");
  }

  @Test
  void resumeIsCheckedAndPassedOnWithANote() throws IOException {
    Cli missing = train("--resume", dir.resolve("checkpoint-9").toString());
    assertThat(missing.code()).isEqualTo(Main.USER_ERROR);
    assertThat(missing.err()).contains("checkpoint-9 does not exist");

    Path checkpoint = Files.createDirectories(dir.resolve("checkpoint-5"));
    Cli folder = train("--resume", checkpoint.toString());
    assertThat(folder.code()).as(folder.toString()).isZero();
    assertThat(folder.out())
        .contains("--resume " + checkpoint + " was checked")
        .contains("this workflow does not train");

    Cli latest = train("--resume", "latest");
    assertThat(latest.code()).isZero();
    assertThat(latest.out()).contains("--resume latest was checked");
  }

  @Test
  void interactiveModeShowsThePlanAndStopsUnlessTheAnswerIsYes() {
    Cli no = trainWithInput("n\n", "--interactive");
    assertThat(no.code()).as(no.toString()).isZero();
    assertThat(no.out())
        .contains("Training config (parse, training_config)")
        .contains("[y/N]")
        .contains("Stopped before training")
        .doesNotContain("Done in");

    Cli eof = trainWithInput("", "--interactive");
    assertThat(eof.out()).contains("Stopped before training");

    Cli yes = trainWithInput("y\n", "--interactive");
    assertThat(yes.code()).isZero();
    assertThat(yes.out()).contains("[y/N]").contains("Not in this workflow").contains("Done in");
  }

  @Test
  void batchModeNeverAsks() {
    Cli cli = train();
    assertThat(cli.out()).doesNotContain("[y/N]");
  }

  @Test
  void everyWorkflowInConfigsBuilds() throws IOException {
    Path configs = Path.of(Cli.project("configs"));
    List<Path> files;
    try (Stream<Path> list = Files.list(configs)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .contains(
            "quickstart.yaml",
            "cpu_lora.yaml",
            "qlora_training.yaml",
            "full_training.yaml",
            "continued_training.yaml");
    for (Path file : files) {
      Workflow workflow = WorkflowYaml.read(file, PluginRegistry.discover(), name -> null).build();
      assertThat(workflow.steps(dev.entity.core.Stage.INPUT)).as(file.toString()).isNotEmpty();
      assertThat(workflow.steps(dev.entity.core.Stage.PARSE)).as(file.toString()).isNotEmpty();
    }
  }

  @Test
  void aHubIdModelRunsWithTheEstimateSkipped() {
    Cli cli =
        Cli.run(
            "train",
            "--config",
            parseOnly("configs/full_training.yaml"),
            "--dataset",
            Cli.project("data/sample.jsonl"),
            "--output",
            dir.resolve("run").toString());
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("warning: model_name_or_path 'Qwen/Qwen2.5-0.5B-Instruct'")
        .contains("Hub id");
  }

  @Test
  void aFlagWithoutAPluginToTakeItIsAnError() throws IOException {
    Path onlyInput =
        Files.writeString(
            dir.resolve("input-only.yaml"),
            "input:\n  - plugin: dataset_loader\n    config: {dataset_path: "
                + Cli.project("data/sample.jsonl")
                + "}\n");
    Cli cli =
        Cli.run(
            "train",
            "--config",
            onlyInput.toString(),
            "--model",
            "x",
            "--output",
            dir.resolve("r").toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .contains("--model sets model_name_or_path, but no plugin of this workflow has that key");

    Cli ok =
        Cli.run("train", "--config", onlyInput.toString(), "--output", dir.resolve("r").toString());
    assertThat(ok.code()).as(ok.toString()).isZero();
    assertThat(ok.out())
        .contains("Dataset (input, dataset_loader)")
        .doesNotContain("Training config");
  }
}
