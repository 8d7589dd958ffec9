package dev.entity.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Labels cover exactly each assistant message and the end-of-turn token after it, for every
 * built-in template and the real-model templates, on byte-level and SentencePiece tokenizers.
 */
class TrainingEncodingTest {

  record Case(
      String label,
      ChatTemplate template,
      Tokenizer tokenizer,
      String endOfTurn,
      List<ChatMessage> messages) {
    @Override
    public String toString() {
      return label;
    }
  }

  static Stream<Arguments> cases() {
    Tokenizer qwen2 = ChatTemplateTest.fixture("qwen2");
    Tokenizer llama3 = ChatTemplateTest.fixture("llama3");
    Tokenizer llama2 = ChatTemplateTest.fixture("llama2");
    Tokenizer mistral = ChatTemplateTest.fixture("mistral");
    Tokenizer metaspace = ChatTemplateTest.fixture("metaspace");
    Tokenizer gpt2 = ChatTemplateTest.fixture("gpt2");
    List<ChatMessage> all = ChatTemplateTest.CONVERSATION;
    List<ChatMessage> noSystem = ChatTemplateTest.NO_SYSTEM;
    List<Case> cases =
        List.of(
            new Case(
                "built-in chatml / qwen2",
                ChatTemplate.builtIn("chatml", qwen2),
                qwen2,
                "<|im_end|>",
                all),
            new Case(
                "qwen2 template",
                ChatTemplate.of("qwen2", ChatTemplateTest.QWEN2, null, "<|im_end|>"),
                qwen2,
                "<|im_end|>",
                noSystem),
            new Case(
                "built-in llama3",
                ChatTemplate.builtIn("llama3", llama3),
                llama3,
                "<|eot_id|>",
                all),
            new Case(
                "meta llama3 template",
                ChatTemplate.of(
                    "llama3", ChatTemplateTest.LLAMA3, "<|begin_of_text|>", "<|eot_id|>"),
                llama3,
                "<|eot_id|>",
                all),
            new Case(
                "built-in mistral / llama2",
                ChatTemplate.builtIn("mistral", llama2),
                llama2,
                "</s>",
                all),
            new Case(
                "built-in mistral / mistral",
                ChatTemplate.builtIn("mistral", mistral),
                mistral,
                "</s>",
                all),
            new Case(
                "built-in mistral / metaspace",
                ChatTemplate.builtIn("mistral", metaspace),
                metaspace,
                "</s>",
                noSystem),
            new Case(
                "mistral v0.1 template",
                ChatTemplate.of("mistral", ChatTemplateTest.MISTRAL, "<s>", "</s>"),
                llama2,
                "</s>",
                noSystem),
            new Case(
                "zephyr template",
                ChatTemplate.of("zephyr", ChatTemplateTest.ZEPHYR, "<s>", "</s>"),
                llama2,
                "</s>",
                all),
            new Case(
                "built-in alpaca / llama2 (EOS appended)",
                ChatTemplate.builtIn("alpaca", llama2),
                llama2,
                "</s>",
                all),
            new Case(
                "built-in alpaca / gpt2 (EOS appended)",
                ChatTemplate.builtIn("alpaca", gpt2),
                gpt2,
                "<|endoftext|>",
                noSystem),
            new Case(
                "built-in chatml / gpt2",
                ChatTemplate.builtIn("chatml", gpt2),
                gpt2,
                "<|im_end|>",
                all));
    return cases.stream().map(Arguments::of);
  }

  /** Contiguous runs of labelled positions. */
  static List<int[]> labelledRuns(TrainingExample ex) {
    List<int[]> runs = new ArrayList<>();
    List<Integer> current = new ArrayList<>();
    for (int i = 0; i <= ex.length(); i++) {
      if (i < ex.length() && ex.labels()[i] != TrainingExample.IGNORE) {
        current.add(ex.ids()[i]);
      } else if (!current.isEmpty()) {
        runs.add(current.stream().mapToInt(Integer::intValue).toArray());
        current.clear();
      }
    }
    return runs;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void labelsCoverExactlyAssistantTextAndEndOfTurn(Case c) {
    TrainingExample ex =
        c.template().encodeForTraining(c.messages(), c.tokenizer(), LabelPolicy.ASSISTANT_ONLY);
    for (int i = 0; i < ex.length(); i++) {
      assertThat(ex.labels()[i]).isIn(TrainingExample.IGNORE, ex.ids()[i]);
    }
    List<String> assistant =
        c.messages().stream()
            .filter(m -> m.role() == ChatMessage.Role.ASSISTANT)
            .map(ChatMessage::content)
            .toList();
    List<int[]> runs = labelledRuns(ex);
    assertThat(runs).as("one labelled run per assistant message").hasSize(assistant.size());
    int endOfTurnId = c.tokenizer().tokenToId(c.endOfTurn()).getAsInt();
    for (int j = 0; j < runs.size(); j++) {
      int[] run = runs.get(j);
      assertThat(run[run.length - 1])
          .as("run %d ends with %s", j, c.endOfTurn())
          .isEqualTo(endOfTurnId);
      assertThat(c.tokenizer().decode(run, false).strip())
          .as("labelled text of assistant message %d", j)
          .isEqualTo(assistant.get(j) + c.endOfTurn());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void allTokensPolicyLabelsEverythingAndKeepsIds(Case c) {
    TrainingExample assistantOnly =
        c.template().encodeForTraining(c.messages(), c.tokenizer(), LabelPolicy.ASSISTANT_ONLY);
    TrainingExample all =
        c.template().encodeForTraining(c.messages(), c.tokenizer(), LabelPolicy.ALL_TOKENS);
    assertThat(all.ids()).containsExactly(assistantOnly.ids());
    assertThat(all.labels()).containsExactly(all.ids());
    assertThat(assistantOnly.labelCount()).isLessThan(all.labelCount());
  }

  @Test
  void idsAreTheRenderedTextWhenTheTemplateEndsTurnsItself() {
    Tokenizer qwen2 = ChatTemplateTest.fixture("qwen2");
    ChatTemplate t = ChatTemplate.builtIn("chatml", qwen2);
    TrainingExample ex =
        t.encodeForTraining(ChatTemplateTest.CONVERSATION, qwen2, LabelPolicy.ASSISTANT_ONLY);
    assertThat(ex.ids())
        .containsExactly(qwen2.encode(t.render(ChatTemplateTest.CONVERSATION, false), false));
  }

  @Test
  void alpacaGetsEosInsertedAfterEachAnswerAndBosPrepended() {
    Tokenizer llama2 = ChatTemplateTest.fixture("llama2");
    ChatTemplate t = ChatTemplate.builtIn("alpaca", llama2);
    TrainingExample ex =
        t.encodeForTraining(ChatTemplateTest.NO_SYSTEM, llama2, LabelPolicy.ASSISTANT_ONLY);
    int eos = llama2.eosId().getAsInt();
    assertThat(Arrays.stream(ex.ids()).filter(id -> id == eos).count()).isEqualTo(2);
    assertThat(ex.ids()[0]).isEqualTo(llama2.bosId().getAsInt());
    assertThat(ex.labels()[0]).isEqualTo(TrainingExample.IGNORE);
  }

  @Test
  void emptyAssistantMessageStillTrainsTheEndOfTurn() {
    Tokenizer llama3 = ChatTemplateTest.fixture("llama3");
    ChatTemplate t = ChatTemplate.builtIn("llama3", llama3);
    TrainingExample ex =
        t.encodeForTraining(
            List.of(ChatMessage.user("hi"), ChatMessage.assistant("")),
            llama3,
            LabelPolicy.ASSISTANT_ONLY);
    assertThat(labelledRuns(ex)).hasSize(1);
    assertThat(labelledRuns(ex).getFirst())
        .containsExactly(llama3.tokenToId("<|eot_id|>").getAsInt());
  }

  @Test
  void templateWhoseHistoryDependsOnTheFutureIsRefused() {
    // renders earlier turns differently once a later message exists: no stable prefix
    String src =
        "{% for m in messages %}{{ m.role }}{{ messages | length }}:{{ m.content }};{% endfor %}";
    Tokenizer gpt2 = ChatTemplateTest.fixture("gpt2");
    ChatTemplate t = ChatTemplate.of("unstable", src, null, "<|endoftext|>");
    assertThatThrownBy(
            () -> t.encodeForTraining(ChatTemplateTest.NO_SYSTEM, gpt2, LabelPolicy.ASSISTANT_ONLY))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("unstable: rendering is not prefix-stable at message 1");
  }
}
