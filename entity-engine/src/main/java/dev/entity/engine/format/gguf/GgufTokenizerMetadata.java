// Convention: token strings are written exactly as tokenizer.json holds them (byte-level BPE in
// the GPT-2 byte alphabet, SentencePiece pieces with ▁), which is what llama.cpp's vocab expects;
// ids the tokenizer leaves unused up to the model's vocab_size become "[PAD<id>]" UNUSED tokens,
// as llama.cpp's converter writes them.
package dev.entity.engine.format.gguf;

import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.engine.tokenizer.TokenizerKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The {@code tokenizer.*} metadata of a GGUF model: {@code tokenizer.ggml.model} ("gpt2" for
 * byte-level BPE, "llama" for SentencePiece-style BPE), the pre-tokenizer name llama.cpp knows
 * ({@code tokenizer.ggml.pre}), tokens, scores, token types, merges, the special ids, the
 * add-BOS/EOS flags and the chat templates.
 */
public final class GgufTokenizerMetadata {

  /** Pre-tokenizer split patterns of tokenizer.json and the llama.cpp pre-tokenizer they are. */
  private static final Map<String, String> PRE_BY_PATTERN =
      Map.of(
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
              + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          "llama-bpe",
          "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
              + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          "qwen2");

  private GgufTokenizerMetadata() {}

  /**
   * The llama.cpp pre-tokenizer name of a byte-level tokenizer: "gpt-2" for the GPT-2 pattern
   * (ByteLevel with its own regex), "llama-bpe" for Llama 3's, "qwen2" for Qwen2's; null for a
   * SentencePiece-style tokenizer, which has none. Any other pattern is refused, because llama.cpp
   * would silently split text differently.
   */
  public static String preTokenizer(Tokenizer tokenizer) {
    if (tokenizer.kind() == TokenizerKind.SENTENCEPIECE_BPE) {
      return null;
    }
    List<String> patterns = tokenizer.splitPatterns();
    if (patterns.isEmpty()) {
      return "gpt-2";
    }
    if (patterns.size() == 1 && PRE_BY_PATTERN.containsKey(patterns.get(0))) {
      return PRE_BY_PATTERN.get(patterns.get(0));
    }
    throw new EngineException(
        tokenizer.source()
            + ": its pre-tokenizer split pattern "
            + patterns
            + " is not one llama.cpp knows by name (GPT-2, Llama 3 or Qwen2 patterns);"
            + " give the GGUF pre-tokenizer name explicitly");
  }

  /**
   * Puts the tokenizer metadata for a model with {@code vocabSize} embedding rows.
   *
   * @param pre the llama.cpp pre-tokenizer name, or null to detect it ({@link #preTokenizer})
   */
  public static void put(GgufWriter w, Tokenizer tokenizer, int vocabSize, String pre) {
    if (tokenizer.vocabSize() > vocabSize) {
      throw new EngineException(
          tokenizer.source()
              + ": the tokenizer has "
              + tokenizer.vocabSize()
              + " ids but the model's vocab_size is "
              + vocabSize
              + "; they must belong to the same model");
    }
    boolean sentencePiece = tokenizer.kind() == TokenizerKind.SENTENCEPIECE_BPE;
    w.put("tokenizer.ggml.model", GgufValue.string(sentencePiece ? "llama" : "gpt2"));
    String preName = pre != null ? pre : preTokenizer(tokenizer);
    if (preName != null) {
      w.put("tokenizer.ggml.pre", GgufValue.string(preName));
    }
    List<String> tokens = new ArrayList<>(vocabSize);
    long[] types = new long[vocabSize];
    float[] allScores = tokenizer.scores();
    float[] scores = new float[vocabSize];
    for (int id = 0; id < vocabSize; id++) {
      String t = id < tokenizer.vocabSize() ? tokenizer.idToToken(id) : null;
      if (t == null) {
        tokens.add("[PAD" + id + "]");
        types[id] = dev.entity.engine.tokenizer.TokenType.UNUSED.ggufCode();
      } else {
        tokens.add(t);
        types[id] = tokenizer.tokenType(id).ggufCode();
        scores[id] = allScores[id];
      }
    }
    w.put("tokenizer.ggml.tokens", GgufValue.strings(tokens));
    if (sentencePiece) {
      w.put("tokenizer.ggml.scores", GgufValue.f32s(scores));
    }
    w.put("tokenizer.ggml.token_type", GgufValue.ints(GgufValueType.INT32, types));
    if (!sentencePiece) {
      List<String> merges = new ArrayList<>(tokenizer.merges().size());
      for (String[] m : tokenizer.merges()) {
        merges.add(m[0] + " " + m[1]);
      }
      w.put("tokenizer.ggml.merges", GgufValue.strings(merges));
    }
    putId(w, "tokenizer.ggml.bos_token_id", tokenizer.bosId());
    putId(w, "tokenizer.ggml.eos_token_id", tokenizer.eosId());
    putId(w, "tokenizer.ggml.unknown_token_id", tokenizer.unkId());
    putId(w, "tokenizer.ggml.padding_token_id", tokenizer.padId());
    endOfTurn(tokenizer).ifPresent(id -> w.put("tokenizer.ggml.eot_token_id", GgufValue.u32(id)));
    w.put("tokenizer.ggml.add_bos_token", GgufValue.bool(tokenizer.specialTokens().addBos()));
    w.put("tokenizer.ggml.add_eos_token", GgufValue.bool(tokenizer.specialTokens().addEos()));
    for (Map.Entry<String, String> t : tokenizer.chatTemplates().entrySet()) {
      boolean main = t.getKey().equals("default") || tokenizer.chatTemplates().size() == 1;
      String key = main ? "tokenizer.chat_template" : "tokenizer.chat_template." + t.getKey();
      w.put(key, GgufValue.string(t.getValue()));
    }
  }

  /**
   * The end-of-turn id llama.cpp should stop on besides EOS: the first known end-of-turn marker
   * ({@link Tokenizer#KNOWN_END_OF_TURN_TOKENS}) that is not EOS and that the chat template writes.
   */
  static OptionalInt endOfTurn(Tokenizer tokenizer) {
    OptionalInt eos = tokenizer.eosId();
    String template = String.join("\n", tokenizer.chatTemplates().values());
    for (String marker : Tokenizer.KNOWN_END_OF_TURN_TOKENS) {
      OptionalInt id = tokenizer.tokenToId(marker);
      boolean isEos = eos.isPresent() && id.isPresent() && id.getAsInt() == eos.getAsInt();
      if (id.isPresent() && !isEos && template.contains(marker)) {
        return id;
      }
    }
    return OptionalInt.empty();
  }

  private static void putId(GgufWriter w, String key, OptionalInt id) {
    id.ifPresent(i -> w.put(key, GgufValue.u32(i)));
  }
}
