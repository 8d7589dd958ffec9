package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each reference tokenizer (fixtures/tokenizers) written into GGUF metadata by {@link
 * GgufTokenizerMetadata} and rebuilt by {@link GgufTokenizerReader} gives the same ids and text as
 * the tokenizer.json it came from on every fixture string, except where GGUF cannot say what
 * tokenizer.json says ({@link #NOT_IN_GGUF}).
 */
class GgufTokenizerReaderTest {

  /**
   * Rules GGUF metadata has no key for: the lstrip flag of gpt2's {@code <mask>}; qwen2's
   * user-defined {@code [CUSTOM]} token that is single_word; the non-legacy Metaspace of mistral
   * and metaspace (a GGUF SentencePiece vocabulary always prefixes ▁, as llama.cpp does).
   */
  static final Map<String, List<String>> NOT_IN_GGUF = notInGguf();

  /**
   * llama.cpp's own departures ({@link LlamaCppTokenizerInteropTest#KNOWN_DIFFERENCES}) but for
   * qwen2, whose NFC normalizer the reader restores from the pre-tokenizer name.
   */
  private static Map<String, List<String>> notInGguf() {
    Map<String, List<String>> m =
        new LinkedHashMap<>(LlamaCppTokenizerInteropTest.KNOWN_DIFFERENCES);
    m.put("qwen2", List.of("a[CUSTOM]b"));
    return m;
  }

  @TempDir Path dir;

  static Path fixture(String kind) throws Exception {
    return Path.of(
        GgufTokenizerReaderTest.class.getResource("/fixtures/tokenizers/" + kind).toURI());
  }

  static Map<String, GgufValue> metadata(Tokenizer t, String pre) {
    GgufWriter w = new GgufWriter();
    GgufTokenizerMetadata.put(w, t, t.vocabSize(), pre);
    return w.metadata();
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "smollm", "llama3", "qwen2", "llama2", "mistral", "metaspace"})
  void fixtureStringsTokenizeAsFromTokenizerJson(String kind) throws Exception {
    Tokenizer hf = Tokenizer.load(fixture(kind));
    Map<String, GgufValue> meta = metadata(hf, kind.equals("smollm") ? "smollm" : null);
    Tokenizer back = GgufTokenizerReader.read(meta, kind + ".gguf");
    assertThat(back.kind()).isEqualTo(hf.kind());
    assertThat(back.bosId()).isEqualTo(hf.bosId());
    assertThat(back.eosId()).isEqualTo(hf.eosId());
    assertThat(back.specialTokens().addBos()).isEqualTo(hf.specialTokens().addBos());
    assertThat(back.chatTemplates()).isEqualTo(hf.chatTemplates());
    JsonNode cases = new ObjectMapper().readTree(fixture(kind).resolve("cases.json").toFile());
    List<String> differ = new ArrayList<>();
    int compared = 0;
    for (JsonNode c : cases.get("cases")) {
      String text = c.get("text").asText();
      int[] ids = hf.encode(text, true);
      compared++;
      if (!Arrays.equals(back.encode(text, true), ids)) {
        differ.add(text);
        continue;
      }
      assertThat(back.decode(ids, false)).as(text).isEqualTo(hf.decode(ids, false));
      assertThat(back.decode(ids, true)).as(text).isEqualTo(hf.decode(ids, true));
    }
    assertThat(compared).isGreaterThan(20);
    assertThat(differ)
        .as(kind)
        .containsExactlyInAnyOrderElementsOf(NOT_IN_GGUF.getOrDefault(kind, List.of()));
  }

  /** A SentencePiece vocabulary: the pieces a..c, the pairs ab and bc, scored as given. */
  static Map<String, GgufValue> sentencePiece(float ab, float bc) {
    Map<String, GgufValue> m = new LinkedHashMap<>();
    m.put("tokenizer.ggml.model", GgufValue.string("llama"));
    m.put(
        "tokenizer.ggml.tokens",
        GgufValue.strings(List.of("<unk>", "<s>", "</s>", "\u2581", "a", "b", "c", "ab", "bc")));
    m.put("tokenizer.ggml.scores", GgufValue.f32s(new float[] {0, 0, 0, -1, -2, -3, -4, ab, bc}));
    m.put(
        "tokenizer.ggml.token_type",
        GgufValue.ints(GgufValueType.INT32, new long[] {2, 3, 3, 1, 1, 1, 1, 1, 1}));
    m.put("tokenizer.ggml.bos_token_id", GgufValue.u32(1));
    m.put("tokenizer.ggml.eos_token_id", GgufValue.u32(2));
    m.put("tokenizer.ggml.unknown_token_id", GgufValue.u32(0));
    return m;
  }

  @Test
  void sentencePieceMergesFollowTheScoresWhenTheFileHasNone() {
    Tokenizer abFirst = GgufTokenizerReader.read(sentencePiece(-5, -6), "ab.gguf");
    Tokenizer bcFirst = GgufTokenizerReader.read(sentencePiece(-6, -5), "bc.gguf");
    assertThat(abFirst.encode("abc", true)).containsExactly(1, 3, 7, 6);
    assertThat(bcFirst.encode("abc", true)).containsExactly(1, 3, 4, 8);
    assertThat(bcFirst.encode("abc a", false)).containsExactly(3, 4, 8, 3, 4);
    assertThat(bcFirst.decode(new int[] {1, 3, 4, 8, 3, 4}, true)).isEqualTo("abc a");
    // llama.cpp's default: BOS added for a SentencePiece vocabulary unless the file says no
    Map<String, GgufValue> noBos = sentencePiece(-5, -6);
    noBos.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
    assertThat(GgufTokenizerReader.read(noBos, "x.gguf").encode("abc", true))
        .containsExactly(3, 7, 6);
    Map<String, GgufValue> noScores = sentencePiece(-5, -6);
    noScores.remove("tokenizer.ggml.scores");
    assertThatThrownBy(() -> GgufTokenizerReader.read(noScores, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.ggml.scores");
  }

  @Test
  void hostileMetadataIsRefusedNamingTheKey() throws Exception {
    Tokenizer hf = Tokenizer.load(fixture("gpt2"));
    Map<String, GgufValue> good = metadata(hf, null);

    Map<String, GgufValue> m = new LinkedHashMap<>(good);
    m.put("tokenizer.ggml.model", GgufValue.string("bert"));
    assertThatThrownBy(() -> GgufTokenizerReader.read(m, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("x.gguf")
        .hasMessageContaining("tokenizer.ggml.model");

    Map<String, GgufValue> noTokens = new LinkedHashMap<>(good);
    noTokens.remove("tokenizer.ggml.tokens");
    assertThatThrownBy(() -> GgufTokenizerReader.read(noTokens, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.ggml.tokens");

    Map<String, GgufValue> noMerges = new LinkedHashMap<>(good);
    noMerges.remove("tokenizer.ggml.merges");
    assertThatThrownBy(() -> GgufTokenizerReader.read(noMerges, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.ggml.merges");

    Map<String, GgufValue> shortTypes = new LinkedHashMap<>(good);
    shortTypes.put(
        "tokenizer.ggml.token_type", GgufValue.ints(GgufValueType.INT32, new long[] {1, 1}));
    assertThatThrownBy(() -> GgufTokenizerReader.read(shortTypes, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.ggml.token_type");

    Map<String, GgufValue> badId = new LinkedHashMap<>(good);
    badId.put("tokenizer.ggml.eos_token_id", GgufValue.u32(1_000_000));
    assertThatThrownBy(() -> GgufTokenizerReader.read(badId, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.ggml.eos_token_id");

    Map<String, GgufValue> wrongType = new LinkedHashMap<>(good);
    wrongType.put("tokenizer.ggml.pre", GgufValue.u32(3));
    assertThatThrownBy(() -> GgufTokenizerReader.read(wrongType, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("tokenizer.ggml.pre");

    Map<String, GgufValue> unknownPre = new LinkedHashMap<>(good);
    unknownPre.put("tokenizer.ggml.pre", GgufValue.string("deepseek-coder"));
    assertThatThrownBy(() -> GgufTokenizerReader.read(unknownPre, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("deepseek-coder");

    Map<String, GgufValue> badMerge = new LinkedHashMap<>(good);
    badMerge.put("tokenizer.ggml.merges", GgufValue.strings(List.of("nospace")));
    assertThatThrownBy(() -> GgufTokenizerReader.read(badMerge, "x.gguf"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("merges[0]");
  }
}
