// Convention: generation_config.json's eos_token_id may be one id or a list (Llama 3 lists
// <|end_of_text|>, <|eom_id|> and <|eot_id|>); both forms are read, and every id counts.
package dev.entity.engine.generate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Every id that ends a model's turn: the tokenizer's EOS and known end-of-turn markers ({@link
 * Tokenizer#endOfTurnIds()}) and the {@code eos_token_id}s of the model folder's {@code
 * generation_config.json}. A model that stops only on some of them runs past its answer.
 */
public final class StopTokens {

  /** The file Hugging Face keeps generation defaults in. */
  public static final String GENERATION_CONFIG = "generation_config.json";

  private StopTokens() {}

  /** The stop ids of the model in {@code folder} with {@code tokenizer} (may be null). */
  public static int[] of(Path folder, Tokenizer tokenizer) {
    Set<Integer> ids = new LinkedHashSet<>();
    if (tokenizer != null) {
      for (int id : tokenizer.endOfTurnIds()) {
        ids.add(id);
      }
    }
    for (int id : generationConfigEos(folder.resolve(GENERATION_CONFIG))) {
      ids.add(id);
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The eos_token_id(s) of a generation_config.json; none when the file does not exist. */
  public static int[] generationConfigEos(Path file) {
    if (!Files.isRegularFile(file)) {
      return new int[0];
    }
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (JsonProcessingException e) {
      throw new EngineException(
          file + " is not valid JSON (" + e.getOriginalMessage() + "); fix or delete the file");
    } catch (IOException e) {
      throw new EngineException("cannot read " + file + ": " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new EngineException(file + " must hold a JSON object");
    }
    JsonNode eos = root.get("eos_token_id");
    if (eos == null || eos.isNull()) {
      return new int[0];
    }
    if (eos.isArray()) {
      int[] ids = new int[eos.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = id(eos.get(i), file);
      }
      return ids;
    }
    return new int[] {id(eos, file)};
  }

  private static int id(JsonNode n, Path file) {
    if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 0) {
      throw new EngineException(
          file + ": eos_token_id must be a non-negative integer or a list of them, not " + n);
    }
    return n.asInt();
  }
}
