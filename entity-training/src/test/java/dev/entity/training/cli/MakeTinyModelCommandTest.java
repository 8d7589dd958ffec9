package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.TokenizedDataset;
import dev.entity.training.data.TrainingBatches;
import dev.entity.training.train.TrainingConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The make-tiny-model command: flags, the default corpus, refusal to overwrite. */
class MakeTinyModelCommandTest {

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new MakeTinyModelCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void writesAFolderFromTheRepositorySampleByDefault(@TempDir Path dir) {
    Path model = dir.resolve("tiny");
    Run r = run("--arch", "qwen2", "--out", model.toString(), "--hidden", "32", "--layers", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("wrote", "qwen2", "1 layers", "hidden 32", "sample.jsonl");
    ModelConfig config = ModelConfig.load(model);
    assertThat(config.architecture()).isEqualTo(Architecture.QWEN2);
    Tokenizer tok = Tokenizer.load(model);
    assertThat(tok.vocabSize()).isEqualTo(config.vocabSize()).isBetween(400, 512);
    assertThat(ChatTemplate.fromTokenizer(tok, null).family()).isPresent();
    assertThat(MakeTinyModelCommand.defaultCorpus()).endsWith(Path.of("data", "sample.jsonl"));
    // the quickstart's pairing: the sample data on the tiny model, default config
    var sample =
        DatasetLoader.load(DatasetOptions.of(MakeTinyModelCommand.defaultCorpus())).train();
    TrainingBatches prepared =
        TrainingBatches.prepare(
            sample,
            List.of(),
            tok,
            ChatTemplate.fromTokenizer(tok, null),
            TrainingConfig.defaults(model.toString()),
            TokenizedDataset.Progress.none());
    System.out.println("sample data on the tiny qwen2: " + prepared.trainStatistics().describe());
    assertThat(prepared.trainStatistics().skipped()).isZero();
    assertThat(prepared.trainStatistics().sequences()).isEqualTo(sample.size());
  }

  @Test
  void takesACorpusFileAndRefusesToOverwriteWithoutForce(@TempDir Path dir) throws IOException {
    Path corpus = dir.resolve("corpus.jsonl");
    Files.writeString(
        corpus,
        "{\"text\": \"the quick brown fox jumps over the lazy dog\"}\n"
            + "{\"text\": \"the lazy dog sleeps in the sun all day\"}\n");
    Path model = dir.resolve("m");
    String[] args = {
      "--arch",
      "gpt2",
      "--out",
      model.toString(),
      "--corpus",
      corpus.toString(),
      "--hidden",
      "16",
      "--layers",
      "1",
      "--vocab",
      "300",
      "--seed",
      "3"
    };
    assertThat(run(args).code()).isZero();
    byte[] weights = Files.readAllBytes(model.resolve("model.safetensors"));
    Run again = run(args);
    assertThat(again.code()).isNotZero();
    assertThat(again.err()).contains("not empty", "--force");
    String[] forced = java.util.Arrays.copyOf(args, args.length + 1);
    forced[args.length] = "--force";
    assertThat(run(forced).code()).isZero();
    assertThat(Files.readAllBytes(model.resolve("model.safetensors"))).isEqualTo(weights);
    assertThat(ModelConfig.load(model).architecture()).isEqualTo(Architecture.GPT2);
  }

  @Test
  void anUnknownArchitectureIsAUsageError(@TempDir Path dir) {
    Run r = run("--arch", "mistral", "--out", dir.resolve("x").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("llama, qwen2, gpt2");
    assertThat(run("--out", dir.toString()).code()).isEqualTo(2);
  }
}
