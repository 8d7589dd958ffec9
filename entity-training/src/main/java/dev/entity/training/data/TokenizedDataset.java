// Convention: truncation keeps the FIRST max_seq_length tokens (Hugging Face's default
// truncation_side "right"): the prompt survives and the labels that remain are conditioned on it;
// what is cut is counted, and a sample left with no trained target is skipped and counted.
package dev.entity.training.data;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.engine.template.TrainingExample;
import dev.entity.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * Conversations turned into token ids and Hugging Face-style labels (unshifted, {@link
 * TrainingExample#IGNORE} where not trained), truncated to {@code max_seq_length}, with the {@link
 * TokenizationStatistics} of the pass. Chat conversations go through the chat template's {@code
 * encodeForTraining} (assistant-only labels by default, the end-of-turn token after every assistant
 * message always labelled); plain-text conversations (one assistant turn, no prompt) are encoded
 * whole with the tokenizer's own BOS rule, every token labelled, and EOS appended when the
 * tokenizer has one so the model learns where a text ends.
 *
 * <p>From here, {@link #trainingBatches} and {@link #evaluationBatches} cut the samples into {@link
 * dev.entity.engine.model.Batch}es.
 */
public record TokenizedDataset(List<TrainingExample> samples, TokenizationStatistics statistics) {

  /** Told after each conversation: how many are done of how many. */
  @FunctionalInterface
  public interface Progress {
    void update(long done, long total);

    /** A listener that ignores every update. */
    static Progress none() {
      return (done, total) -> {};
    }
  }

  public TokenizedDataset {
    samples = List.copyOf(samples);
  }

  /**
   * Tokenizes conversations in order.
   *
   * @param template the chat template; may be null when every conversation is plain text
   * @param maxSeqLength tokens kept per sample (at least 2: one input and one target)
   * @throws EntityException when a conversation cannot be rendered by the template, naming its
   *     source file and line
   */
  public static TokenizedDataset tokenize(
      List<Conversation> conversations,
      Tokenizer tokenizer,
      ChatTemplate template,
      int maxSeqLength,
      LabelPolicy policy,
      Progress progress) {
    if (maxSeqLength < 2) {
      throw new EntityException(
          "max_seq_length must be at least 2 (one input token and one target), got "
              + maxSeqLength);
    }
    List<TrainingExample> kept = new ArrayList<>(conversations.size());
    TokenizationStatistics.Tally tally = new TokenizationStatistics.Tally(maxSeqLength);
    long done = 0;
    for (Conversation c : conversations) {
      TrainingExample full = encode(c, tokenizer, template, policy);
      tally.seen(full.length());
      TrainingExample sample = full;
      if (full.length() > maxSeqLength) {
        tally.truncated(
            full.length() - maxSeqLength, labelsIn(full.labels(), maxSeqLength, full.length()));
        sample =
            new TrainingExample(
                Arrays.copyOf(full.ids(), maxSeqLength),
                Arrays.copyOf(full.labels(), maxSeqLength));
      }
      long sampleTargets = labelsIn(sample.labels(), 1, sample.length());
      if (sampleTargets == 0) {
        tally.skipped(labelsIn(full.labels(), 1, full.length()) > 0);
      } else {
        kept.add(sample);
        tally.kept(sample.length(), sampleTargets);
      }
      progress.update(++done, conversations.size());
    }
    return new TokenizedDataset(kept, tally.finish());
  }

  private static long labelsIn(int[] labels, int from, int to) {
    long n = 0;
    for (int i = from; i < to; i++) {
      if (labels[i] != TrainingExample.IGNORE) {
        n++;
      }
    }
    return n;
  }

  /** One conversation's full (untruncated) ids and labels. */
  static TrainingExample encode(
      Conversation c, Tokenizer tokenizer, ChatTemplate template, LabelPolicy policy) {
    if (c.isPlainText()) {
      return plainText(c.messages().getFirst().content(), tokenizer);
    }
    if (template == null) {
      throw new EntityException(
          c.source()
              + ":"
              + c.line()
              + ": a chat conversation needs a chat template, and none was given; use the"
              + " model's own or a built-in one: "
              + String.join(", ", ChatTemplate.BUILT_IN));
    }
    try {
      return template.encodeForTraining(chatMessages(c), tokenizer, policy);
    } catch (EngineException e) {
      throw new EntityException(
          c.source() + ":" + c.line() + ": cannot apply the chat template: " + e.getMessage(), e);
    }
  }

  /** A conversation's messages as the engine's chat-template messages. */
  public static List<ChatMessage> chatMessages(Conversation c) {
    List<ChatMessage> messages = new ArrayList<>(c.messages().size());
    for (Message m : c.messages()) {
      messages.add(new ChatMessage(ChatMessage.Role.valueOf(m.role().name()), m.content()));
    }
    return messages;
  }

  private static TrainingExample plainText(String text, Tokenizer tokenizer) {
    int[] ids = tokenizer.encode(text, true);
    OptionalInt eos = tokenizer.eosId();
    if (eos.isPresent() && (ids.length == 0 || ids[ids.length - 1] != eos.getAsInt())) {
      ids = Arrays.copyOf(ids, ids.length + 1);
      ids[ids.length - 1] = eos.getAsInt();
    }
    return new TrainingExample(ids, ids.clone());
  }

  /** Number of kept samples. */
  public int size() {
    return samples.size();
  }

  /**
   * The shuffled (length-grouped unless packing) training stream: epoch order from {@code seed} and
   * the epoch number, {@code microBatchSize} rows per micro-batch.
   *
   * @throws EntityException when no sample is left to train on
   */
  public BatchSource trainingBatches(BatchLayout layout, int microBatchSize, long seed) {
    return new EpochBatchSource(
        this,
        layout,
        layout.groupByLength() && !layout.packing()
            ? EpochOrder.Kind.LENGTH_GROUPED
            : EpochOrder.Kind.SHUFFLED,
        microBatchSize,
        seed);
  }

  /**
   * The evaluation stream: the same rows every epoch, longest first (least padding); read {@link
   * BatchSource#batchesPerEpoch()} batches for one pass.
   *
   * @throws EntityException when the dataset is empty
   */
  public BatchSource evaluationBatches(BatchLayout layout, int microBatchSize) {
    return new EpochBatchSource(this, layout, EpochOrder.Kind.LONGEST_FIRST, microBatchSize, 0);
  }
}
