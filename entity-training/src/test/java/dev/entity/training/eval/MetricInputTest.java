package dev.entity.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Bad, empty, mismatched and hostile input to the metrics. */
class MetricInputTest {

  @Test
  void emptyCorpusIsAClearError() {
    assertThatThrownBy(() -> Bleu.corpus(List.of(), List.of(List.of())))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("BLEU needs at least one hypothesis");
    assertThatThrownBy(() -> Rouge.corpus(List.of(), List.of(List.of())))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("ROUGE needs at least one hypothesis");
    assertThatThrownBy(() -> Bleu.corpus(List.of("a"), List.of()))
        .hasMessageContaining("at least one reference stream");
  }

  @Test
  void mismatchedLengthsNameTheCounts() {
    assertThatThrownBy(() -> Bleu.corpus(List.of("a", "b", "c"), List.of(List.of("a", "b"))))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("reference stream 0 has 2 references but there are 3 hypotheses");
    assertThatThrownBy(() -> Rouge.corpus(List.of("a"), List.of(List.of("a"), List.of("x", "y"))))
        .hasMessageContaining("reference stream 1 has 2 references but there are 1 hypotheses");
  }

  @Test
  void nullTextIsRejectedWithItsPosition() {
    assertThatThrownBy(() -> Bleu.corpus(Arrays.asList("a", null), List.of(List.of("a", "b"))))
        .hasMessageContaining("hypothesis 1 is null");
    List<String> refs = Arrays.asList("a", null);
    assertThatThrownBy(() -> Bleu.corpus(List.of("a", "b"), List.of(refs)))
        .hasMessageContaining("segment 1 has no reference");
    assertThatThrownBy(() -> Bleu.sentence("a", Arrays.asList((String) null)))
        .hasMessageContaining("no reference");
    assertThatThrownBy(() -> Rouge.scoreMulti(Arrays.asList((String) null), "a"))
        .hasMessageContaining("non-null target");
  }

  @Test
  void hostileTextDoesNotBreakTokenizers() {
    String lone = "\uD800 x \uDC00 y"; // unpaired surrogates
    assertThat(Tokenizer13a.tokens(lone)).containsExactly("\uD800", "x", "\uDC00", "y");
    assertThat(Rouge.tokenize(lone)).containsExactly("x", "y");
    assertThat(Tokenizer13a.tokenize("\u0000&&&;;<skipped><skipped>"))
        .isEqualTo("\u0000 & & & ; ;");
    assertThat(Tokenizer13a.tokenize("   \t\u00a0\u3000 ")).isEmpty();
    assertThat(Rouge.tokenize("--- ... ***")).isEmpty();
    String big = "word, ".repeat(20_000);
    assertThat(Tokenizer13a.tokens(big)).hasSize(40_000);
    assertThat(Bleu.corpusSingle(List.of(big), List.of(big)).score())
        .isCloseTo(100.0, Offset.offset(1e-9));
  }

  @Test
  void stemmerSurvivesDegenerateTokens() {
    // NLTK walks back over runs of y's; a recursive walk would overflow on this.
    String ys = "y".repeat(100_000);
    assertThat(PorterStemmer.stem(ys)).startsWith("yyy");
    assertThat(PorterStemmer.stem("ed")).isEqualTo("ed");
    assertThat(PorterStemmer.stem("")).isEmpty();
    assertThat(Rouge.tokenize("Running runners ran quickly 1990s", true))
        .containsExactly("run", "runner", "ran", "quickli", "1990");
    assertThat(Rouge.score("the runner is running", "a runner runs", true).rouge1().fmeasure())
        .isGreaterThan(Rouge.score("the runner is running", "a runner runs").rouge1().fmeasure());
  }

  @Test
  void pythonWhitespaceIsNotJavasWhitespace() {
    // U+00A0 and U+202F are spaces to Python's str.split(), not to Character.isWhitespace.
    assertThat(PythonWhitespace.split("a\u00a0b\u202fc\u001cd"))
        .containsExactly("a", "b", "c", "d");
    // U+200B (zero width space) is a space to neither.
    assertThat(PythonWhitespace.split("a\u200bb")).containsExactly("a\u200bb");
    assertThat(PythonWhitespace.rstrip("a \u2003\u0085")).isEqualTo("a");
  }

  @Test
  void rougeTokenizerFollowsPythonLowercasing() {
    // U+0130 lowers to "i" + combining dot (a separator); the Kelvin sign lowers to "k".
    assertThat(Rouge.tokenize("aİb \u212Aelvin Ǆ")).containsExactly("ai", "b", "kelvin");
  }

  @Test
  void perplexityIsExpOfMeanLoss() {
    Perplexity p = Perplexity.fromLossSum(2 * Math.log(3.0) * 5, 10);
    assertThat(p.value()).isCloseTo(Math.sqrt(3.0) * Math.sqrt(3.0), Offset.offset(1e-12));
    Perplexity merged = new Perplexity(1.0, 1).merge(new Perplexity(3.0, 3));
    assertThat(merged.meanLoss()).isCloseTo(2.5, Offset.offset(1e-12));
    assertThat(merged.tokens()).isEqualTo(4);
    assertThatThrownBy(() -> Perplexity.fromLossSum(1.0, 0))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("at least one labelled token; got 0");
    assertThatThrownBy(() -> new Perplexity(Double.NaN, 3)).hasMessageContaining("finite");
    assertThatThrownBy(() -> new Perplexity(-0.1, 3)).hasMessageContaining("non-negative");
  }

  @Test
  void bleuScoreRendersLikeSacrebleu() {
    BleuScore s = Bleu.corpusSingle(List.of("the cat sat"), List.of("the cat sat on the mat"));
    assertThat(s.toString())
        .startsWith("BLEU = ")
        .contains("hyp_len = 3 ref_len = 6")
        .contains("ratio = 0.500");
    assertThat(s.ratio()).isEqualTo(0.5);
  }

  @Test
  void referencesAreNotMutated() {
    List<String> refs = new ArrayList<>(List.of("a b", "c"));
    Bleu.sentence("a b", refs);
    Rouge.scoreMulti(refs, "a b");
    assertThat(refs).containsExactly("a b", "c");
  }
}
