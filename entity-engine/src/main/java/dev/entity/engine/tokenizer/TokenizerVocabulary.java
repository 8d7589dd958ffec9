// Convention: the tokenizer is rebuilt as the tokenizer.json Hugging Face itself would hold for
// the named pre-tokenizer (llama.cpp's names) and then read by TokenizerLoader, so a vocabulary
// from a GGUF file runs through exactly the code, and the checks, of a tokenizer.json.
package dev.entity.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.EngineException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A vocabulary given as plain lists, as GGUF stores one ({@code tokenizer.ggml.*}): tokens by id,
 * their {@link TokenType} codes, SentencePiece scores, BPE merges, the special ids and the
 * add-BOS/EOS flags. {@link #toTokenizer} makes the {@link Tokenizer} that Hugging Face builds for
 * such a vocabulary: byte-level BPE with the pre-tokenizer named by {@code pre} (llama.cpp's names:
 * gpt-2, llama-bpe, qwen2, smollm), or SentencePiece-style BPE with byte fallback whose merges,
 * when none are given, come from the scores as Hugging Face's SentencePiece converter makes them.
 *
 * @param source where the vocabulary comes from, for messages
 * @param kind byte-level or SentencePiece-style
 * @param pre the llama.cpp pre-tokenizer name of a byte-level vocabulary (null means gpt-2)
 * @param tokens token strings by id
 * @param types GGUF token type codes by id (1 normal ... 6 byte)
 * @param scores SentencePiece scores by id, or null
 * @param merges merges in rank order, each {@code [left, right]}, or null
 * @param bosId beginning-of-sequence id or -1
 * @param eosId end-of-sequence id or -1
 * @param unkId unknown-token id or -1
 * @param padId padding id or -1
 * @param addBos whether encoding adds BOS
 * @param addEos whether encoding adds EOS
 * @param addSpacePrefix SentencePiece: whether a text gets a leading ▁ (llama.cpp's default)
 * @param chatTemplates chat templates by name ("default" for the main one)
 */
public record TokenizerVocabulary(
    String source,
    TokenizerKind kind,
    String pre,
    List<String> tokens,
    int[] types,
    float[] scores,
    List<String[]> merges,
    int bosId,
    int eosId,
    int unkId,
    int padId,
    boolean addBos,
    boolean addEos,
    boolean addSpacePrefix,
    Map<String, String> chatTemplates) {

  /** The byte-level pre-tokenizer names this class can rebuild. */
  public static final List<String> BYTE_LEVEL_PRE =
      List.of("gpt-2", "default", "llama-bpe", "llama3", "qwen2", "smollm");

  private static final ObjectMapper JSON = new ObjectMapper();

  public TokenizerVocabulary {
    tokens = List.copyOf(tokens);
    chatTemplates = Map.copyOf(chatTemplates);
    if (types.length != tokens.size()) {
      throw new EngineException(
          source
              + ": "
              + types.length
              + " token types for "
              + tokens.size()
              + " tokens; the vocabulary is inconsistent");
    }
    if (scores != null && scores.length != tokens.size()) {
      throw new EngineException(
          source + ": " + scores.length + " scores for " + tokens.size() + " tokens");
    }
    for (int id : new int[] {bosId, eosId, unkId, padId}) {
      if (id < -1 || id >= tokens.size()) {
        throw new EngineException(
            source + ": special token id " + id + " is outside the " + tokens.size() + " tokens");
      }
    }
  }

  /** The tokenizer this vocabulary describes. */
  public Tokenizer toTokenizer() {
    boolean sentencePiece = kind == TokenizerKind.SENTENCEPIECE_BPE;
    ObjectNode root = JSON.createObjectNode();
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode model = JSON.createObjectNode();
    ObjectNode vocab = JSON.createObjectNode();
    Map<String, Integer> ids = new HashMap<>();
    for (int id = 0; id < tokens.size(); id++) {
      int type = types[id];
      if (type == TokenType.UNUSED.ggufCode()) {
        continue;
      }
      String t = tokens.get(id);
      if (ids.putIfAbsent(t, id) != null) {
        continue; // a duplicate string can only be reached by its first id, as in llama.cpp
      }
      vocab.put(t, id);
      boolean control =
          type == TokenType.CONTROL.ggufCode() || type == TokenType.UNKNOWN.ggufCode();
      if (control || type == TokenType.USER_DEFINED.ggufCode()) {
        ObjectNode a = added.addObject();
        a.put("id", id);
        a.put("content", t);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", control);
      }
    }
    model.put("type", "BPE");
    model.put("unk_token", sentencePiece && unkId >= 0 ? tokens.get(unkId) : null);
    model.put("fuse_unk", sentencePiece);
    model.put("byte_fallback", sentencePiece);
    model.put("ignore_merges", !sentencePiece && ("llama-bpe".equals(pre) || "llama3".equals(pre)));
    model.set("vocab", vocab);
    ArrayNode mergeList = model.putArray("merges");
    for (String[] m : merges != null ? merges : sentencePieceMerges(ids)) {
      mergeList.addArray().add(m[0]).add(m[1]);
    }
    root.set("model", model);
    if (sentencePiece) {
      sentencePiece(root);
    } else {
      byteLevel(root);
    }
    ObjectNode cfg = JSON.createObjectNode();
    putToken(cfg, "bos_token", bosId);
    putToken(cfg, "eos_token", eosId);
    putToken(cfg, "unk_token", unkId);
    putToken(cfg, "pad_token", padId);
    cfg.put("add_bos_token", addBos && bosId >= 0);
    cfg.put("add_eos_token", addEos && eosId >= 0);
    return TokenizerLoader.fromJson(root, cfg, source, source, new HashMap<>(chatTemplates));
  }

  private void putToken(ObjectNode cfg, String field, int id) {
    if (id >= 0) {
      cfg.put(field, tokens.get(id));
    }
  }

  private void byteLevel(ObjectNode root) {
    String name = pre == null ? "gpt-2" : pre;
    ObjectNode pre = JSON.createObjectNode();
    switch (name) {
      case "gpt-2", "default" -> byteLevelNode(pre, true);
      case "llama-bpe", "llama3" -> splitThenBytes(pre, PreTokenizer.LLAMA3_PATTERN);
      case "qwen2" -> {
        root.putObject("normalizer").put("type", "NFC");
        splitThenBytes(pre, PreTokenizer.QWEN2_PATTERN);
      }
      case "smollm" -> {
        pre.put("type", "Sequence");
        ArrayNode list = pre.putArray("pretokenizers");
        list.addObject().put("type", "Digits").put("individual_digits", true);
        byteLevelNode(list.addObject(), true);
      }
      default ->
          throw new EngineException(
              source
                  + ": tokenizer.ggml.pre \""
                  + name
                  + "\" is not a pre-tokenizer the engine knows; supported: "
                  + String.join(", ", BYTE_LEVEL_PRE));
    }
    root.set("pre_tokenizer", pre);
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "ByteLevel");
    post.put("add_prefix_space", false);
    post.put("trim_offsets", false);
    post.put("use_regex", true);
    root.putObject("decoder").put("type", "ByteLevel");
  }

  private static void splitThenBytes(ObjectNode pre, String pattern) {
    pre.put("type", "Sequence");
    ArrayNode list = pre.putArray("pretokenizers");
    ObjectNode split = list.addObject();
    split.put("type", "Split");
    split.putObject("pattern").put("Regex", pattern);
    split.put("behavior", "Isolated");
    split.put("invert", false);
    byteLevelNode(list.addObject(), false);
  }

  private static void byteLevelNode(ObjectNode n, boolean useRegex) {
    n.put("type", "ByteLevel");
    n.put("add_prefix_space", false);
    n.put("trim_offsets", true);
    n.put("use_regex", useRegex);
  }

  /** Llama 2's layout: ▁ prepended and for spaces by the normalizer, undone by the decoder. */
  private void sentencePiece(ObjectNode root) {
    ObjectNode norm = root.putObject("normalizer");
    norm.put("type", "Sequence");
    ArrayNode steps = norm.putArray("normalizers");
    if (addSpacePrefix) {
      steps.addObject().put("type", "Prepend").put("prepend", "\u2581");
    }
    ObjectNode replace = steps.addObject().put("type", "Replace");
    replace.putObject("pattern").put("String", " ");
    replace.put("content", "\u2581");
    root.putNull("pre_tokenizer");
    ObjectNode dec = root.putObject("decoder");
    dec.put("type", "Sequence");
    ArrayNode chain = dec.putArray("decoders");
    ObjectNode back = chain.addObject().put("type", "Replace");
    back.putObject("pattern").put("String", "\u2581");
    back.put("content", " ");
    chain.addObject().put("type", "ByteFallback");
    chain.addObject().put("type", "Fuse");
    chain
        .addObject()
        .put("type", "Strip")
        .put("content", " ")
        .put("start", addSpacePrefix ? 1 : 0)
        .put("stop", 0);
  }

  /**
   * Merges from scores, as Hugging Face's SentencePiece extractor makes them: every split of a
   * normal token into two known pieces, ranked by the token's score (higher first), ties in id
   * order. This is also the merge order of llama.cpp's SentencePiece tokenizer.
   */
  private List<String[]> sentencePieceMerges(Map<String, Integer> ids) {
    if (scores == null) {
      throw new EngineException(
          source
              + ": a SentencePiece vocabulary needs tokenizer.ggml.scores (or merges); the file"
              + " has neither");
    }
    record Merge(String left, String right, float score, int leftId, int rightId) {}
    List<Merge> all = new ArrayList<>();
    for (int id = 0; id < tokens.size(); id++) {
      if (types[id] != TokenType.NORMAL.ggufCode()) {
        continue;
      }
      String t = tokens.get(id);
      List<Merge> local = new ArrayList<>();
      for (int at = t.offsetByCodePoints(0, 1); at < t.length(); ) {
        Integer l = ids.get(t.substring(0, at));
        Integer r = ids.get(t.substring(at));
        if (l != null && r != null) {
          local.add(new Merge(t.substring(0, at), t.substring(at), scores[id], l, r));
        }
        at = t.offsetByCodePoints(at, 1);
      }
      local.sort(Comparator.comparingInt(Merge::leftId).thenComparingInt(Merge::rightId));
      all.addAll(local);
    }
    all.sort(Comparator.comparingDouble(m -> -m.score())); // stable: ties keep their order
    List<String[]> out = new ArrayList<>(all.size());
    for (Merge m : all) {
      out.add(new String[] {m.left(), m.right()});
    }
    return out;
  }
}
