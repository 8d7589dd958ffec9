package dev.entity.engine.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.tokenizer.BpeTrainer;
import dev.entity.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streaming through a real byte-level tokenizer that never saw emoji or CJK, so each such character
 * is split into one token per UTF-8 byte: every piece the listener gets, and the final text, is
 * whole characters.
 */
class TextStreamTest {

  static final String TEXT = "Hi 🙂 東京 👍🏽 é!";

  @TempDir static Path dir;
  static Tokenizer tokenizer;

  @BeforeAll
  static void tokenizer() {
    new BpeTrainer(new BpeTrainer.Config(300, 2, List.of("<|endoftext|>")))
        .train(List.of("Hello there, hi there.", "Hi hi hi, ascii only here."))
        .writeTo(dir, null, "<|endoftext|>", null, null);
    tokenizer = Tokenizer.load(dir);
  }

  static TextStream stream(List<String> out) {
    return new TextStream(ids -> tokenizer.decode(ids, true), List.of(), out::add);
  }

  static void wholeCharacters(List<String> pieces) {
    for (String p : pieces) {
      assertThat(p).doesNotContain("\uFFFD");
      assertThat(Character.isLowSurrogate(p.charAt(0))).as(p).isFalse();
      assertThat(Character.isHighSurrogate(p.charAt(p.length() - 1))).as(p).isFalse();
    }
  }

  @Test
  void charactersSplitAcrossByteTokensArriveWhole() {
    int[] ids = tokenizer.encode(TEXT, false);
    assertThat(ids.length).isGreaterThan(TEXT.codePointCount(0, TEXT.length()) + 8);
    List<String> out = new ArrayList<>();
    TextStream s = stream(out);
    for (int id : ids) {
      assertThat(s.add(id)).isFalse();
    }
    s.finish();
    wholeCharacters(out);
    assertThat(String.join("", out)).isEqualTo(TEXT);
    assertThat(s.text()).isEqualTo(TEXT);
    assertThat(out).contains("🙂", "東", "京"); // each released the moment its last byte came
  }

  @Test
  void aCharacterCutByTheEndOfGenerationIsDropped() {
    String text = "ok 東京";
    int[] ids = tokenizer.encode(text, false);
    List<String> out = new ArrayList<>();
    TextStream s = stream(out);
    for (int i = 0; i < ids.length - 1; i++) { // the last byte of 京 never comes
      s.add(ids[i]);
    }
    assertThat(tokenizer.decode(java.util.Arrays.copyOf(ids, ids.length - 1), true))
        .endsWith("\uFFFD");
    s.finish();
    wholeCharacters(out);
    assertThat(String.join("", out)).isEqualTo("ok 東");
    assertThat(s.text()).isEqualTo("ok 東");
  }

  @Test
  void invalidBytesInTheMiddleStayVisible() {
    // the first two bytes of 東 then a plain letter: those bytes can never become a character
    int[] east = tokenizer.encode("東", false);
    int[] a = tokenizer.encode("a", false);
    List<String> out = new ArrayList<>();
    TextStream s = stream(out);
    s.add(east[0]);
    s.add(east[1]);
    assertThat(out).isEmpty();
    s.add(a[0]);
    s.finish();
    assertThat(String.join("", out)).isEqualTo("\uFFFDa");
  }

  @Test
  void surrogatePairsAreNeverSplitByAHeldStopPrefix() {
    // decoder: id 0 -> "x", 1 -> a high surrogate, 2 -> its low surrogate; stop "\uDE42!" could
    // begin at the low surrogate, which must not leave the high one alone in a piece
    String smile = "🙂";
    TextDecoder d =
        ids -> {
          StringBuilder b = new StringBuilder();
          for (int id : ids) {
            b.append(id == 0 ? "x" : id == 1 ? smile.substring(0, 1) : smile.substring(1));
          }
          return b.toString();
        };
    List<String> out = new ArrayList<>();
    TextStream s = new TextStream(d, List.of(smile.substring(1) + "!"), out::add);
    s.add(0);
    s.add(1);
    s.add(2);
    s.finish();
    wholeCharacters(out);
    assertThat(String.join("", out)).isEqualTo("x" + smile);
  }
}
