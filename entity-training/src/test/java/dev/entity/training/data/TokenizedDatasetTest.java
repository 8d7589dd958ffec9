package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.engine.template.TrainingExample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tokenizing conversations: labels, truncation, skipping, plain text, statistics, progress. */
class TokenizedDatasetTest {

  @Test
  void assistantTokensAndTheEndOfTurnAreLabelledPromptIsNot() {
    TokenizedDataset data = ChatFixture.tokenize(ChatFixture.conversations(3, 1), 512);
    int imEnd = ChatFixture.id(ChatFixture.IM_END);
    for (TrainingExample e : data.samples()) {
      int[] labels = e.labels();
      assertThat(labels[0]).isEqualTo(TrainingExample.IGNORE); // inside the user turn
      assertThat(Arrays.stream(labels).filter(l -> l == imEnd).count()).isEqualTo(1);
      for (int i = 0; i < labels.length; i++) {
        assertThat(labels[i]).isIn(TrainingExample.IGNORE, e.ids()[i]);
      }
    }
    TokenizationStatistics s = data.statistics();
    assertThat(s.sequences()).isEqualTo(3);
    assertThat(s.truncated()).isZero();
    assertThat(s.skipped()).isZero();
    assertThat(s.targets()).isPositive().isLessThan(s.tokens());
    assertThat(s.labelFraction()).isBetween(0.1, 0.95);
  }

  @Test
  void truncationKeepsTheFirstTokensAndCountsWhatItCut() {
    List<Conversation> convs = ChatFixture.conversations(12, 2);
    TokenizedDataset whole = ChatFixture.tokenize(convs, 4096);
    int max = (int) whole.statistics().p50();
    TokenizedDataset cut = ChatFixture.tokenize(convs, max);
    long longer = whole.samples().stream().filter(e -> e.length() > max).count();
    assertThat(longer).isPositive();
    TokenizationStatistics s = cut.statistics();
    assertThat(s.truncated()).isEqualTo(longer);
    assertThat(s.maxLength()).isEqualTo(max);
    assertThat(s.longestBeforeTruncation()).isEqualTo(whole.statistics().maxLength());
    long lostTokens = whole.samples().stream().mapToLong(e -> Math.max(0, e.length() - max)).sum();
    assertThat(s.truncatedTokens()).isEqualTo(lostTokens);
    assertThat(s.targets() + s.truncatedLabels()).isEqualTo(whole.statistics().targets());
    for (int i = 0; i < cut.size(); i++) {
      TrainingExample full = whole.samples().get(i);
      TrainingExample kept = cut.samples().get(i);
      assertThat(kept.ids()).isEqualTo(Arrays.copyOf(full.ids(), kept.length()));
    }
  }

  @Test
  void aSampleWhoseLabelsAreAllTruncatedAwayIsSkippedAndCounted() {
    List<Conversation> convs = new ArrayList<>(ChatFixture.conversations(2, 1));
    convs.add(
        Conversation.of(
            Message.user("a very long question ".repeat(40)), Message.assistant("short")));
    TokenizedDataset data = ChatFixture.tokenize(convs, 40);
    TokenizationStatistics s = data.statistics();
    assertThat(s.skippedTruncated()).isEqualTo(1);
    assertThat(s.skippedUnlabelled()).isZero();
    assertThat(data.size()).isEqualTo(convs.size() - 1);
    assertThat(s.describe()).contains("1 skipped", "every label truncated away");
    assertThat(s.toMap()).containsEntry("skipped_truncated", 1L).containsEntry("sequences", 2L);
  }

  @Test
  void plainTextIsTrainedWholeAndEndsWithEos() {
    TokenizedDataset data =
        ChatFixture.tokenize(
            List.of(Conversation.of(Message.assistant("the weather is sunny and warm"))), 512);
    TrainingExample e = data.samples().getFirst();
    assertThat(e.labels()).isEqualTo(e.ids());
    assertThat(e.ids()[e.length() - 1]).isEqualTo(ChatFixture.id(ChatFixture.IM_END));
    assertThat(ChatFixture.tokenizer().decode(e.ids(), true))
        .isEqualTo("the weather is sunny and warm");
  }

  @Test
  void allTokensPolicyLabelsThePromptToo() {
    TokenizedDataset data =
        TokenizedDataset.tokenize(
            ChatFixture.conversations(2, 1),
            ChatFixture.tokenizer(),
            ChatFixture.chatml(),
            512,
            LabelPolicy.ALL_TOKENS,
            TokenizedDataset.Progress.none());
    for (TrainingExample e : data.samples()) {
      assertThat(e.labels()).isEqualTo(e.ids());
    }
  }

  @Test
  void progressIsReportedForEveryConversation() {
    List<long[]> seen = new ArrayList<>();
    TokenizedDataset.tokenize(
        ChatFixture.conversations(5, 1),
        ChatFixture.tokenizer(),
        ChatFixture.chatml(),
        512,
        LabelPolicy.ASSISTANT_ONLY,
        (done, total) -> seen.add(new long[] {done, total}));
    assertThat(seen).hasSize(5);
    assertThat(seen.getLast()).containsExactly(5, 5);
  }

  @Test
  void percentilesAreNearestRankOverKeptLengths() {
    TokenizedDataset data = ChatFixture.tokenize(ChatFixture.conversations(10, 2), 4096);
    int[] sorted = data.samples().stream().mapToInt(TrainingExample::length).sorted().toArray();
    TokenizationStatistics s = data.statistics();
    assertThat(s.minLength()).isEqualTo(sorted[0]);
    assertThat(s.p50()).isEqualTo(sorted[4]);
    assertThat(s.p90()).isEqualTo(sorted[8]);
    assertThat(s.maxLength()).isEqualTo(sorted[9]);
    assertThat(s.tokens()).isEqualTo(Arrays.stream(sorted).sum());
  }

  @Test
  void aTemplateFailureNamesTheRecord() {
    var mistral =
        dev.entity.engine.template.ChatTemplate.builtIn("mistral", ChatFixture.tokenizer());
    List<Conversation> bad =
        List.of(
            new Conversation(
                List.of(Message.assistant("hi"), Message.assistant("again")), "bad.jsonl", 7));
    assertThatThrownBy(
            () ->
                TokenizedDataset.tokenize(
                    bad,
                    ChatFixture.tokenizer(),
                    mistral,
                    512,
                    LabelPolicy.ASSISTANT_ONLY,
                    TokenizedDataset.Progress.none()))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("bad.jsonl:7");
  }

  @Test
  void tooShortMaxSeqLengthIsRefused() {
    assertThatThrownBy(() -> ChatFixture.tokenize(ChatFixture.conversations(1, 1), 1))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("max_seq_length");
  }
}
