package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetWriterTest {

  @TempDir Path dir;

  private static final Conversation SINGLE =
      Conversation.of(
          Message.system("Be brief."),
          Message.user("Hi \"there\"\n"),
          Message.assistant("Hello ☃"));
  private static final Conversation MULTI =
      Conversation.of(
          Message.user("a"), Message.assistant("b"), Message.user("c"), Message.assistant("d"));
  private static final Conversation TEXT = Conversation.of(Message.assistant("plain text"));

  private static List<List<Message>> reload(Path file, DatasetFormat expected) {
    LoadedDataset d =
        DatasetLoader.load(DatasetOptions.of(file).withShuffle(false).withValidationSplit(0));
    assertThat(d.files().getFirst().format()).isEqualTo(expected);
    return d.train().stream().map(Conversation::messages).toList();
  }

  @Test
  void everyFormatRoundTripsWhatItCanHold() throws Exception {
    for (DatasetFormat f : List.of(DatasetFormat.OPENAI, DatasetFormat.SHAREGPT)) {
      Path out = dir.resolve(f.configName() + ".jsonl");
      DatasetWriter.write(List.of(SINGLE, MULTI, TEXT), out, f, false);
      assertThat(reload(out, f))
          .containsExactly(SINGLE.messages(), MULTI.messages(), TEXT.messages());
    }
    Path alpaca = dir.resolve("alpaca.jsonl");
    DatasetWriter.write(List.of(SINGLE), alpaca, DatasetFormat.ALPACA, false);
    assertThat(reload(alpaca, DatasetFormat.ALPACA)).containsExactly(SINGLE.messages());
    assertThat(Files.readString(alpaca))
        .isEqualTo(
            "{\"system\":\"Be brief.\",\"instruction\":\"Hi \\\"there\\\"\\n\",\"input\":\"\",\"output\":\"Hello ☃\"}\n");
    Path json = dir.resolve("json.jsonl");
    Conversation pc = Conversation.of(Message.user("p"), Message.assistant("c"));
    DatasetWriter.write(List.of(TEXT, pc), json, DatasetFormat.JSON, false);
    assertThat(reload(json, DatasetFormat.JSON)).containsExactly(TEXT.messages(), pc.messages());
  }

  @Test
  void conversationsThatDoNotFitAreRefusedAndNothingIsWritten() {
    Path out = dir.resolve("a.jsonl");
    Conversation fromFile = new Conversation(MULTI.messages(), "chats.jsonl", 12);
    assertThatThrownBy(
            () -> DatasetWriter.write(List.of(SINGLE, fromFile), out, DatasetFormat.ALPACA, false))
        .isInstanceOf(EntityException.class)
        .hasMessage(
            "chats.jsonl:12: this conversation (4 turns) does not fit the alpaca format, which holds an optional"
                + " system message, one user and one assistant turn; write openai or sharegpt instead, which hold"
                + " any conversation");
    assertThat(out).doesNotExist();
    assertThat(dir).isEmptyDirectory();
    assertThatThrownBy(() -> DatasetWriter.toRecord(TEXT, DatasetFormat.ALPACA))
        .hasMessageContaining("alpaca");
    assertThatThrownBy(() -> DatasetWriter.toRecord(SINGLE, DatasetFormat.JSON))
        .hasMessageContaining("does not fit the json format");
    assertThatThrownBy(() -> DatasetWriter.write(List.of(), out, DatasetFormat.AUTO, false))
        .hasMessageStartingWith("output format: choose alpaca, sharegpt, openai or json");
  }

  @Test
  void existingFilesAreKeptUnlessOverwriteIsAsked() throws Exception {
    Path out = Files.writeString(dir.resolve("keep.jsonl"), "precious\n");
    assertThatThrownBy(() -> DatasetWriter.write(List.of(TEXT), out, DatasetFormat.JSON, false))
        .isInstanceOf(EntityException.class)
        .hasMessage(out + " already exists; choose another output path or ask to overwrite it");
    assertThat(Files.readString(out)).isEqualTo("precious\n");
    assertThatThrownBy(() -> DatasetWriter.write(List.of(MULTI), out, DatasetFormat.JSON, true))
        .hasMessageContaining("does not fit");
    assertThat(Files.readString(out)).isEqualTo("precious\n");
    DatasetWriter.write(List.of(TEXT), out, DatasetFormat.JSON, true);
    assertThat(Files.readString(out)).isEqualTo("{\"text\":\"plain text\"}\n");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(out);
    }
  }

  @Test
  void prepareConvertsSplitsAndReports() throws Exception {
    Path source = DatasetFiles.alpaca(dir, "in.jsonl", 20);
    Path outDir = dir.resolve("out");
    DatasetOptions options = DatasetOptions.of(source).withValidationSplit(0.25).withSeed(3);
    DatasetPreparation.Result r =
        DatasetPreparation.prepare(options, outDir, DatasetFormat.OPENAI, false);
    assertThat(r.trainFile()).isEqualTo(outDir.resolve("train.jsonl"));
    assertThat(Files.readAllLines(r.trainFile())).hasSize(15);
    assertThat(Files.readAllLines(r.validationFile())).hasSize(5);
    assertThat(reload(r.validationFile(), DatasetFormat.OPENAI))
        .isEqualTo(r.dataset().validation().stream().map(Conversation::messages).toList());
    assertThat(r.summary())
        .contains("Wrote 15 training records to " + r.trainFile())
        .contains("in openai format");

    assertThatThrownBy(
            () -> DatasetPreparation.prepare(options, outDir, DatasetFormat.OPENAI, false))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("train.jsonl already exists");
    DatasetPreparation.Result again =
        DatasetPreparation.prepare(
            options.withValidationSplit(0), outDir, DatasetFormat.ALPACA, true);
    assertThat(again.validationFile()).isNull();
    assertThat(Files.readAllLines(again.trainFile())).hasSize(20);
  }

  @Test
  void prepareRefusesAnUnfittingFormatBeforeWritingAnything() {
    Path source =
        DatasetFiles.lines(
            dir,
            "chat.jsonl",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
                + "{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\",\"content\":\"d\"}]}",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]}");
    Path outDir = dir.resolve("out");
    assertThatThrownBy(
            () ->
                DatasetPreparation.prepare(
                    DatasetOptions.of(source).withShuffle(false),
                    outDir,
                    DatasetFormat.ALPACA,
                    false))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith(
            source + ":1: this conversation (4 turns) does not fit the alpaca format");
    assertThat(outDir).doesNotExist();
  }
}
