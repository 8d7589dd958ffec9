package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.engine.model.Batch;
import dev.entity.training.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one-call preparation the trainer uses: both splits, the config's limits, progress. */
class TrainingBatchesTest {

  static TrainingConfig config(int batch, boolean packing) {
    return TrainingConfig.defaults("model")
        .with("max_seq_length", 256)
        .with("batch_size", batch)
        .with("packing", packing)
        .with("seed", 5L);
  }

  @Test
  void preparesTrainAndValidationAsTheConfigSays() {
    List<Conversation> all = ChatFixture.conversations(10, 2);
    List<long[]> progress = new ArrayList<>();
    TrainingBatches b =
        TrainingBatches.prepare(
            all.subList(0, 7),
            all.subList(7, 10),
            ChatFixture.tokenizer(),
            ChatFixture.chatml(),
            config(2, false),
            (done, total) -> progress.add(new long[] {done, total}));
    assertThat(b.train().batchesPerEpoch()).isEqualTo(4); // 7 rows, 2 per batch
    assertThat(b.train().microBatchSize()).isEqualTo(2);
    assertThat(b.train().seed()).isEqualTo(5L);
    assertThat(b.validation()).hasSize(2);
    assertThat(b.validation().stream().mapToInt(Batch::batchSize).sum()).isEqualTo(3);
    assertThat(b.trainStatistics().sequences()).isEqualTo(7);
    assertThat(b.validationStatistics().sequences()).isEqualTo(3);
    assertThat(b.layout().maxSeqLength()).isEqualTo(256);
    assertThat(progress).hasSize(10);
    assertThat(progress.getLast()).containsExactly(10, 10);
    assertThat(progress.get(6)).containsExactly(7, 10);
  }

  @Test
  void packingAndAnEmptyValidationSplit() {
    TrainingBatches b =
        TrainingBatches.prepare(
            ChatFixture.conversations(6, 1),
            List.of(),
            ChatFixture.tokenizer(),
            ChatFixture.chatml(),
            config(4, true),
            TokenizedDataset.Progress.none());
    assertThat(b.layout().packing()).isTrue();
    assertThat(b.train().rowsPerEpoch()).isLessThan(6);
    assertThat(b.validation()).isEmpty();
    assertThat(b.validationStatistics().sequences()).isZero();
  }

  @Test
  void plainTextNeedsNoTemplateChatDoes() {
    List<Conversation> plain =
        List.of(Conversation.of(Message.assistant("sunny and warm weather all day long")));
    TrainingBatches b =
        TrainingBatches.prepare(
            plain,
            List.of(),
            ChatFixture.tokenizer(),
            null,
            config(1, false),
            TokenizedDataset.Progress.none());
    assertThat(b.train().batchesPerEpoch()).isEqualTo(1);
    assertThatThrownBy(
            () ->
                TrainingBatches.prepare(
                    ChatFixture.conversations(2, 1),
                    List.of(),
                    ChatFixture.tokenizer(),
                    null,
                    config(1, false),
                    TokenizedDataset.Progress.none()))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("no chat template");
  }
}
