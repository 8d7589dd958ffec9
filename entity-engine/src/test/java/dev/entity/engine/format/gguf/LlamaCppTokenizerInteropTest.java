package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every reference tokenizer of fixtures/tokenizers (GPT-2, Llama 3 and Qwen2 byte-level BPE; Llama
 * 2, Mistral and Metaspace SentencePiece-style BPE) exported into a GGUF model tokenizes the
 * fixture's tricky strings in real llama.cpp exactly as our tokenizer (and Hugging Face) does,
 * except for the few strings where llama.cpp is known to depart from Hugging Face ({@link
 * #KNOWN_DIFFERENCES}): 304 of the 324 fixture strings match across the six tokenizers.
 */
class LlamaCppTokenizerInteropTest {

  static final List<String> KINDS =
      List.of("gpt2", "llama3", "qwen2", "llama2", "mistral", "metaspace");

  /**
   * Strings where llama.cpp itself departs from Hugging Face (our tokenizer matches Hugging Face on
   * all of them, see TokenizerFixtureTest); nothing in the GGUF metadata can express these rules:
   * gpt2 — the lstrip flag of the {@code <mask>} added token (llama.cpp sets lstrip only for a few
   * named pre-tokenizers); qwen2 — the NFC normalizer (llama.cpp does not normalize: combining
   * marks, the Kelvin sign, Hangul jamo) and the single_word flag of a user-defined added token;
   * mistral and metaspace — Hugging Face's non-legacy Metaspace adds ▁ only when a text does not
   * already start with a space and not after special tokens, while llama.cpp's SentencePiece
   * tokenizer always adds one.
   */
  static final Map<String, List<String>> KNOWN_DIFFERENCES =
      Map.of(
          "gpt2",
          List.of("Fill  <mask> here", "<mask>  <mask>"),
          "qwen2",
          List.of(
              "e\u0301 combining, cafe\u0301, n\u0303",
              "kelvin '\u212a and long s '\u017f, caps 'S 'T 'RE 'LL 'D 'M 'VE",
              "a\u0300\u0301\u0302 stacked marks, Hangul \u1100\u1161\u11a8 jamo",
              "a[CUSTOM]b",
              "cafe\u0301 [CUSTOM]"),
          "mistral",
          List.of(
              " ",
              "  ",
              " Hello world",
              "   leading and trailing   ",
              "<s>Hello",
              "<s> Hello </s> world",
              "x<s></s>y",
              "<s>\n</s>\n"),
          "metaspace",
          List.of(" ", "  ", " Hello world", "   leading and trailing   ", "<s> Hello </s> world"));

  @TempDir static Path dir;
  static final Map<String, JsonNode> ANSWERS = new TreeMap<>();
  static final Map<String, List<String>> TEXTS = new TreeMap<>();

  @BeforeAll
  static void exportAndTokenize() throws Exception {
    Path interop = NodeLlamaCpp.findInstall();
    Path fixtures =
        Path.of(LlamaCppTokenizerInteropTest.class.getResource("/fixtures/tokenizers").toURI());
    ObjectNode request = NodeLlamaCpp.JSON.createObjectNode();
    ArrayNode jobs = request.putArray("jobs");
    try (CpuBackend backend = new CpuBackend(1)) {
      for (String kind : KINDS) {
        Path folder = Files.createDirectories(dir.resolve(kind));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
          Files.copy(fixtures.resolve(kind).resolve(f), folder.resolve(f));
        }
        Tokenizer tokenizer = Tokenizer.load(folder);
        TinyHfModels.writeWeights(
            backend, TinyHfModels.config(Architecture.LLAMA, tokenizer.vocabSize()), folder, 1);
        Path gguf = dir.resolve(kind + ".gguf");
        GgufExport.model(folder, gguf, GgufExport.Options.of(GgmlType.F16));
        List<String> texts = new ArrayList<>();
        NodeLlamaCpp.JSON
            .readTree(fixtures.resolve(kind).resolve("cases.json").toFile())
            .get("cases")
            .forEach(c -> texts.add(c.get("text").asText()));
        TEXTS.put(kind, texts);
        ObjectNode job = jobs.addObject();
        job.put("model", gguf.toString());
        job.put("specialTokens", true);
        ArrayNode t = job.putArray("texts");
        texts.forEach(t::add);
      }
    }
    JsonNode answers = NodeLlamaCpp.run(interop, request, dir).get("answers");
    for (int i = 0; i < KINDS.size(); i++) {
      ANSWERS.put(KINDS.get(i), answers.get(i));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama3", "qwen2", "llama2", "mistral", "metaspace"})
  void llamaCppTokenizesTheFixtureStringsAsWeDo(String kind) throws Exception {
    Tokenizer tokenizer = Tokenizer.load(dir.resolve(kind));
    List<String> texts = TEXTS.get(kind);
    List<String> wrong = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      int[] theirs =
          NodeLlamaCpp.JSON.treeToValue(ANSWERS.get(kind).get("tokens").get(i), int[].class);
      int[] ours = tokenizer.encode(texts.get(i), false);
      if (!java.util.Arrays.equals(theirs, ours)) {
        mismatched.add(texts.get(i));
        wrong.add(
            texts.get(i).substring(0, Math.min(40, texts.get(i).length()))
                + " ours="
                + java.util.Arrays.toString(
                    java.util.Arrays.copyOf(ours, Math.min(12, ours.length)))
                + " llama.cpp="
                + java.util.Arrays.toString(
                    java.util.Arrays.copyOf(theirs, Math.min(12, theirs.length))));
      }
    }
    assertThat(KNOWN_DIFFERENCES.getOrDefault(kind, List.of()))
        .as("%s: strings llama.cpp tokenizes differently from Hugging Face and us: %s", kind, wrong)
        .containsAll(mismatched);
  }
}
