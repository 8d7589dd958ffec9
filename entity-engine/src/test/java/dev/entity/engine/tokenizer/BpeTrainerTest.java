package dev.entity.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.engine.template.TrainingExample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The byte-level BPE trainer: merge order, determinism, and files our loader reads back. */
class BpeTrainerTest {

  static final List<String> SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

  static List<String> corpus() {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lines.add("The quick brown fox jumps over the lazy dog number " + i + ".");
      lines.add("Fine-tuning a language model teaches it to answer questions; it's fun!");
      lines.add("def add(a, b):\n    return a + b\n");
      lines.add("机器学习很有趣 😀 café");
    }
    return lines;
  }

  @Test
  void mergesMostFrequentPairFirstAndBreaksTiesBySmallestIds() {
    TrainedBpe bpe =
        new BpeTrainer(new BpeTrainer.Config(259 + 4, 1, List.of("<s>", "</s>", "<pad>")))
            .train(List.of("ab ab ab cd"));
    List<String> merges = bpe.merges().stream().map(m -> m[0] + " " + m[1]).toList();
    // (a,b) occurs 3 times, then (Ġ,ab) twice; (Ġ,c) and (c,d) tie once each: smaller ids first
    assertThat(merges).containsExactly("a b", "Ġ ab", "Ġ c", "Ġc d");
    assertThat(bpe.tokens().subList(0, 3)).containsExactly("<s>", "</s>", "<pad>");
    assertThat(bpe.tokens().get(3)).isEqualTo(String.valueOf(ByteLevelAlphabet.charOf(0)));
  }

  @Test
  void stopsAtMinFrequency() {
    TrainedBpe bpe =
        new BpeTrainer(new BpeTrainer.Config(1000, 2, List.of())).train(List.of("ab ab ab cd"));
    assertThat(bpe.merges()).hasSize(2);
    assertThat(bpe.vocabSize()).isEqualTo(258);
  }

  @Test
  void writesATokenizerThatRoundTripsAnyText(@TempDir Path dir) {
    TrainedBpe bpe = new BpeTrainer(new BpeTrainer.Config(350, 2, SPECIALS)).train(corpus());
    assertThat(bpe.vocabSize()).isEqualTo(350);
    bpe.writeTo(dir, null, "<|im_end|>", "<|endoftext|>", null);
    Tokenizer t = Tokenizer.load(dir);
    assertThat(t.vocabSize()).isEqualTo(350);
    assertThat(t.kind()).isEqualTo(TokenizerKind.BYTE_LEVEL_BPE);
    for (String s :
        List.of(
            "The quick brown fox",
            "  spaces\tand\nnewlines ",
            "unseen: ʕ•ᴥ•ʔ 👨‍👩‍👧",
            "",
            "it's 42")) {
      int[] ids = t.encode(s, true);
      assertThat(t.decode(ids, false)).isEqualTo(s);
    }
    assertThat(t.encode("<|im_start|>user<|im_end|>", false)).startsWith(1).endsWith(2);
    assertThat(t.encode("The quick brown fox", false).length)
        .isLessThan("The quick brown fox".length() / 2);
    assertThat(t.eosId()).hasValue(2);
    assertThat(t.padId()).hasValue(0);
  }

  @Test
  void sameCorpusGivesIdenticalFiles(@TempDir Path dir) throws IOException {
    BpeTrainer trainer = new BpeTrainer(new BpeTrainer.Config(350, 2, SPECIALS));
    trainer.train(corpus()).writeTo(dir.resolve("a"), null, "<|im_end|>", null, null);
    trainer.train(corpus()).writeTo(dir.resolve("b"), null, "<|im_end|>", null, null);
    assertThat(Files.readAllBytes(dir.resolve("a/tokenizer.json")))
        .isEqualTo(Files.readAllBytes(dir.resolve("b/tokenizer.json")));
  }

  @Test
  void trainedTokenizerWithChatTemplateEncodesConversations(@TempDir Path dir) {
    new BpeTrainer(BpeTrainer.Config.chatml(350))
        .train(corpus())
        .writeTo(dir, null, "<|im_end|>", "<|endoftext|>", ChatTemplate.builtInSource("chatml"));
    Tokenizer t = Tokenizer.load(dir);
    ChatTemplate template = ChatTemplate.fromTokenizer(t, null);
    assertThat(template.family()).contains(dev.entity.engine.template.ChatTemplateFamily.CHATML);
    TrainingExample ex =
        template.encodeForTraining(
            List.of(ChatMessage.user("hi"), ChatMessage.assistant("The fox.")),
            t,
            LabelPolicy.ASSISTANT_ONLY);
    assertThat(ex.labels()[ex.length() - 2])
        .isEqualTo(2); // <|im_end|> trained, the final newline not
    assertThat(ex.labels()[ex.length() - 1]).isEqualTo(TrainingExample.IGNORE);
  }

  @Test
  void refusesImpossibleConfigs() {
    assertThatThrownBy(() -> new BpeTrainer.Config(100, 2, SPECIALS))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("too small");
    assertThatThrownBy(() -> new BpeTrainer.Config(500, 0, SPECIALS))
        .hasMessageContaining("min_frequency");
    assertThatThrownBy(() -> new BpeTrainer.Config(500, 2, List.of("<a>", "<a>")))
        .hasMessageContaining("distinct");
    TrainedBpe bpe = new BpeTrainer(new BpeTrainer.Config(300, 2, SPECIALS)).train(corpus());
    assertThatThrownBy(() -> bpe.writeTo(Path.of("unused"), "<s>", null, null, null))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("'<s>' is not one of the trained special tokens");
  }
}
