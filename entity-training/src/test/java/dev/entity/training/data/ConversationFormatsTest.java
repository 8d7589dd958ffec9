package dev.entity.training.data;

import static dev.entity.training.data.DatasetFiles.lines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConversationFormatsTest {

  @TempDir Path dir;

  private LoadedDataset load(Path file) {
    return DatasetLoader.load(DatasetOptions.of(file).withShuffle(false).withValidationSplit(0));
  }

  @Test
  void alpacaBecomesSystemUserAssistantWithInputAfterInstruction() {
    Path f =
        lines(
            dir,
            "a.jsonl",
            "{\"instruction\":\"Translate\",\"input\":\"Hello\",\"output\":\"Bonjour\",\"system\":\"Be brief\"}",
            "{\"instruction\":\"Say hi\",\"input\":\"\",\"output\":\"Hi\"}");
    LoadedDataset d = load(f);
    assertThat(d.files())
        .singleElement()
        .extracting(DatasetFile::format)
        .isEqualTo(DatasetFormat.ALPACA);
    assertThat(d.train().get(0).messages())
        .containsExactly(
            Message.system("Be brief"),
            Message.user("Translate\n\nHello"),
            Message.assistant("Bonjour"));
    assertThat(d.train().get(1).messages())
        .containsExactly(Message.user("Say hi"), Message.assistant("Hi"));
    assertThat(d.train().get(1).line()).isEqualTo(2);
    assertThat(d.train().get(1).source()).isEqualTo(f.toString());
  }

  @Test
  void sharegptMapsEveryRoleSpelling() {
    Path f =
        lines(
            dir,
            "s.jsonl",
            "{\"conversations\":[{\"from\":\"system\",\"value\":\"S\"},{\"from\":\"human\",\"value\":\"U1\"},"
                + "{\"from\":\"gpt\",\"value\":\"A1\"},{\"from\":\"user\",\"value\":\"U2\"},{\"from\":\"model\",\"value\":\"A2\"},"
                + "{\"from\":\"Human\",\"value\":\"U3\"},{\"from\":\"assistant\",\"value\":\"A3\"}]}");
    LoadedDataset d = load(f);
    assertThat(d.files().getFirst().format()).isEqualTo(DatasetFormat.SHAREGPT);
    assertThat(d.train().getFirst().messages())
        .extracting(Message::role)
        .containsExactly(
            Role.SYSTEM,
            Role.USER,
            Role.ASSISTANT,
            Role.USER,
            Role.ASSISTANT,
            Role.USER,
            Role.ASSISTANT);
    assertThat(d.train().getFirst().messages().get(4).content()).isEqualTo("A2");
  }

  @Test
  void openaiMessagesLoad() {
    Path f =
        lines(
            dir,
            "o.jsonl",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"},{\"role\":\"assistant\",\"content\":\"4\"}],\"id\":7}");
    LoadedDataset d = load(f);
    assertThat(d.files().getFirst().format()).isEqualTo(DatasetFormat.OPENAI);
    assertThat(d.train().getFirst().messages())
        .containsExactly(Message.user("2+2?"), Message.assistant("4"));
  }

  @Test
  void plainTextIsOneAssistantTurnAndPromptCompletionIsUserAssistant() {
    Path f =
        lines(
            dir,
            "j.jsonl",
            "{\"text\":\"Once upon a time.\"}",
            "{\"prompt\":\"Capital of France?\",\"completion\":\"Paris\"}");
    LoadedDataset d = load(f);
    assertThat(d.files().getFirst().format()).isEqualTo(DatasetFormat.JSON);
    assertThat(d.train().get(0).messages()).containsExactly(Message.assistant("Once upon a time."));
    assertThat(d.train().get(0).isPlainText()).isTrue();
    assertThat(d.train().get(1).messages())
        .containsExactly(Message.user("Capital of France?"), Message.assistant("Paris"));
  }

  @Test
  void autoDetectionIsPerFileAndExplicitFormatIsHonoured() {
    Path a = DatasetFiles.alpaca(dir, "a.jsonl", 2);
    Path t = lines(dir, "t.jsonl", "{\"text\":\"x\"}");
    LoadedDataset d = DatasetLoader.load(DatasetOptions.of(a, t).withValidationSplit(0));
    assertThat(d.files())
        .extracting(DatasetFile::format)
        .containsExactly(DatasetFormat.ALPACA, DatasetFormat.JSON);

    assertThatThrownBy(
            () -> DatasetLoader.load(DatasetOptions.of(t).withFormat(DatasetFormat.ALPACA)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining(t + ":1: instruction: missing")
        .hasMessageContaining(t + ":1: output: missing");
  }

  @Test
  void mixedFormatsInOneFileNameTheFirstOffendingLine() {
    Path f =
        lines(
            dir,
            "mixed.jsonl",
            "{\"instruction\":\"q\",\"output\":\"a\"}",
            "",
            "{\"instruction\":\"q2\",\"output\":\"a2\"}",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"assistant\",\"content\":\"a\"}]}",
            "{\"text\":\"t\"}");
    assertThatThrownBy(() -> load(f))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith(f + ":4: mixed formats")
        .hasMessageContaining("openai")
        .hasMessageContaining("(" + f + ":1) is alpaca");
  }

  @Test
  void recordsMatchingNoFormatOrSeveralAreBadRecords() {
    Path f =
        lines(
            dir,
            "k.jsonl",
            "{\"question\":\"q\",\"answer\":\"a\"}",
            "{\"instruction\":\"q\",\"messages\":[]}");
    assertThatThrownBy(() -> load(f))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining(
            f + ":1: record has keys [question, answer] which match no dataset format")
        .hasMessageContaining(
            f + ":2: record has keys [instruction, messages] which match several formats");
  }

  @Test
  void formatNamesParseAndUnknownOnesAreRefused() {
    assertThat(DatasetFormat.parse("ShareGPT")).isEqualTo(DatasetFormat.SHAREGPT);
    assertThat(DatasetFormat.parse(null)).isEqualTo(DatasetFormat.AUTO);
    assertThat(DatasetFormat.concrete()).doesNotContain(DatasetFormat.AUTO);
    assertThatThrownBy(() -> DatasetFormat.parse("csv"))
        .isInstanceOf(EntityException.class)
        .hasMessage(
            "dataset_format: unsupported format 'csv'; use one of auto, alpaca, sharegpt, openai, json");
  }

  @Test
  void conversationHelpers() {
    Conversation c =
        Conversation.of(Message.system("sé"), Message.user("u"), Message.assistant("😀"));
    assertThat(c.systemPrompt()).isEqualTo("sé");
    assertThat(c.characters()).isEqualTo(4);
    assertThat(c.isPlainText()).isFalse();
    assertThat(Conversation.of(Message.user("u")).systemPrompt()).isNull();
    assertThat(List.of(Role.values()))
        .extracting(Role::wireName)
        .containsExactly("system", "user", "assistant");
  }
}
