package dev.entity.engine.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture string of every tokenizer kind must give exactly the ids, offsets and decoded text
 * that Hugging Face {@code tokenizers} gave (scripts/reference/make_tokenizer_fixtures.py).
 */
class TokenizerFixtureTest {

  static final List<String> KINDS =
      List.of("gpt2", "gpt2prefix", "llama3", "qwen2", "llama2", "mistral", "metaspace");

  static Path fixture(String kind) {
    try {
      return Path.of(
              TokenizerFixtureTest.class
                  .getResource("/fixtures/tokenizers/" + kind + "/tokenizer.json")
                  .toURI())
          .getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Stream<Arguments> cases() throws IOException {
    List<Arguments> out = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String kind : KINDS) {
      JsonNode root = json.readTree(fixture(kind).resolve("cases.json").toFile());
      int i = 0;
      for (JsonNode c : root.get("cases")) {
        String text = c.get("text").asText();
        String label = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        out.add(Arguments.of(kind, i++, label.replace("\n", "\\n"), c));
      }
    }
    return out.stream();
  }

  private static final java.util.Map<String, Tokenizer> LOADED =
      new java.util.concurrent.ConcurrentHashMap<>();

  static Tokenizer tokenizer(String kind) {
    return LOADED.computeIfAbsent(kind, k -> Tokenizer.load(fixture(k)));
  }

  static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  private static String show(Tokenizer t, int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int id : ids) {
      sb.append(id).append(':').append(t.idToToken(id)).append(' ');
    }
    return sb.toString();
  }

  @ParameterizedTest(name = "{0} #{1} {2}")
  @MethodSource("cases")
  void matchesHuggingFace(String kind, int index, String label, JsonNode c) {
    Tokenizer t = tokenizer(kind);
    String text = c.get("text").asText();
    Encoding enc = t.encodeWithOffsets(text, false);
    int[] expected = ints(c.get("ids"));
    assertThat(enc.ids())
        .as("ids of %s\nexpected %s\nactual   %s", label, show(t, expected), show(t, enc.ids()))
        .containsExactly(expected);
    assertThat(enc.starts()).as("starts of %s", label).containsExactly(ints(c.get("starts")));
    assertThat(enc.ends()).as("ends of %s", label).containsExactly(ints(c.get("ends")));
    int[] withSpecial = t.encode(text, true);
    assertThat(withSpecial)
        .as("ids with special tokens")
        .containsExactly(ints(c.get("ids_with_special")));
    assertThat(t.encode(text, false, true))
        .as("ids with special tokens as text")
        .containsExactly(ints(c.get("ids_special_as_text")));
    assertThat(t.decode(withSpecial, false)).as("decoded").isEqualTo(c.get("decoded").asText());
    assertThat(t.decode(withSpecial, true))
        .as("decoded, specials skipped")
        .isEqualTo(c.get("decoded_skip_special").asText());
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void vocabSizeMatches(String kind) throws IOException {
    JsonNode root = new ObjectMapper().readTree(fixture(kind).resolve("cases.json").toFile());
    assertThat(tokenizer(kind).vocabSize()).isEqualTo(root.get("vocab_size").asInt());
  }

  static Stream<String> kinds() {
    return KINDS.stream();
  }

  static String describe(int[] a) {
    return Arrays.toString(a);
  }
}
