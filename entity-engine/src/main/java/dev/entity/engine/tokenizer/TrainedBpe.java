// Convention: the files written are what Hugging Face tokenizers 0.20+ writes for a GPT-2-style
// tokenizer: ByteLevel pre-tokenizer (GPT-2 regex, no prefix space), ByteLevel decoder and
// post-processor, merges as [left, right] pairs, special tokens as non-normalized added tokens.
package dev.entity.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A byte-level BPE vocabulary learned by {@link BpeTrainer}: tokens by id, merges in rank order and
 * the special tokens. {@link #writeTo} saves it as a Hugging Face tokenizer folder that {@link
 * Tokenizer#load} and Hugging Face {@code tokenizers} both read.
 */
public record TrainedBpe(List<String> tokens, List<String[]> merges, List<String> specialTokens) {

  public TrainedBpe {
    tokens = List.copyOf(tokens);
    merges = List.copyOf(merges);
    specialTokens = List.copyOf(specialTokens);
  }

  /** Vocabulary size, special tokens included. */
  public int vocabSize() {
    return tokens.size();
  }

  /**
   * Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code folder} (created if
   * needed). {@code bos}, {@code eos} and {@code pad} name special tokens (or are null); {@code
   * chatTemplate} is the Jinja source stored in the config (or null).
   */
  public void writeTo(Path folder, String bos, String eos, String pad, String chatTemplate) {
    for (String t : new String[] {bos, eos, pad}) {
      if (t != null && !specialTokens.contains(t)) {
        throw new EngineException(
            "'" + t + "' is not one of the trained special tokens " + specialTokens);
      }
    }
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (String s : specialTokens) {
      ObjectNode t = added.addObject();
      t.put("id", tokens.indexOf(s));
      t.put("content", s);
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel(json, false, true));
    root.set("post_processor", byteLevel(json, true, false));
    root.set("decoder", byteLevel(json, true, true));
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < tokens.size(); i++) {
      vocab.put(tokens.get(i), i);
    }
    ArrayNode mergeList = model.putArray("merges");
    for (String[] m : merges) {
      mergeList.addArray().add(m[0]).add(m[1]);
    }
    ObjectNode config = json.createObjectNode();
    config.put("tokenizer_class", "PreTrainedTokenizerFast");
    putToken(config, "bos_token", bos);
    putToken(config, "eos_token", eos);
    putToken(config, "pad_token", pad);
    config.put("add_bos_token", false);
    config.put("add_eos_token", false);
    config.put("model_max_length", 1_000_000);
    if (chatTemplate != null) {
      config.put("chat_template", chatTemplate);
    }
    try {
      Files.createDirectories(folder);
      json.writeValue(folder.resolve("tokenizer.json").toFile(), root);
      json.writeValue(folder.resolve("tokenizer_config.json").toFile(), config);
    } catch (IOException e) {
      throw new EngineException(
          "cannot write the tokenizer to " + folder + ": " + e.getMessage(), e);
    }
  }

  private static ObjectNode byteLevel(
      ObjectMapper json, boolean addPrefixSpace, boolean trimOffsets) {
    ObjectNode n = json.createObjectNode();
    n.put("type", "ByteLevel");
    n.put("add_prefix_space", addPrefixSpace);
    n.put("trim_offsets", trimOffsets);
    n.put("use_regex", true);
    return n;
  }

  private static void putToken(ObjectNode config, String field, String token) {
    if (token == null) {
      config.putNull(field);
    } else {
      config.put(field, token);
    }
  }
}
