// Convention: reading maps each family's own keys onto ModelConfig's normalized fields, with
// Hugging Face's defaults for optional keys; writing uses the same keys, so files round-trip.
package dev.entity.engine.model;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.EngineException;
import dev.entity.engine.model.ModelConfig.RopeScaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes Hugging Face {@code config.json} files for {@link ModelConfig}: llama/mistral
 * and qwen2 keys ({@code hidden_size}, {@code num_key_value_heads}, {@code rope_scaling}, ...) and
 * GPT-2's ({@code n_embd}, {@code n_layer}, {@code layer_norm_epsilon}, ...). Errors name the file
 * and the key.
 */
final class ModelConfigJson {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private ModelConfigJson() {}

  /**
   * Reads {@code config.json} from a model folder, or the given file when {@code path} is a file.
   *
   * @throws EngineException if the file is missing, not JSON, of an unsupported model_type, or
   *     invalid; the message names the file and the key
   */
  static ModelConfig load(Path path) {
    Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
    if (!Files.isRegularFile(file)) {
      throw new EngineException(
          file + ": not found; a model folder needs the config.json written by save_pretrained");
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException | RuntimeException e) {
      throw new EngineException(file + ": cannot read as UTF-8 text: " + e.getMessage(), e);
    }
    return parse(text, file.toString());
  }

  /** Parses the text of a {@code config.json}; {@code source} names it in error messages. */
  static ModelConfig parse(String json, String source) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JacksonException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw new EngineException(source + ": invalid JSON" + where + ": " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new EngineException(source + ": expected a JSON object, as save_pretrained writes");
    }
    try {
      return fromJson(new Keys((ObjectNode) root, source));
    } catch (EngineException e) {
      String message = e.getMessage();
      throw new EngineException(
          message.startsWith(source) ? message : source + ": " + message, e.getCause());
    }
  }

  private static ModelConfig fromJson(Keys k) {
    String modelType = k.text("model_type", null);
    if (modelType == null) {
      throw new EngineException(
          "missing \"model_type\"; supported: "
              + String.join(", ", Architecture.supportedModelTypes()));
    }
    Architecture arch =
        Architecture.forModelType(modelType)
            .orElseThrow(
                () ->
                    new EngineException(
                        "model_type '"
                            + modelType
                            + "' is not supported; supported model types: "
                            + String.join(", ", Architecture.supportedModelTypes())));
    Integer bos = k.intOrNull("bos_token_id");
    List<Integer> eos = k.intList("eos_token_id");
    String dtype = k.text("torch_dtype", k.text("dtype", null));
    if (arch == Architecture.GPT2) {
      int hidden = k.requiredInt("n_embd");
      int heads = k.requiredInt("n_head");
      ModelConfig.requirePositive("n_head", heads);
      if (hidden % heads != 0) {
        throw new EngineException(
            "n_embd (" + hidden + ") is not divisible by n_head (" + heads + ")");
      }
      Integer inner = k.intOrNull("n_inner");
      return new ModelConfig(
          arch,
          modelType,
          k.requiredInt("vocab_size"),
          hidden,
          k.requiredInt("n_layer"),
          heads,
          heads,
          hidden / heads,
          inner != null ? inner : 4 * hidden,
          k.optionalInt("n_positions", 1024),
          k.optionalDouble("layer_norm_epsilon", 1e-5),
          10000.0,
          null,
          true,
          true,
          true,
          true,
          k.text("activation_function", "gelu_new"),
          bos,
          eos,
          dtype,
          null);
    }
    int hidden = k.requiredInt("hidden_size");
    int heads = k.requiredInt("num_attention_heads");
    ModelConfig.requirePositive("num_attention_heads", heads);
    Integer headDim = k.intOrNull("head_dim");
    if (headDim == null && hidden % heads != 0) {
      throw new EngineException(
          "hidden_size (" + hidden + ") is not divisible by num_attention_heads (" + heads + ")");
    }
    boolean qwen = arch == Architecture.QWEN2;
    boolean attnBias = !qwen && k.optionalBool("attention_bias", false);
    return new ModelConfig(
        arch,
        modelType,
        k.requiredInt("vocab_size"),
        hidden,
        k.requiredInt("num_hidden_layers"),
        heads,
        k.optionalInt("num_key_value_heads", heads),
        headDim != null ? headDim : hidden / heads,
        k.requiredInt("intermediate_size"),
        k.optionalInt("max_position_embeddings", qwen ? 32768 : 2048),
        k.optionalDouble("rms_norm_eps", 1e-6),
        k.optionalDouble("rope_theta", 10000.0),
        ropeScaling(k),
        k.optionalBool("tie_word_embeddings", false),
        qwen || attnBias,
        attnBias,
        !qwen && k.optionalBool("mlp_bias", false),
        k.text("hidden_act", "silu"),
        bos,
        eos,
        dtype,
        slidingWindow(k, arch));
  }

  /** Mistral's sliding_window (null = off), or Qwen2's when use_sliding_window is true. */
  private static Integer slidingWindow(Keys k, Architecture arch) {
    if (arch == Architecture.QWEN2 && !k.optionalBool("use_sliding_window", false)) {
      return null;
    }
    return k.intOrNull("sliding_window");
  }

  private static RopeScaling ropeScaling(Keys k) {
    JsonNode node = k.root.get("rope_scaling");
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw new EngineException("\"rope_scaling\" must be an object or null, got " + node);
    }
    Keys s = new Keys((ObjectNode) node, k.source);
    String type = s.text("rope_type", s.text("type", null));
    if (!"llama3".equals(type)) {
      throw new EngineException(
          "rope_scaling type '"
              + type
              + "' is not supported (supported: llama3); use a model without rope_scaling or"
              + " with rope_type llama3");
    }
    return new RopeScaling(
        s.requiredDouble("rope_scaling.factor", "factor"),
        s.requiredDouble("rope_scaling.low_freq_factor", "low_freq_factor"),
        s.requiredDouble("rope_scaling.high_freq_factor", "high_freq_factor"),
        s.requiredInt(
            "rope_scaling.original_max_position_embeddings", "original_max_position_embeddings"));
  }

  /** Typed access to the keys of one JSON object, with messages that name the key. */
  private record Keys(ObjectNode root, String source) {

    int requiredInt(String key) {
      return requiredInt(key, key);
    }

    int requiredInt(String label, String key) {
      Integer value = intOrNull(label, key);
      if (value == null) {
        throw new EngineException("missing required key \"" + label + "\"");
      }
      return value;
    }

    int optionalInt(String key, int fallback) {
      Integer value = intOrNull(key);
      return value == null ? fallback : value;
    }

    Integer intOrNull(String key) {
      return intOrNull(key, key);
    }

    Integer intOrNull(String label, String key) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return null;
      }
      return toInt(label, n);
    }

    private static Integer toInt(String label, JsonNode n) {
      if (!n.isIntegralNumber() || !n.canConvertToInt()) {
        throw new EngineException(
            "\"" + label + "\" must be an integer (32-bit), got " + abbreviate(n));
      }
      return n.intValue();
    }

    List<Integer> intList(String key) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return List.of();
      }
      if (n.isArray()) {
        List<Integer> out = new ArrayList<>();
        for (JsonNode item : n) {
          out.add(toInt(key, item));
        }
        return out;
      }
      return List.of(toInt(key, n));
    }

    double requiredDouble(String label, String key) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        throw new EngineException("missing required key \"" + label + "\"");
      }
      return toDouble(label, n);
    }

    double optionalDouble(String key, double fallback) {
      JsonNode n = root.get(key);
      return n == null || n.isNull() ? fallback : toDouble(key, n);
    }

    private static double toDouble(String label, JsonNode n) {
      if (!n.isNumber() || !Double.isFinite(n.doubleValue())) {
        throw new EngineException("\"" + label + "\" must be a number, got " + abbreviate(n));
      }
      return n.doubleValue();
    }

    boolean optionalBool(String key, boolean fallback) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return fallback;
      }
      if (!n.isBoolean()) {
        throw new EngineException("\"" + key + "\" must be true or false, got " + abbreviate(n));
      }
      return n.booleanValue();
    }

    String text(String key, String fallback) {
      JsonNode n = root.get(key);
      if (n == null || n.isNull()) {
        return fallback;
      }
      if (!n.isTextual()) {
        throw new EngineException("\"" + key + "\" must be a string, got " + abbreviate(n));
      }
      return n.textValue();
    }

    private static String abbreviate(JsonNode n) {
      String s = n.toString();
      return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
  }

  static String toJson(ModelConfig c) {
    ObjectNode o = JSON.createObjectNode();
    o.putArray("architectures").add(c.architecture().hfClassName());
    o.put("model_type", c.modelType());
    o.put("vocab_size", c.vocabSize());
    if (c.architecture() == Architecture.GPT2) {
      o.put("n_embd", c.hiddenSize());
      o.put("n_layer", c.numLayers());
      o.put("n_head", c.numHeads());
      o.put("n_positions", c.maxPositions());
      o.put("n_ctx", c.maxPositions());
      if (c.intermediateSize() == 4 * c.hiddenSize()) {
        o.putNull("n_inner");
      } else {
        o.put("n_inner", c.intermediateSize());
      }
      o.put("layer_norm_epsilon", c.normEps());
      o.put("activation_function", c.hiddenAct());
    } else {
      o.put("hidden_size", c.hiddenSize());
      o.put("intermediate_size", c.intermediateSize());
      o.put("num_hidden_layers", c.numLayers());
      o.put("num_attention_heads", c.numHeads());
      o.put("num_key_value_heads", c.numKvHeads());
      if (c.architecture() == Architecture.LLAMA || c.headDim() * c.numHeads() != c.hiddenSize()) {
        o.put("head_dim", c.headDim());
      }
      o.put("max_position_embeddings", c.maxPositions());
      o.put("rms_norm_eps", c.normEps());
      o.put("rope_theta", c.ropeTheta());
      if (c.ropeScaling() == null) {
        o.putNull("rope_scaling");
      } else {
        ObjectNode s = o.putObject("rope_scaling");
        s.put("rope_type", "llama3");
        s.put("factor", c.ropeScaling().factor());
        s.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
        s.put("high_freq_factor", c.ropeScaling().highFreqFactor());
        s.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositionEmbeddings());
      }
      if (c.architecture() == Architecture.LLAMA) {
        o.put("attention_bias", c.attentionBias());
        o.put("mlp_bias", c.mlpBias());
      }
      o.put("hidden_act", c.hiddenAct());
    }
    o.put("tie_word_embeddings", c.tieWordEmbeddings());
    if (c.bosTokenId() != null) {
      o.put("bos_token_id", c.bosTokenId());
    }
    if (c.eosTokenIds().size() == 1) {
      o.put("eos_token_id", c.eosTokenIds().getFirst());
    } else if (!c.eosTokenIds().isEmpty()) {
      ArrayNode a = o.putArray("eos_token_id");
      c.eosTokenIds().forEach(a::add);
    }
    if (c.architecture() == Architecture.QWEN2) {
      o.put("use_sliding_window", c.slidingWindow() != null);
    }
    if (c.slidingWindow() != null) {
      o.put("sliding_window", c.slidingWindow());
    } else if (!c.modelType().equals("llama") && c.architecture() != Architecture.GPT2) {
      o.putNull("sliding_window"); // mistral and qwen2 configs carry the key even when off
    }
    if (c.torchDtype() != null) {
      o.put("torch_dtype", c.torchDtype());
    }
    try {
      return JSON.writeValueAsString(o) + "\n";
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot serialize a tree we built", e);
    }
  }
}
