// Convention: the configs run unchanged from configs/; only what a user would also pass on the
// command line (--model, --dataset, --output, key=value) shrinks them to a tiny model and a few
// steps, so a config that stops working for a user fails here.
package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.training.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs configs/cpu_lora.yaml for a few steps on a tiny model made by {@code make-tiny-model} with
 * the sample data (loss finite, adapter and exports written), then what
 * configs/continued_training.yaml documents: {@code --resume} of that run continues it to the same
 * adapter byte for byte, a resume with a changed setting is refused, and a new round trains on the
 * first round's merged model.
 */
class ExampleConfigsRunTest {

  @TempDir static Path dir;

  static Path model;
  static Path firstRound;
  static Run first;

  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
    }
  }

  static Run cli(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }

  static String project(String relative) {
    return Repository.root().resolve(relative).toString();
  }

  /** {@code train} of a config in configs/ on the tiny model, shortened to 4 steps. */
  static Run train(String config, Path modelFolder, Path output, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "--config",
                project(config),
                "--model",
                modelFolder.toString(),
                "--dataset",
                project("data/sample.jsonl"),
                "--output",
                output.toString(),
                "max_steps=4",
                "save_steps=2",
                "evaluation_steps=2",
                "training_config.max_seq_length=128",
                "evaluation.max_seq_length=128",
                "max_eval_samples=2",
                "num_samples=1",
                "generation_config={max_new_tokens: 4}"));
    args.addAll(List.of(more));
    return cli(args);
  }

  @BeforeAll
  static void trainTheFirstRound() {
    model = dir.resolve("tiny");
    Run made =
        cli(
            List.of(
                "make-tiny-model",
                "--arch",
                "llama",
                "--out",
                model.toString(),
                "--hidden",
                "32",
                "--layers",
                "1",
                "--vocab",
                "300",
                "--corpus",
                project("data/sample.jsonl")));
    assertThat(made.code()).as(made.toString()).isZero();
    firstRound = dir.resolve("cpu-lora");
    first = train("configs/cpu_lora.yaml", model, firstRound);
  }

  @Test
  void cpuLoraTrainsEvaluatesAndExportsOnATinyModel() throws IOException {
    assertThat(first.code()).as(first.toString()).isZero();
    List<Double> losses = trainingLosses(firstRound);
    assertThat(losses).hasSize(4).allSatisfy(loss -> assertThat(loss).isFinite().isPositive());
    assertThat(firstRound.resolve("final-model/adapter_model.safetensors")).isNotEmptyFile();
    assertThat(firstRound.resolve("final-model/adapter_config.json")).isNotEmptyFile();
    assertThat(firstRound.resolve("checkpoint-2")).isDirectory();
    assertThat(firstRound.resolve("export/merged/config.json")).isNotEmptyFile();
    assertThat(firstRound.resolve("export/gguf/model-q8_0.gguf")).isNotEmptyFile();
    assertThat(firstRound.resolve("export/Modelfile")).isNotEmptyFile();
    assertThat(first.out()).containsPattern("Evaluation \\(review, evaluation\\): (PASS|FAIL)");
  }

  @Test
  void resumeFromACheckpointEndsWithTheSameAdapterByteForByte() throws IOException {
    assertThat(first.code()).as(first.toString()).isZero();
    Path adapter = firstRound.resolve("final-model/adapter_model.safetensors");
    String uninterrupted = sha256(adapter);

    Run resumed =
        train(
            "configs/cpu_lora.yaml",
            model,
            firstRound,
            "--resume",
            firstRound.resolve("checkpoint-2").toString());

    assertThat(resumed.code()).as(resumed.toString()).isZero();
    assertThat(Files.readString(firstRound.resolve("events.jsonl")))
        .contains("resumed from " + firstRound.resolve("checkpoint-2") + " at step 2 of 4");
    assertThat(sha256(adapter)).isEqualTo(uninterrupted);
  }

  @Test
  void resumeWithAChangedSettingIsRefusedSayingWhatDiffers() {
    assertThat(first.code()).as(first.toString()).isZero();

    Run refused =
        train(
            "configs/cpu_lora.yaml", model, firstRound, "--resume", "latest", "learning_rate=1e-3");

    assertThat(refused.code()).isEqualTo(Main.USER_ERROR);
    assertThat(refused.err())
        .contains("belongs to a different run")
        .contains("what differs:")
        .contains("config.learning_rate: checkpoint 2.0E-4, now 0.001")
        .contains("start without --resume");
  }

  @Test
  void continuedTrainingStartsANewRoundFromTheMergedModel() throws IOException {
    assertThat(first.code()).as(first.toString()).isZero();
    Path merged = firstRound.resolve("export/merged");
    Path secondRound = dir.resolve("continued");

    Run second = train("configs/continued_training.yaml", merged, secondRound);

    assertThat(second.code()).as(second.toString()).isZero();
    assertThat(trainingLosses(secondRound))
        .hasSize(4)
        .allSatisfy(loss -> assertThat(loss).isFinite());
    assertThat(secondRound.resolve("final-model/adapter_model.safetensors")).isNotEmptyFile();
    JsonNode adapterConfig =
        new ObjectMapper()
            .readTree(secondRound.resolve("final-model/adapter_config.json").toFile());
    assertThat(adapterConfig.path("r").asInt()).isEqualTo(8);
    assertThat(secondRound.resolve("export/merged/config.json")).isNotEmptyFile();
  }

  @Test
  void resumeLatestWithoutACheckpointSaysToStartWithoutIt() {
    Run none =
        train(
            "configs/continued_training.yaml",
            model,
            dir.resolve("never-trained"),
            "--resume",
            "latest");

    assertThat(none.code()).isEqualTo(Main.USER_ERROR);
    assertThat(none.err()).contains("--resume latest: no complete checkpoint in");
  }

  /** The training loss of every step, from metrics.jsonl. */
  static List<Double> trainingLosses(Path run) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Double> losses = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode record = json.readTree(line);
      if ("train".equals(record.path("kind").asText()) && record.has("loss")) {
        losses.add(record.path("loss").asDouble());
      }
    }
    return losses;
  }

  static String sha256(Path file) throws IOException {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
