// Convention: one call per run: tokenize train and validation with the same template and limits,
// then cut train into the seeded BatchSource and validation into a fixed list (longest first).
package dev.entity.training.data;

import dev.entity.core.EntityException;
import dev.entity.engine.model.Batch;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.training.train.TrainingConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the trainer needs from the data, prepared from the canonical conversations and the
 * {@link TrainingConfig} ({@code max_seq_length}, {@code packing}, {@code batch_size}, {@code
 * seed}): the training {@link BatchSource}, the validation batches, and the tokenization statistics
 * of both splits, to log and store.
 *
 * @param train the seeded, seekable training stream
 * @param validation every validation sample once, longest first (empty without a validation split)
 * @param trainStatistics what tokenizing the training split produced
 * @param validationStatistics what tokenizing the validation split produced
 * @param layout how rows were padded or packed
 */
public record TrainingBatches(
    BatchSource train,
    List<Batch> validation,
    TokenizationStatistics trainStatistics,
    TokenizationStatistics validationStatistics,
    BatchLayout layout) {

  public TrainingBatches {
    validation = List.copyOf(validation);
  }

  /**
   * Tokenizes both splits (assistant-only labels) and batches them as the config says.
   *
   * @param template the chat template; may be null when every conversation is plain text
   * @param progress told after each conversation, over both splits (train first)
   * @throws EntityException when chat conversations come without a template, a conversation cannot
   *     be rendered, or no training sample is left
   */
  public static TrainingBatches prepare(
      List<Conversation> train,
      List<Conversation> validation,
      Tokenizer tokenizer,
      ChatTemplate template,
      TrainingConfig config,
      TokenizedDataset.Progress progress) {
    if (template == null
        && (train.stream().anyMatch(c -> !c.isPlainText())
            || validation.stream().anyMatch(c -> !c.isPlainText()))) {
      throw new EntityException(
          tokenizer.source()
              + ": the dataset has chat conversations but no chat template was given; use the"
              + " model's own (tokenizer_config.json chat_template) or a built-in one: "
              + String.join(", ", ChatTemplate.BUILT_IN));
    }
    long total = (long) train.size() + validation.size();
    int max = config.maxSeqLength();
    TokenizedDataset trainData =
        TokenizedDataset.tokenize(
            train,
            tokenizer,
            template,
            max,
            LabelPolicy.ASSISTANT_ONLY,
            (done, n) -> progress.update(done, total));
    TokenizedDataset validationData =
        TokenizedDataset.tokenize(
            validation,
            tokenizer,
            template,
            max,
            LabelPolicy.ASSISTANT_ONLY,
            (done, n) -> progress.update(train.size() + done, total));
    BatchLayout layout = BatchLayout.of(max, config.packing(), tokenizer);
    List<Batch> validationBatches = new ArrayList<>();
    if (validationData.size() > 0) {
      BatchSource v = validationData.evaluationBatches(layout, config.batchSize());
      for (long i = 0; i < v.batchesPerEpoch(); i++) {
        validationBatches.add(v.next());
      }
    }
    return new TrainingBatches(
        trainData.trainingBatches(layout, config.batchSize(), config.seed()),
        validationBatches,
        trainData.statistics(),
        validationData.statistics(),
        layout);
  }
}
