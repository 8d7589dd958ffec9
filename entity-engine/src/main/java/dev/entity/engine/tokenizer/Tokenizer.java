// Convention: encode runs Hugging Face's pipeline in its order: split on raw added tokens,
// normalize
// each remaining piece, split on normalized added tokens, pre-tokenize, BPE per word (cached),
// post-process. Offsets are UTF-16 indexes into the input string.
package dev.entity.engine.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face fast tokenizer read from {@code tokenizer.json} and {@code tokenizer_config.json}:
 * byte-level BPE (GPT-2, Llama 3, Qwen2) or SentencePiece-style BPE with byte fallback (Llama 2,
 * Mistral, TinyLlama), with added and special tokens and the BOS/EOS rules. It produces the same
 * ids and offsets as the {@code tokenizers} library, and exposes vocabulary, merges, token types,
 * special ids and the chat template for training and for GGUF/Ollama export. Immutable and
 * thread-safe.
 */
public final class Tokenizer {

  /** End-of-turn markers of the chat formats we know, recognized when present in the vocabulary. */
  public static final List<String> KNOWN_END_OF_TURN_TOKENS =
      List.of(
          "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>");

  private final String source;
  private final TokenizerKind kind;
  private final BpeModel model;
  private final AddedVocabulary added;
  private final Normalizer normalizer;
  private final PreTokenizer preTokenizer;
  private final PostProcessor postProcessor;
  private final Decoder decoder;
  private final List<String> splitPatterns;
  private final SpecialTokens specials;
  private final Map<String, String> chatTemplates;
  private final Map<Integer, AddedToken> addedById = new HashMap<>();
  private final Map<String, AddedToken> addedByContent = new HashMap<>();
  private final int vocabSize;

  /** The special-token settings of {@code tokenizer_config.json} (token strings, may be null). */
  public record SpecialTokens(
      String bos, String eos, String pad, String unk, boolean addBos, boolean addEos) {}

  Tokenizer(
      String source,
      TokenizerKind kind,
      BpeModel model,
      List<AddedToken> addedTokens,
      Normalizer normalizer,
      PreTokenizer preTokenizer,
      PostProcessor postProcessor,
      Decoder decoder,
      List<String> splitPatterns,
      SpecialTokens specials,
      Map<String, String> chatTemplates) {
    this.source = source;
    this.kind = kind;
    this.model = model;
    this.added = new AddedVocabulary(addedTokens);
    this.normalizer = normalizer;
    this.preTokenizer = preTokenizer;
    this.postProcessor = postProcessor;
    this.decoder = decoder;
    this.splitPatterns = List.copyOf(splitPatterns);
    this.specials = specials;
    this.chatTemplates = Collections.unmodifiableMap(chatTemplates);
    int size = model.vocabSize();
    for (AddedToken t : addedTokens) {
      addedById.put(t.id(), t);
      addedByContent.put(t.content(), t);
      size = Math.max(size, t.id() + 1);
    }
    this.vocabSize = size;
  }

  /** Reads {@code tokenizer.json} and (if present) {@code tokenizer_config.json} from a folder. */
  public static Tokenizer load(Path folder) {
    return TokenizerLoader.load(folder);
  }

  /** Encodes text; special tokens written in the text are recognized as HF does by default. */
  public int[] encode(String text, boolean addSpecialTokens) {
    return encodeWithOffsets(text, addSpecialTokens, false).ids();
  }

  /** Encodes text; with {@code specialTokensAsText} special tokens in the text are plain text. */
  public int[] encode(String text, boolean addSpecialTokens, boolean specialTokensAsText) {
    return encodeWithOffsets(text, addSpecialTokens, specialTokensAsText).ids();
  }

  /** Encodes text and returns each token's span in it. */
  public Encoding encodeWithOffsets(String text, boolean addSpecialTokens) {
    return encodeWithOffsets(text, addSpecialTokens, false);
  }

  /** Encodes text and returns each token's span in it. */
  public Encoding encodeWithOffsets(
      String text, boolean addSpecialTokens, boolean specialTokensAsText) {
    PostProcessor.TokenList tokens = new PostProcessor.TokenList();
    for (AddedVocabulary.Segment seg : added.split(text, false, specialTokensAsText)) {
      if (seg.tokenId() >= 0) {
        tokens.add(seg.tokenId(), seg.start(), seg.end(), text.substring(seg.start(), seg.end()));
        continue;
      }
      NormalizedText piece = NormalizedText.of(text, seg.start(), seg.end());
      if (normalizer != null) {
        normalizer.normalize(piece);
      }
      for (AddedVocabulary.Segment inner : added.split(piece.text(), true, specialTokensAsText)) {
        if (inner.tokenId() >= 0) {
          long span = piece.originalSpan(inner.start(), inner.end());
          tokens.add(
              inner.tokenId(),
              NormalizedText.spanStart(span),
              NormalizedText.spanEnd(span),
              piece.text().substring(inner.start(), inner.end()));
        } else if (inner.end() > inner.start()) {
          tokenizePiece(piece.slice(inner.start(), inner.end()), tokens);
        }
      }
    }
    PostProcessor.TokenList out =
        postProcessor == null
            ? tokens
            : postProcessor.process(tokens, addSpecialTokens, this::idToToken);
    return out.toEncoding();
  }

  private void tokenizePiece(NormalizedText piece, PostProcessor.TokenList tokens) {
    List<NormalizedText> words =
        preTokenizer == null
            ? List.of(piece)
            : preTokenizer.preTokenize(new ArrayList<>(List.of(piece)));
    for (NormalizedText word : words) {
      int[] t = model.tokenize(word.text());
      for (int k = 0; k < t.length; k += 3) {
        long span = word.originalSpan(t[k + 1], t[k + 2]);
        tokens.add(t[k], NormalizedText.spanStart(span), NormalizedText.spanEnd(span));
      }
    }
  }

  /** Decodes ids to text; unknown ids are skipped, special tokens too if asked. */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    List<String> tokens = new ArrayList<>(ids.length);
    for (int id : ids) {
      String t = idToToken(id);
      if (t == null) {
        continue;
      }
      AddedToken a = addedById.get(id);
      if (skipSpecialTokens && a != null && a.special()) {
        continue;
      }
      tokens.add(t);
    }
    if (decoder == null) {
      return String.join(" ", tokens);
    }
    return String.join("", decoder.decodeChain(tokens));
  }

  /** Number of ids (the highest id plus one, added tokens included). */
  public int vocabSize() {
    return vocabSize;
  }

  /** The token string of an id, or null if the id is not used. */
  public String idToToken(int id) {
    AddedToken a = addedById.get(id);
    return a != null ? a.content() : model.idToToken(id);
  }

  /** The id of a token string (added tokens first), if any. */
  public OptionalInt tokenToId(String token) {
    AddedToken a = addedByContent.get(token);
    if (a != null) {
      return OptionalInt.of(a.id());
    }
    Integer id = model.tokenToId(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** Byte-level or SentencePiece-style. */
  public TokenizerKind kind() {
    return kind;
  }

  /** Where this tokenizer was read from (for messages). */
  public String source() {
    return source;
  }

  /** The model vocabulary (token to id), without added tokens that are not in it. */
  public Map<String, Integer> vocab() {
    return Collections.unmodifiableMap(model.vocab());
  }

  /** The merges in rank order, each {@code [left, right]}. */
  public List<String[]> merges() {
    return Collections.unmodifiableList(model.merges());
  }

  /** The added tokens of {@code tokenizer.json}, in file order. */
  public List<AddedToken> addedTokens() {
    return added.tokens();
  }

  /** The Split regexes of the pre-tokenizer (empty for GPT-2's built-in ByteLevel pattern). */
  public List<String> splitPatterns() {
    return splitPatterns;
  }

  /**
   * The llama.cpp pre-tokenizer name for GGUF {@code tokenizer.ggml.pre}: "gpt-2" for the ByteLevel
   * built-in regex, "llama-bpe" for the Llama 3 Split pattern, "qwen2" for Qwen2's, "default" for
   * SentencePiece-style tokenizers; empty when the pattern is not one llama.cpp knows by name.
   */
  public Optional<String> ggufPreTokenizer() {
    if (kind == TokenizerKind.SENTENCEPIECE_BPE) {
      return Optional.of("default");
    }
    if (splitPatterns.isEmpty()) {
      return Optional.of("gpt-2");
    }
    if (splitPatterns.size() == 1 && splitPatterns.getFirst().equals(PreTokenizer.LLAMA3_PATTERN)) {
      return Optional.of("llama-bpe");
    }
    if (splitPatterns.size() == 1 && splitPatterns.getFirst().equals(PreTokenizer.QWEN2_PATTERN)) {
      return Optional.of("qwen2");
    }
    return Optional.empty();
  }

  /** Whether the BPE model falls back to {@code <0xNN>} byte tokens. */
  public boolean byteFallback() {
    return model.byteFallback();
  }

  /** The special-token settings (strings and add-BOS/EOS flags). */
  public SpecialTokens specialTokens() {
    return specials;
  }

  public OptionalInt bosId() {
    return idOf(specials.bos());
  }

  public OptionalInt eosId() {
    return idOf(specials.eos());
  }

  public OptionalInt padId() {
    return idOf(specials.pad());
  }

  public OptionalInt unkId() {
    return idOf(specials.unk() != null ? specials.unk() : model.unkToken());
  }

  private OptionalInt idOf(String token) {
    return token == null ? OptionalInt.empty() : tokenToId(token);
  }

  /**
   * The ids that end an assistant turn: the EOS id and every known end-of-turn marker ({@link
   * #KNOWN_END_OF_TURN_TOKENS}) present in the vocabulary, EOS first.
   */
  public int[] endOfTurnIds() {
    Set<Integer> ids = new LinkedHashSet<>();
    eosId().ifPresent(ids::add);
    for (String t : KNOWN_END_OF_TURN_TOKENS) {
      tokenToId(t).ifPresent(ids::add);
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Whether an id is a special (control) added token. */
  public boolean isSpecial(int id) {
    AddedToken a = addedById.get(id);
    return a != null && a.special();
  }

  /** The GGUF token type of an id. */
  public TokenType tokenType(int id) {
    String unk = specials.unk() != null ? specials.unk() : model.unkToken();
    if (unk != null && unk.equals(idToToken(id))) {
      return TokenType.UNKNOWN;
    }
    AddedToken a = addedById.get(id);
    if (a != null) {
      return a.special() ? TokenType.CONTROL : TokenType.USER_DEFINED;
    }
    String t = model.idToToken(id);
    if (t == null) {
      return TokenType.UNUSED;
    }
    if (model.byteOfToken(id) >= 0) {
      return TokenType.BYTE;
    }
    return TokenType.NORMAL;
  }

  /**
   * A SentencePiece-style score for an id, for GGUF export: minus the rank of the merge that
   * creates the token (so earlier merges score higher), 0 for single characters, byte and added
   * tokens.
   */
  public float score(int id) {
    return scores()[id];
  }

  private volatile float[] scores;

  /** {@link #score(int)} for every id. */
  public float[] scores() {
    float[] s = scores;
    if (s == null) {
      s = new float[vocabSize];
      List<String[]> merges = model.merges();
      for (int rank = merges.size() - 1; rank >= 0; rank--) {
        String[] m = merges.get(rank);
        Integer id = model.tokenToId(m[0] + m[1]);
        if (id != null && id < s.length && !addedById.containsKey(id)) {
          s[id] = -(rank + 1);
        }
      }
      scores = s;
    }
    return s.clone();
  }

  /** The chat template named "default" (or the only one), if the tokenizer has one. */
  public Optional<String> chatTemplate() {
    if (chatTemplates.containsKey("default")) {
      return Optional.of(chatTemplates.get("default"));
    }
    return chatTemplates.size() == 1
        ? Optional.of(chatTemplates.values().iterator().next())
        : Optional.empty();
  }

  /** All named chat templates ({@code default}, {@code tool_use}, ...). */
  public Map<String, String> chatTemplates() {
    return chatTemplates;
  }
}
