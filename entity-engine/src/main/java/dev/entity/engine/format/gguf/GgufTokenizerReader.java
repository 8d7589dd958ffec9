// Convention: this reads back exactly the keys GgufTokenizerMetadata writes (and llama.cpp's
// converter writes the same ones); a key of the wrong type is an error naming the file and the
// key, a missing optional key takes llama.cpp's default.
package dev.entity.engine.format.gguf;

import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.TokenType;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.engine.tokenizer.TokenizerKind;
import dev.entity.engine.tokenizer.TokenizerVocabulary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer of a GGUF model, rebuilt from its {@code tokenizer.*} metadata: {@code
 * tokenizer.ggml.model} "gpt2" (byte-level BPE: tokens, merges, token types, {@code pre}) or
 * "llama" (SentencePiece-style BPE: tokens, scores, token types), the BOS/EOS/unknown/padding ids,
 * {@code add_bos_token}/{@code add_eos_token}, and the chat templates ({@code
 * tokenizer.chat_template} and {@code tokenizer.chat_template.NAME}).
 */
public final class GgufTokenizerReader {

  private static final String PREFIX = "tokenizer.ggml.";
  private static final String TEMPLATE = "tokenizer.chat_template";

  private GgufTokenizerReader() {}

  /** The tokenizer described by {@code metadata}; {@code file} names it in messages. */
  public static Tokenizer read(Map<String, GgufValue> metadata, String file) {
    return vocabulary(metadata, file).toTokenizer();
  }

  /** The vocabulary described by {@code metadata}, before it is made a tokenizer. */
  public static TokenizerVocabulary vocabulary(Map<String, GgufValue> metadata, String file) {
    Keys k = new Keys(metadata, file);
    String model = k.string(PREFIX + "model", null);
    TokenizerKind kind =
        switch (model) {
          case "gpt2" -> TokenizerKind.BYTE_LEVEL_BPE;
          case "llama" -> TokenizerKind.SENTENCEPIECE_BPE;
          default ->
              throw new EngineException(
                  file
                      + ": GGUF metadata \""
                      + PREFIX
                      + "model\" is \""
                      + model
                      + "\"; the engine reads \"gpt2\" (byte-level BPE) and \"llama\""
                      + " (SentencePiece-style BPE) vocabularies");
        };
    List<String> tokens = k.strings(PREFIX + "tokens");
    if (tokens == null || tokens.isEmpty()) {
      throw new EngineException(file + ": GGUF metadata has no \"" + PREFIX + "tokens\"");
    }
    int[] types = k.ints(PREFIX + "token_type", tokens.size());
    if (types == null) {
      types = new int[tokens.size()];
      java.util.Arrays.fill(types, TokenType.NORMAL.ggufCode());
    }
    float[] scores = k.floats(PREFIX + "scores", tokens.size());
    List<String> mergeLines = k.strings(PREFIX + "merges");
    List<String[]> merges = null;
    if (mergeLines != null) {
      merges = new ArrayList<>(mergeLines.size());
      for (int i = 0; i < mergeLines.size(); i++) {
        String line = mergeLines.get(i);
        int space = line.indexOf(' ', 1);
        if (space < 0) {
          throw new EngineException(
              file + ": " + PREFIX + "merges[" + i + "] \"" + line + "\" is not \"left right\"");
        }
        merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
      }
    } else if (kind == TokenizerKind.BYTE_LEVEL_BPE) {
      throw new EngineException(
          file + ": GGUF metadata has no \"" + PREFIX + "merges\"; a gpt2 vocabulary needs them");
    }
    Map<String, String> templates = new LinkedHashMap<>();
    for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
      if (e.getKey().equals(TEMPLATE)) {
        templates.put("default", k.string(TEMPLATE, null));
      } else if (e.getKey().startsWith(TEMPLATE + ".")) {
        templates.put(e.getKey().substring(TEMPLATE.length() + 1), k.string(e.getKey(), null));
      }
    }
    return new TokenizerVocabulary(
        file,
        kind,
        kind == TokenizerKind.BYTE_LEVEL_BPE ? k.string(PREFIX + "pre", "gpt-2") : null,
        tokens,
        types,
        scores,
        merges,
        k.id(PREFIX + "bos_token_id", tokens.size()),
        k.id(PREFIX + "eos_token_id", tokens.size()),
        k.id(PREFIX + "unknown_token_id", tokens.size()),
        k.id(PREFIX + "padding_token_id", tokens.size()),
        k.bool(PREFIX + "add_bos_token", kind == TokenizerKind.SENTENCEPIECE_BPE),
        k.bool(PREFIX + "add_eos_token", false),
        k.bool(PREFIX + "add_space_prefix", true),
        templates);
  }

  /** The end-of-turn and end-of-message ids a GGUF names besides EOS (llama.cpp stops on them). */
  public static int[] extraStopIds(Map<String, GgufValue> metadata, String file) {
    Keys k = new Keys(metadata, file);
    List<String> tokens = k.strings(PREFIX + "tokens");
    int n = tokens == null ? 0 : tokens.size();
    return java.util.stream.IntStream.of(
            k.id(PREFIX + "eot_token_id", n), k.id(PREFIX + "eom_token_id", n))
        .filter(id -> id >= 0)
        .toArray();
  }

  /** Typed access to metadata with messages naming the file and key. */
  private record Keys(Map<String, GgufValue> metadata, String file) {

    private EngineException wrong(String key, GgufValue v, String want) {
      return new EngineException(
          file + ": GGUF metadata \"" + key + "\" is " + v + "; expected " + want);
    }

    String string(String key, String fallback) {
      GgufValue v = metadata.get(key);
      if (v == null) {
        if (fallback == null) {
          throw new EngineException(file + ": GGUF metadata has no \"" + key + "\"");
        }
        return fallback;
      }
      if (v.type() != GgufValueType.STRING) {
        throw wrong(key, v, "a string");
      }
      return v.asString();
    }

    List<String> strings(String key) {
      GgufValue v = metadata.get(key);
      if (v == null) {
        return null;
      }
      if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.STRING) {
        throw wrong(key, v, "an array of strings");
      }
      return v.asStrings();
    }

    int[] ints(String key, int length) {
      GgufValue v = metadata.get(key);
      if (v == null) {
        return null;
      }
      List<?> items = array(key, v, length);
      int[] out = new int[length];
      for (int i = 0; i < length; i++) {
        if (!(items.get(i) instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
          throw wrong(key, v, "an array of integers");
        }
        out[i] = (int) (long) l;
      }
      return out;
    }

    float[] floats(String key, int length) {
      GgufValue v = metadata.get(key);
      if (v == null) {
        return null;
      }
      List<?> items = array(key, v, length);
      float[] out = new float[length];
      for (int i = 0; i < length; i++) {
        if (!(items.get(i) instanceof Double d)) {
          throw wrong(key, v, "an array of floats");
        }
        out[i] = (float) (double) d;
      }
      return out;
    }

    private List<?> array(String key, GgufValue v, int length) {
      if (v.type() != GgufValueType.ARRAY) {
        throw wrong(key, v, "an array of " + length);
      }
      if (v.asList().size() != length) {
        throw new EngineException(
            file
                + ": GGUF metadata \""
                + key
                + "\" has "
                + v.asList().size()
                + " entries for "
                + length
                + " tokens");
      }
      return v.asList();
    }

    int id(String key, int tokens) {
      GgufValue v = metadata.get(key);
      if (v == null) {
        return -1;
      }
      if (!(v.value() instanceof Long l) || v.type() == GgufValueType.ARRAY) {
        throw wrong(key, v, "an integer token id");
      }
      if (l < 0 || l >= tokens) {
        // llama.cpp's converter writes -1 (as UINT32 0xFFFFFFFF) for "none"
        if (l == 0xFFFF_FFFFL || l == -1) {
          return -1;
        }
        throw new EngineException(
            file
                + ": GGUF metadata \""
                + key
                + "\" is "
                + l
                + ", outside the "
                + tokens
                + " tokens");
      }
      return (int) (long) l;
    }

    boolean bool(String key, boolean fallback) {
      GgufValue v = metadata.get(key);
      if (v == null) {
        return fallback;
      }
      if (v.type() != GgufValueType.BOOL) {
        throw wrong(key, v, "a bool");
      }
      return v.asBoolean();
    }
  }
}
