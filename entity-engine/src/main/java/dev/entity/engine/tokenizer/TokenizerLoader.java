// Convention: every refusal names the file and the JSON path of the field at fault
// (e.g. "tokenizer.json: pre_tokenizer.pretokenizers[0].type") and lists what is supported;
// unknown component types are refused rather than skipped, since skipping one changes every id.
package dev.entity.engine.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a Hugging Face tokenizer folder ({@code tokenizer.json}, optional {@code
 * tokenizer_config.json} and {@code chat_template.jinja}) into a {@link Tokenizer}, refusing
 * malformed or unsupported files with a message that names the file and field.
 */
public final class TokenizerLoader {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private TokenizerLoader() {}

  /** Loads {@code folder/tokenizer.json} and {@code folder/tokenizer_config.json} if present. */
  public static Tokenizer load(Path folder) {
    Path tokenizerJson = folder.resolve("tokenizer.json");
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new EngineException(
          tokenizerJson
              + " not found: a tokenizer folder needs the Hugging Face tokenizer.json (a"
              + " SentencePiece tokenizer.model alone is not supported; save the tokenizer with"
              + " transformers to get tokenizer.json)");
    }
    Path config = folder.resolve("tokenizer_config.json");
    Path jinja = folder.resolve("chat_template.jinja");
    return load(
        tokenizerJson,
        Files.isRegularFile(config) ? config : null,
        Files.isRegularFile(jinja) ? jinja : null);
  }

  /** Loads explicit files; {@code config} and {@code chatTemplateFile} may be null. */
  public static Tokenizer load(Path tokenizerJson, Path config, Path chatTemplateFile) {
    JsonNode root = readJson(tokenizerJson);
    JsonNode cfg = config == null ? JSON.createObjectNode() : readJson(config);
    String src = tokenizerJson.toString();
    Map<String, String> templates = new LinkedHashMap<>();
    if (config != null) {
      readChatTemplates(cfg.get("chat_template"), config.toString(), templates);
    }
    if (templates.isEmpty() && chatTemplateFile != null) {
      try {
        templates.put("default", Files.readString(chatTemplateFile));
      } catch (IOException e) {
        throw new EngineException(chatTemplateFile + ": cannot read: " + e.getMessage(), e);
      }
    }
    return fromJson(
        root, cfg, src, config == null ? "tokenizer_config.json" : config.toString(), templates);
  }

  /** Builds a tokenizer from parsed {@code tokenizer.json} and config trees. */
  static Tokenizer fromJson(
      JsonNode root, JsonNode cfg, String src, String cfgSrc, Map<String, String> templates) {
    if (!root.isObject()) {
      throw new EngineException(src + ": the top level must be a JSON object");
    }
    Reader r = new Reader(src);
    BpeModel model = r.model(require(root, "model", src));
    List<AddedToken> addedTokens = r.addedTokens(root.get("added_tokens"), model);
    Normalizer normalizer = r.normalizer(root.get("normalizer"), "normalizer");
    List<String> splitPatterns = new ArrayList<>();
    boolean[] byteLevel = new boolean[1];
    PreTokenizer pre =
        r.preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer", splitPatterns, byteLevel);
    Map<String, int[]> templateTokens = new HashMap<>();
    PostProcessor post = r.postProcessor(root.get("post_processor"), "post_processor");
    Decoder decoder = r.decoder(root.get("decoder"), "decoder");
    TokenizerKind kind;
    if (byteLevel[0]) {
      kind = TokenizerKind.BYTE_LEVEL_BPE;
    } else if (model.byteFallback()
        || (root.get("pre_tokenizer") != null
            && root.get("pre_tokenizer").toString().contains("Metaspace"))
        || (root.get("normalizer") != null
            && root.get("normalizer").toString().contains("\u2581"))) {
      kind = TokenizerKind.SENTENCEPIECE_BPE;
    } else {
      throw new EngineException(
          src
              + ": this BPE tokenizer is neither byte-level (a ByteLevel pre_tokenizer) nor"
              + " SentencePiece-style (Metaspace, a '\u2581' normalizer or byte_fallback);"
              + " supported: GPT-2, Llama 3, Qwen2, Llama 2, Mistral and TinyLlama style tokenizers");
    }
    String bos = specialString(cfg.get("bos_token"), cfgSrc, "bos_token");
    String eos = specialString(cfg.get("eos_token"), cfgSrc, "eos_token");
    String pad = specialString(cfg.get("pad_token"), cfgSrc, "pad_token");
    String unk = specialString(cfg.get("unk_token"), cfgSrc, "unk_token");
    JsonNode addBosNode = cfg.get("add_bos_token");
    JsonNode addEosNode = cfg.get("add_eos_token");
    Map<String, Integer> ids = new HashMap<>(model.vocab());
    for (AddedToken t : addedTokens) {
      ids.put(t.content(), t.id());
    }
    if (addBosNode != null || addEosNode != null) {
      boolean addBos = addBosNode != null && addBosNode.asBoolean();
      boolean addEos = addEosNode != null && addEosNode.asBoolean();
      List<int[]> items = new ArrayList<>();
      if (addBos) {
        items.add(new int[] {specialId(bos, "bos_token", "add_bos_token", cfgSrc, ids)});
      }
      items.add(null);
      if (addEos) {
        items.add(new int[] {specialId(eos, "eos_token", "add_eos_token", cfgSrc, ids)});
      }
      post = withTemplate(post, new PostProcessor.Template(items));
    }
    boolean[] flags =
        templateFlags(
            post,
            bos == null ? -1 : ids.getOrDefault(bos, -1),
            eos == null ? -1 : ids.getOrDefault(eos, -1));
    Tokenizer.SpecialTokens specials =
        new Tokenizer.SpecialTokens(bos, eos, pad, unk, flags[0], flags[1]);
    return new Tokenizer(
        src,
        kind,
        model,
        addedTokens,
        normalizer,
        pre,
        post,
        decoder,
        splitPatterns,
        specials,
        templates);
  }

  private static int specialId(
      String token, String field, String flag, String cfgSrc, Map<String, Integer> ids) {
    if (token == null) {
      throw new EngineException(
          cfgSrc
              + ": "
              + flag
              + " is true but "
              + field
              + " is not set; set "
              + field
              + " or "
              + flag
              + ": false");
    }
    Integer id = ids.get(token);
    if (id == null) {
      throw new EngineException(
          cfgSrc + ": " + field + " '" + token + "' is not in the tokenizer's vocabulary");
    }
    return id;
  }

  /** Puts the BOS/EOS template in place of (or after) the file's own post-processor. */
  private static PostProcessor withTemplate(PostProcessor post, PostProcessor.Template template) {
    if (post == null || post instanceof PostProcessor.Template) {
      return template;
    }
    if (post instanceof PostProcessor.Sequence(List<PostProcessor> processors)) {
      List<PostProcessor> list = new ArrayList<>();
      for (PostProcessor p : processors) {
        if (!(p instanceof PostProcessor.Template)) {
          list.add(p);
        }
      }
      list.add(template);
      return new PostProcessor.Sequence(list);
    }
    return new PostProcessor.Sequence(List.of(post, template));
  }

  /** Whether the effective template starts with BOS and ends with EOS. */
  private static boolean[] templateFlags(PostProcessor post, int bosId, int eosId) {
    if (post instanceof PostProcessor.Template(List<int[]> items)) {
      boolean bos =
          !items.isEmpty()
              && items.getFirst() != null
              && bosId >= 0
              && items.getFirst()[0] == bosId;
      int[] last = items.isEmpty() ? null : items.getLast();
      boolean eos = last != null && eosId >= 0 && last[last.length - 1] == eosId;
      return new boolean[] {bos, eos};
    }
    if (post instanceof PostProcessor.Sequence(List<PostProcessor> processors)) {
      boolean[] f = new boolean[2];
      for (PostProcessor p : processors) {
        boolean[] g = templateFlags(p, bosId, eosId);
        f[0] |= g[0];
        f[1] |= g[1];
      }
      return f;
    }
    return new boolean[2];
  }

  private static void readChatTemplates(JsonNode node, String src, Map<String, String> out) {
    if (node == null || node.isNull()) {
      return;
    }
    if (node.isTextual()) {
      out.put("default", node.asText());
      return;
    }
    if (node.isArray()) {
      int i = 0;
      for (JsonNode t : node) {
        JsonNode name = t.get("name");
        JsonNode template = t.get("template");
        if (name == null || !name.isTextual() || template == null || !template.isTextual()) {
          throw new EngineException(
              src
                  + ": chat_template["
                  + i
                  + "] must be an object with string 'name' and 'template'");
        }
        out.put(name.asText(), template.asText());
        i++;
      }
      return;
    }
    throw new EngineException(
        src + ": chat_template must be a string or a list of {name, template} objects");
  }

  private static String specialString(JsonNode node, String src, String field) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isObject() && node.get("content") != null && node.get("content").isTextual()) {
      return node.get("content").asText();
    }
    throw new EngineException(
        src + ": " + field + " must be a string or an object with a string 'content'");
  }

  static JsonNode readJson(Path file) {
    try {
      JsonNode node = JSON.readTree(Files.readString(file));
      if (node == null || node.isMissingNode()) {
        throw new EngineException(file + ": the file is empty; expected a JSON object");
      }
      return node;
    } catch (NoSuchFileException e) {
      throw new EngineException(file + " not found", e);
    } catch (JsonProcessingException e) {
      throw new EngineException(
          file
              + ": invalid JSON at line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ": "
              + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new EngineException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  static JsonNode require(JsonNode node, String field, String src) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new EngineException(src + ": required field '" + field + "' is missing");
    }
    return v;
  }

  /** Reads the components of one {@code tokenizer.json}, naming fields in errors. */
  private record Reader(String src) {

    EngineException error(String path, String what) {
      return new EngineException(src + ": " + path + ": " + what);
    }

    String type(JsonNode node, String path) {
      if (!node.isObject()) {
        throw error(path, "must be an object");
      }
      JsonNode t = node.get("type");
      if (t == null || !t.isTextual()) {
        throw error(path + ".type", "missing or not a string");
      }
      return t.asText();
    }

    String text(JsonNode node, String field, String path, String fallback) {
      JsonNode v = node.get(field);
      if (v == null || v.isNull()) {
        if (fallback == null) {
          throw error(path + "." + field, "required string is missing");
        }
        return fallback;
      }
      if (!v.isTextual()) {
        throw error(path + "." + field, "must be a string");
      }
      return v.asText();
    }

    boolean bool(JsonNode node, String field, String path, boolean fallback) {
      JsonNode v = node.get(field);
      if (v == null || v.isNull()) {
        return fallback;
      }
      if (!v.isBoolean()) {
        throw error(path + "." + field, "must be true or false");
      }
      return v.asBoolean();
    }

    int integer(JsonNode node, String field, String path) {
      JsonNode v = node.get(field);
      if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
        throw error(path + "." + field, "must be an integer");
      }
      return v.asInt();
    }

    List<JsonNode> array(JsonNode node, String field, String path) {
      JsonNode v = node.get(field);
      if (v == null || !v.isArray()) {
        throw error(path + "." + field, "must be a list");
      }
      List<JsonNode> out = new ArrayList<>();
      v.forEach(out::add);
      return out;
    }

    BpeModel model(JsonNode m) {
      String type = m.has("type") ? type(m, "model") : (m.has("merges") ? "BPE" : "?");
      if (!type.equals("BPE")) {
        throw error(
            "model.type",
            "'"
                + type
                + "' is not supported; supported: BPE (byte-level as in GPT-2, Llama 3 and Qwen2, or"
                + " SentencePiece-style with byte_fallback as in Llama 2, Mistral and TinyLlama)");
      }
      JsonNode dropout = m.get("dropout");
      if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
        throw error("model.dropout", "BPE dropout makes encoding random; set it to null");
      }
      JsonNode v = m.get("vocab");
      if (v == null || !v.isObject()) {
        throw error("model.vocab", "must be an object of token to id");
      }
      Map<String, Integer> vocab = new HashMap<>(v.size() * 2);
      Iterator<Map.Entry<String, JsonNode>> it = v.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode id = e.getValue();
        if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
          throw error(
              "model.vocab['" + e.getKey() + "']", "must be a non-negative integer id, got " + id);
        }
        vocab.put(e.getKey(), id.asInt());
      }
      List<String[]> merges = new ArrayList<>();
      JsonNode mergesNode = m.get("merges");
      if (mergesNode != null && !mergesNode.isNull()) {
        if (!mergesNode.isArray()) {
          throw error("model.merges", "must be a list");
        }
        int i = 0;
        for (JsonNode merge : mergesNode) {
          merges.add(merge(merge, "model.merges[" + i + "]"));
          i++;
        }
      }
      return new BpeModel(
          vocab,
          merges,
          m.hasNonNull("unk_token") ? text(m, "unk_token", "model", null) : null,
          bool(m, "fuse_unk", "model", false),
          bool(m, "byte_fallback", "model", false),
          bool(m, "ignore_merges", "model", false),
          m.hasNonNull("continuing_subword_prefix")
              ? text(m, "continuing_subword_prefix", "model", null)
              : null,
          m.hasNonNull("end_of_word_suffix") ? text(m, "end_of_word_suffix", "model", null) : null,
          src);
    }

    String[] merge(JsonNode merge, String path) {
      if (merge.isTextual()) {
        String s = merge.asText();
        String[] parts = s.split(" ", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
          throw error(path, "'" + s + "' must be two tokens separated by one space");
        }
        return parts;
      }
      if (merge.isArray()
          && merge.size() == 2
          && merge.get(0).isTextual()
          && merge.get(1).isTextual()) {
        return new String[] {merge.get(0).asText(), merge.get(1).asText()};
      }
      throw error(path, "must be \"left right\" or [\"left\", \"right\"]");
    }

    List<AddedToken> addedTokens(JsonNode node, BpeModel model) {
      List<AddedToken> out = new ArrayList<>();
      if (node == null || node.isNull()) {
        return out;
      }
      if (!node.isArray()) {
        throw error("added_tokens", "must be a list");
      }
      Map<Integer, String> seen = new HashMap<>();
      int i = 0;
      for (JsonNode t : node) {
        String path = "added_tokens[" + i + "]";
        if (!t.isObject()) {
          throw error(path, "must be an object");
        }
        int id = integer(t, "id", path);
        if (id < 0) {
          throw error(path + ".id", "must be non-negative");
        }
        String content = text(t, "content", path, null);
        if (content.isEmpty()) {
          throw error(path + ".content", "must not be empty");
        }
        String previous = seen.put(id, content);
        if (previous != null) {
          throw error(
              path + ".id",
              "id " + id + " is used by both '" + previous + "' and '" + content + "'");
        }
        String inVocab = model.idToToken(id);
        if (inVocab != null && !inVocab.equals(content)) {
          throw error(
              path + ".id",
              "id " + id + " is '" + inVocab + "' in model.vocab but '" + content + "' here");
        }
        boolean special = bool(t, "special", path, false);
        out.add(
            new AddedToken(
                id,
                content,
                bool(t, "single_word", path, false),
                bool(t, "lstrip", path, false),
                bool(t, "rstrip", path, false),
                bool(t, "normalized", path, !special),
                special));
        i++;
      }
      return out;
    }

    Pattern pattern(JsonNode node, String path) {
      JsonNode p = node.get("pattern");
      if (p != null && p.isObject() && p.get("String") != null && p.get("String").isTextual()) {
        return Pattern.compile(p.get("String").asText(), Pattern.LITERAL);
      }
      if (p != null && p.isObject() && p.get("Regex") != null && p.get("Regex").isTextual()) {
        try {
          return RegexTranslation.compile(p.get("Regex").asText());
        } catch (EngineException e) {
          throw error(path + ".pattern.Regex", e.getMessage());
        }
      }
      throw error(path + ".pattern", "must be {\"String\": ...} or {\"Regex\": ...}");
    }

    Normalizer normalizer(JsonNode node, String path) {
      if (node == null || node.isNull()) {
        return null;
      }
      String type = type(node, path);
      return switch (type) {
        case "NFC" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFC);
        case "NFD" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFD);
        case "NFKC" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFKC);
        case "NFKD" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFKD);
        case "Prepend" -> new Normalizer.Prepend(text(node, "prepend", path, null));
        case "Replace" ->
            new Normalizer.Replace(pattern(node, path), text(node, "content", path, null));
        case "Lowercase" -> new Normalizer.Lowercase();
        case "Strip" ->
            new Normalizer.Strip(
                bool(node, "strip_left", path, true), bool(node, "strip_right", path, true));
        case "Sequence" -> {
          List<Normalizer> list = new ArrayList<>();
          List<JsonNode> items = array(node, "normalizers", path);
          for (int i = 0; i < items.size(); i++) {
            list.add(normalizer(items.get(i), path + ".normalizers[" + i + "]"));
          }
          yield new Normalizer.Sequence(list);
        }
        default ->
            throw error(
                path + ".type",
                "'"
                    + type
                    + "' is not supported; supported: NFC, NFD, NFKC, NFKD, Prepend, Replace,"
                    + " Lowercase, Strip, Sequence");
      };
    }

    PreTokenizer preTokenizer(
        JsonNode node, String path, List<String> splitPatterns, boolean[] byteLevel) {
      if (node == null || node.isNull()) {
        return null;
      }
      String type = type(node, path);
      return switch (type) {
        case "Split" -> {
          JsonNode p = node.get("pattern");
          if (p != null && p.get("Regex") != null) {
            splitPatterns.add(p.get("Regex").asText());
          }
          yield new PreTokenizer.Split(
              pattern(node, path),
              behavior(text(node, "behavior", path, "Isolated"), path),
              bool(node, "invert", path, false));
        }
        case "ByteLevel" -> {
          byteLevel[0] = true;
          yield new PreTokenizer.ByteLevel(
              bool(node, "add_prefix_space", path, true), bool(node, "use_regex", path, true));
        }
        case "Metaspace" ->
            new PreTokenizer.Metaspace(
                replacement(node, path),
                prependScheme(node, path),
                bool(node, "split", path, true));
        case "Digits" -> new PreTokenizer.Digits(bool(node, "individual_digits", path, false));
        case "Sequence" -> {
          List<PreTokenizer> list = new ArrayList<>();
          List<JsonNode> items = array(node, "pretokenizers", path);
          for (int i = 0; i < items.size(); i++) {
            list.add(
                preTokenizer(
                    items.get(i), path + ".pretokenizers[" + i + "]", splitPatterns, byteLevel));
          }
          yield new PreTokenizer.Sequence(list);
        }
        default ->
            throw error(
                path + ".type",
                "'"
                    + type
                    + "' is not supported; supported: Split, ByteLevel, Metaspace, Digits, Sequence");
      };
    }

    String replacement(JsonNode node, String path) {
      String r = text(node, "replacement", path, "\u2581");
      if (r.codePointCount(0, r.length()) != 1) {
        throw error(path + ".replacement", "must be a single character");
      }
      return r;
    }

    PreTokenizer.PrependScheme prependScheme(JsonNode node, String path) {
      JsonNode scheme = node.get("prepend_scheme");
      if (scheme != null && !scheme.isNull()) {
        return switch (scheme.asText()) {
          case "always" -> PreTokenizer.PrependScheme.ALWAYS;
          case "first" -> PreTokenizer.PrependScheme.FIRST;
          case "never" -> PreTokenizer.PrependScheme.NEVER;
          default ->
              throw error(
                  path + ".prepend_scheme", "must be always, first or never, got " + scheme);
        };
      }
      return bool(node, "add_prefix_space", path, true)
          ? PreTokenizer.PrependScheme.ALWAYS
          : PreTokenizer.PrependScheme.NEVER;
    }

    PreTokenizer.Behavior behavior(String b, String path) {
      return switch (b) {
        case "Removed" -> PreTokenizer.Behavior.REMOVED;
        case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
        case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
        case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
        case "Contiguous" -> PreTokenizer.Behavior.CONTIGUOUS;
        default ->
            throw error(
                path + ".behavior",
                "'"
                    + b
                    + "' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
      };
    }

    PostProcessor postProcessor(JsonNode node, String path) {
      if (node == null || node.isNull()) {
        return null;
      }
      String type = type(node, path);
      return switch (type) {
        case "ByteLevel" ->
            new PostProcessor.ByteLevel(
                bool(node, "trim_offsets", path, true), bool(node, "add_prefix_space", path, true));
        case "TemplateProcessing" -> template(node, path);
        case "Sequence" -> {
          List<PostProcessor> list = new ArrayList<>();
          List<JsonNode> items = array(node, "processors", path);
          for (int i = 0; i < items.size(); i++) {
            list.add(postProcessor(items.get(i), path + ".processors[" + i + "]"));
          }
          yield new PostProcessor.Sequence(list);
        }
        default ->
            throw error(
                path + ".type",
                "'"
                    + type
                    + "' is not supported; supported: ByteLevel, TemplateProcessing, Sequence");
      };
    }

    PostProcessor.Template template(JsonNode node, String path) {
      JsonNode specials = node.get("special_tokens");
      List<int[]> items = new ArrayList<>();
      List<JsonNode> single = array(node, "single", path);
      for (int i = 0; i < single.size(); i++) {
        JsonNode item = single.get(i);
        String ipath = path + ".single[" + i + "]";
        if (item.has("Sequence")) {
          items.add(null);
        } else if (item.has("SpecialToken")) {
          String id = text(item.get("SpecialToken"), "id", ipath + ".SpecialToken", null);
          JsonNode spec = specials == null ? null : specials.get(id);
          if (spec == null || spec.get("ids") == null || !spec.get("ids").isArray()) {
            throw error(
                ipath,
                "special token '" + id + "' has no entry with ids in " + path + ".special_tokens");
          }
          int[] ids = new int[spec.get("ids").size()];
          for (int k = 0; k < ids.length; k++) {
            JsonNode idNode = spec.get("ids").get(k);
            if (!idNode.isIntegralNumber() || idNode.asInt() < 0) {
              throw error(
                  path + ".special_tokens['" + id + "'].ids", "must be non-negative integers");
            }
            ids[k] = idNode.asInt();
          }
          items.add(ids);
        } else {
          throw error(ipath, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
        }
      }
      return new PostProcessor.Template(items);
    }

    Decoder decoder(JsonNode node, String path) {
      if (node == null || node.isNull()) {
        return null;
      }
      String type = type(node, path);
      return switch (type) {
        case "ByteLevel" -> new Decoder.ByteLevel();
        case "Metaspace" ->
            new Decoder.Metaspace(replacement(node, path).charAt(0), prependScheme(node, path));
        case "Replace" -> {
          JsonNode p = node.get("pattern");
          if (p == null || p.get("String") == null || !p.get("String").isTextual()) {
            throw error(
                path + ".pattern", "only {\"String\": ...} patterns are supported in decoders");
          }
          yield new Decoder.Replace(p.get("String").asText(), text(node, "content", path, null));
        }
        case "ByteFallback" -> new Decoder.ByteFallback();
        case "Fuse" -> new Decoder.Fuse();
        case "Strip" -> {
          String content = text(node, "content", path, " ");
          yield new Decoder.Strip(
              content.codePointAt(0), integer(node, "start", path), integer(node, "stop", path));
        }
        case "Sequence" -> {
          List<Decoder> list = new ArrayList<>();
          List<JsonNode> items = array(node, "decoders", path);
          for (int i = 0; i < items.size(); i++) {
            list.add(decoder(items.get(i), path + ".decoders[" + i + "]"));
          }
          yield new Decoder.Sequence(list);
        }
        default ->
            throw error(
                path + ".type",
                "'"
                    + type
                    + "' is not supported; supported: ByteLevel, Metaspace, Replace, ByteFallback,"
                    + " Fuse, Strip, Sequence");
      };
    }
  }
}
