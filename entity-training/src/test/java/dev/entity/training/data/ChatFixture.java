package dev.entity.training.data;

import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tokenizer.BpeTrainer;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.engine.tokenizer.TrainedBpe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A small chatml tokenizer (byte-level BPE learned on a few sentences, with {@code <|im_start|>},
 * {@code <|im_end|>} and {@code <|endoftext|>}) and synthetic conversations of varied lengths, for
 * the data preparation tests.
 */
final class ChatFixture {

  static final String IM_END = "<|im_end|>";
  static final String END_OF_TEXT = "<|endoftext|>";

  private static Tokenizer tokenizer;

  private ChatFixture() {}

  static synchronized Tokenizer tokenizer() {
    if (tokenizer == null) {
      try {
        Path dir = Files.createTempDirectory("chat-fixture");
        List<String> corpus = new ArrayList<>();
        for (Conversation c : conversations(20, 1)) {
          c.messages().forEach(m -> corpus.add(m.content()));
        }
        TrainedBpe bpe =
            new BpeTrainer(
                    new BpeTrainer.Config(320, 2, List.of(END_OF_TEXT, "<|im_start|>", IM_END)))
                .train(corpus);
        bpe.writeTo(dir, null, IM_END, END_OF_TEXT, null);
        tokenizer = Tokenizer.load(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return tokenizer;
  }

  static ChatTemplate chatml() {
    return ChatTemplate.builtIn("chatml", tokenizer());
  }

  static int id(String token) {
    return tokenizer().tokenToId(token).orElseThrow();
  }

  /** Conversations whose answers grow with the index (lengths cycle with {@code cycle}). */
  static List<Conversation> conversations(int count, int cycle) {
    List<Conversation> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int words = 1 + (i * 7) % (5 * cycle + 1);
      out.add(
          new Conversation(
              List.of(
                  Message.user("question number " + i + " about the weather?"),
                  Message.assistant(("the answer is sunny and warm " + i + " ").repeat(words))),
              "conv.jsonl",
              i + 1));
    }
    return out;
  }

  static TokenizedDataset tokenize(List<Conversation> conversations, int maxSeqLength) {
    return TokenizedDataset.tokenize(
        conversations,
        tokenizer(),
        chatml(),
        maxSeqLength,
        dev.entity.engine.template.LabelPolicy.ASSISTANT_ONLY,
        TokenizedDataset.Progress.none());
  }
}
