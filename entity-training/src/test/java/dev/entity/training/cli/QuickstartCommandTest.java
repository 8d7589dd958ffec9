package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quickstart: makes (or reuses) its tiny model and runs the quickstart workflow in its run
 * folder. Most runs use a much smaller model than the quickstart's own, passed with --model.
 */
class QuickstartCommandTest {

  /** Small enough to make in well under a second. */
  static final TinyModel.Spec SMALL = new TinyModel.Spec(Architecture.LLAMA, 300, 32, 1, 7, 0.05f);

  @TempDir static Path shared;

  static Path smallModel;

  @TempDir Path dir;

  @BeforeAll
  static void makeSmallModel() {
    smallModel =
        QuickstartCommand.ensureTinyModel(shared.resolve("small"), SMALL, sample()).folder();
  }

  /** The quickstart with the small model, in {@code qs/} of the test's folder. */
  Cli quickstartOnSmallModel(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "quickstart",
                "--output",
                dir.resolve("qs").toString(),
                "--model",
                smallModel.toString()));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  static Path sample() {
    return Path.of(Cli.project("data/sample.jsonl"));
  }

  @Test
  void trainsOnTheSampleDataAndSaysWhereEverythingIs() throws IOException {
    Path folder = dir.resolve("qs");
    Cli cli =
        quickstartOnSmallModel(
            "max_steps=4",
            "logging_steps=1",
            "evaluation_steps=2",
            "save_steps=2",
            "training_config.max_seq_length=128");

    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out())
        .contains("(--model)")
        .contains("sample.jsonl: alpaca format, 100 records")
        .contains("90 for training, 10 for validation")
        .contains("do     fine_tuning", "review evaluation", "output model_export")
        .containsPattern("Evaluation \\(review, evaluation\\): (PASS|FAIL) on 10 conversations")
        .containsPattern("perplexity +\\d+\\.\\d{4} +base +\\d+\\.\\d{4} +change [-+]")
        .contains("bleu", "rougeL", "prompt: ", "tuned: ", "base: ")
        .contains("gguf: ", "model-q8_0.gguf", "Modelfile")
        .doesNotContain("Not in this workflow")
        .contains("Memory estimate (")
        .containsPattern("Training loss \\d+\\.\\d\\d \\(step 1\\) -> \\d+\\.\\d\\d \\(step 4\\)")
        .containsPattern("validation loss [^;]+ -> [^;]+ \\(step 4\\), perplexity")
        .contains("final-model/", "report.md report.html loss.png", "metrics.jsonl metrics.csv")
        .contains("export/ ")
        .contains("checkpoint-2/ checkpoint-4/")
        .contains("Done in");
    assertThat(Files.readAllLines(folder.resolve("dataset/train.jsonl"))).hasSize(90);
    assertThat(Files.readAllLines(folder.resolve("dataset/validation.jsonl"))).hasSize(10);
    assertThat(folder.resolve("events.jsonl")).content().contains("\"dataset loaded\"");
    assertThat(folder.resolve("final-model/adapter_model.safetensors")).isRegularFile();
    assertThat(folder.resolve("final-model/adapter_config.json")).isRegularFile();
    assertThat(folder.resolve("report.md")).isRegularFile();
    // REVIEW adds its verdict, metrics beside the base and samples to the trainer's report
    assertThat(folder.resolve("report.md")).content().contains("Evaluation of", "base perplexity");
    assertThat(folder.resolve("report.html")).content().contains("Evaluation of");
    assertThat(folder.resolve("export/adapter/adapter_model.safetensors")).isRegularFile();
    assertThat(folder.resolve("export/merged/model.safetensors")).isRegularFile();
    assertThat(folder.resolve("export/gguf/model-q8_0.gguf")).isRegularFile();
    assertThat(folder.resolve("export/Modelfile")).content().contains("TEMPLATE", "<|im_end|>");
    assertThat(folder.resolve("model")).doesNotExist();

    // a second run in the same folder lists only its own checkpoints
    Cli again = quickstartOnSmallModel("max_steps=1", "training_config.max_seq_length=128");
    assertThat(again.code()).as(again.toString()).isZero();
    assertThat(again.out())
        .doesNotContain("checkpoint-2/")
        .containsPattern("Training loss \\d+\\.\\d\\d \\(step 1\\);");
  }

  @Test
  void theLossTrendComesFromMetricsJsonlAndSkipsBrokenLines() throws IOException {
    Path metrics = dir.resolve("metrics.jsonl");
    assertThat(QuickstartCommand.lossTrend(metrics)).isEmpty();
    Files.writeString(
        metrics,
        """
        {"kind":"train","step":5,"loss":6.4263}
        {"kind":"eval","step":10,"eval_loss":5.7794}
        {"kind":"train","step":10,"loss":5.9}
        {"kind":"train","step":40,"loss":"oops"}
        {"kind":"eval","step":40,"eval_loss":5.7185}
        {"kind":"train","step":40,"loss":5.6562}
        {"kind":"train","st
        """);
    assertThat(QuickstartCommand.lossTrend(metrics))
        .contains(
            "Training loss 6.43 (step 5) -> 5.66 (step 40); validation loss 5.78 (step 10) ->"
                + " 5.72 (step 40), perplexity 323.6 -> 304.4");
    Files.writeString(metrics, "{\"kind\":\"eval\",\"step\":1,\"eval_loss\":1}\n");
    assertThat(QuickstartCommand.lossTrend(metrics)).isEmpty();
  }

  @Test
  void makesTheQuickstartModelInTheRunFolderAndReusesItOnTheNextRun() throws IOException {
    Path folder = dir.resolve("qs");
    Cli first =
        Cli.run(
            "quickstart",
            "--output",
            folder.toString(),
            "max_steps=1",
            "training_config.max_seq_length=64",
            "max_eval_samples=1",
            "export_format=[adapter]");
    assertThat(first.code()).as(first.toString()).isZero();
    assertThat(first.out())
        .contains("a tiny llama (2 layers, hidden 256, vocabulary 512")
        .contains("made in")
        .contains("ln(vocabulary) = 6.24");
    Path model = folder.resolve("model");
    for (String file : TinyModel.FILES) {
      assertThat(model.resolve(file)).isRegularFile();
    }
    ModelConfig config = ModelConfig.load(model);
    assertThat(config.architecture()).isEqualTo(Architecture.LLAMA);
    assertThat(config.hiddenSize()).isEqualTo(QuickstartCommand.MODEL.hiddenSize());
    assertThat(config.numLayers()).isEqualTo(QuickstartCommand.MODEL.numLayers());
    assertThat(Tokenizer.load(model).vocabSize()).isEqualTo(config.vocabSize()).isEqualTo(512);

    FileTime written = Files.getLastModifiedTime(model.resolve("model.safetensors"));
    Cli again =
        Cli.run(
            "quickstart",
            "--output",
            folder.toString(),
            "max_steps=1",
            "training_config.max_seq_length=64",
            "max_eval_samples=1",
            "export_format=[adapter]");
    assertThat(again.code()).as(again.toString()).isZero();
    assertThat(again.out()).contains("reused");
    assertThat(Files.getLastModifiedTime(model.resolve("model.safetensors"))).isEqualTo(written);
  }

  @Test
  void remakesTheModelWhenTheSpecTheDataOrAFileChanged() throws IOException {
    Path model = dir.resolve("model");
    assertThat(QuickstartCommand.ensureTinyModel(model, SMALL, sample()).reused()).isFalse();
    byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
    assertThat(QuickstartCommand.ensureTinyModel(model, SMALL, sample()).reused()).isTrue();

    TinyModel.Spec otherSeed = new TinyModel.Spec(Architecture.LLAMA, 300, 32, 1, 8, 0.05f);
    assertThat(QuickstartCommand.ensureTinyModel(model, otherSeed, sample()).reused()).isFalse();
    assertThat(Files.readAllBytes(model.resolve("model.safetensors"))).isNotEqualTo(weights);

    Path corpus = dir.resolve("corpus.jsonl");
    Files.copy(sample(), corpus);
    assertThat(QuickstartCommand.ensureTinyModel(model, otherSeed, corpus).reused()).isTrue();
    Files.writeString(
        corpus, "{\"instruction\": \"Say hi.\", \"output\": \"Hi there, friend.\"}\n");
    assertThat(QuickstartCommand.ensureTinyModel(model, otherSeed, corpus).reused()).isFalse();

    Files.delete(model.resolve("tokenizer.json"));
    assertThat(QuickstartCommand.ensureTinyModel(model, otherSeed, corpus).reused()).isFalse();
    assertThat(model.resolve("tokenizer.json")).isRegularFile();
  }

  @Test
  void neverOverwritesAModelFolderItDidNotWrite() throws IOException {
    Path model = Files.createDirectories(dir.resolve("qs/model"));
    Files.writeString(model.resolve("model.safetensors"), "someone's weights");
    Cli cli = Cli.run("quickstart", "--output", dir.resolve("qs").toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err())
        .startsWith("error: ")
        .contains("holds files the quickstart did not write", "--model")
        .doesNotContain("\tat dev.entity");
    assertThat(model.resolve("model.safetensors")).hasContent("someone's weights");

    Files.writeString(model.resolve(QuickstartCommand.STAMP), "my notes");
    assertThatThrownBy(() -> QuickstartCommand.ensureTinyModel(model, SMALL, sample()))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("did not write");
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
        .startsWith("error: the dataset ")
        .contains("missing.jsonl does not exist", "--dataset")
        .doesNotContain("\tat dev.entity");
    assertThat(cli.err().lines().count()).isEqualTo(1);
  }

  @Test
  void aMissingDatasetWithAGivenModelFailsInTheInputStage() {
    Cli cli =
        Cli.run(
            "--debug",
            "quickstart",
            "--output",
            dir.resolve("qs").toString(),
            "--model",
            smallModel.toString(),
            "--dataset",
            dir.resolve("missing.jsonl").toString());
    assertThat(cli.code()).isEqualTo(Main.USER_ERROR);
    assertThat(cli.err()).contains("\tat dev.entity").contains("error: plugin 'dataset_loader'");
  }

  @Test
  void overridesReachThePlugins() {
    Cli cli =
        quickstartOnSmallModel("lora_r=4", "training_config.max_seq_length=128", "max_steps=1");
    assertThat(cli.code()).as(cli.toString()).isZero();
    assertThat(cli.out()).contains("max_seq_length 128");
    Cli bad = quickstartOnSmallModel("lora_rr=4");
    assertThat(bad.code()).isEqualTo(Main.USER_ERROR);
    assertThat(bad.err()).contains("lora_rr");
  }
}
