package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A tiny model of each architecture, fed batches from the data preparation, learns: the loss on the
 * training batches falls over a few full fine-tuning steps.
 */
class TinyModelTrainingTest {

  static CpuBackend backend;

  @BeforeAll
  static void open() {
    backend = new CpuBackend(2);
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  @ParameterizedTest
  @CsvSource({"LLAMA, false", "QWEN2, true", "GPT2, false"})
  void lossFallsOnPreparedBatches(Architecture arch, boolean packing, @TempDir Path dir) {
    List<Conversation> conversations = ChatFixture.conversations(8, 1);
    List<List<ChatMessage>> corpus = new ArrayList<>();
    conversations.forEach(c -> corpus.add(TokenizedDataset.chatMessages(c)));
    TinyModel.write(backend, new TinyModel.Spec(arch, 400, 64, 2, 5, 0.05f), corpus, dir, false);
    Tokenizer tokenizer = Tokenizer.load(dir);
    TokenizedDataset data =
        TokenizedDataset.tokenize(
            conversations,
            tokenizer,
            ChatTemplate.fromTokenizer(tokenizer, null),
            128,
            LabelPolicy.ASSISTANT_ONLY,
            TokenizedDataset.Progress.none());
    BatchSource source = data.trainingBatches(BatchLayout.of(128, packing, tokenizer), 4, 1);
    List<Batch> epoch = new ArrayList<>();
    for (long i = 0; i < source.batchesPerEpoch(); i++) {
      epoch.add(source.next());
    }
    try (TrainingSession session =
        new TrainingSession(
            Decoder.load(backend, dir, Decoder.Options.full()), AdamW.Config.torch(0f))) {
      double before = meanLoss(session, epoch);
      for (int step = 0; step < 4; step++) {
        session.zeroGrad();
        for (Batch b : epoch) {
          session.accumulate(b, 1f / epoch.size());
        }
        session.step(2e-2f, 1.0);
      }
      double after = meanLoss(session, epoch);
      assertThat(after).as("%s loss %.3f -> %.3f", arch, before, after).isLessThan(before * 0.8);
    }
  }

  static double meanLoss(TrainingSession session, List<Batch> batches) {
    double sum = 0;
    for (Batch b : batches) {
      sum += session.evalLoss(b);
    }
    return sum / batches.size();
  }
}
