// Convention: fields are normalized across families (GPT-2's n_embd is hiddenSize, its
// layer_norm_epsilon is normEps); toJson() writes them back under the keys of the config's own
// family, so a parsed config.json round-trips to an equivalent file.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The dimensions and options of a decoder, read from a Hugging Face {@code config.json} ({@link
 * #load}), built in code for the benchmark shapes ({@link #shape}), or written back ({@link
 * #toJson}). Every instance is validated on construction: positive sizes, heads dividing hidden
 * size (when no {@code head_dim} is given), query heads a multiple of key/value heads. It also
 * counts parameters exactly as {@code sum(p.numel() for p in model.parameters())} does in Hugging
 * Face, where tied embeddings count once.
 *
 * @param architecture the decoder family
 * @param modelType the Hugging Face {@code model_type} (kept so "mistral" is written back as such)
 * @param vocabSize rows of the token embedding
 * @param hiddenSize model width C
 * @param numLayers decoder blocks L
 * @param numHeads query heads NH
 * @param numKvHeads key/value heads (grouped-query attention); equals numHeads without GQA
 * @param headDim width of one head HS
 * @param intermediateSize MLP width (SwiGLU gate/up output, or GPT-2's c_fc output)
 * @param maxPositions the longest sequence the positions support
 * @param normEps epsilon of RMSNorm or LayerNorm
 * @param ropeTheta RoPE base (unused by GPT-2, which has learned positions)
 * @param ropeScaling llama3-type RoPE scaling, or null
 * @param tieWordEmbeddings whether lm_head shares the token embedding
 * @param attentionBias whether q/k/v projections have biases
 * @param attentionOutputBias whether the attention output projection has a bias
 * @param mlpBias whether MLP projections have biases
 * @param hiddenAct MLP activation ("silu", "gelu_new", ...)
 * @param bosTokenId beginning-of-sequence id, or null
 * @param eosTokenIds end-of-sequence ids (a model may have several); empty if none
 * @param torchDtype the dtype the weights were saved in ("bfloat16", ...), or null
 * @param slidingWindow Mistral/Qwen2 sliding-window attention width when the model uses it, or
 *     null; the engine attends over the whole causal prefix, which equals the model's attention
 *     only for sequences up to this length (training configs check max_seq_length against it)
 */
public record ModelConfig(
    Architecture architecture,
    String modelType,
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int intermediateSize,
    int maxPositions,
    double normEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    boolean attentionOutputBias,
    boolean mlpBias,
    String hiddenAct,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    String torchDtype,
    Integer slidingWindow) {

  private static final List<String> LLAMA_ACTIVATIONS = List.of("silu");
  private static final List<String> GPT2_ACTIVATIONS =
      List.of("gelu_new", "gelu_pytorch_tanh", "gelu");

  /**
   * Llama 3 RoPE frequency scaling ({@code rope_scaling} with {@code rope_type: llama3}): long
   * wavelengths are divided by {@code factor}, short ones kept, the band between interpolated.
   */
  public record RopeScaling(
      double factor,
      double lowFreqFactor,
      double highFreqFactor,
      int originalMaxPositionEmbeddings) {
    public RopeScaling {
      if (!(factor > 0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
        throw new EngineException(
            "rope_scaling: need factor > 0 and high_freq_factor > low_freq_factor > 0, got factor="
                + factor
                + ", low_freq_factor="
                + lowFreqFactor
                + ", high_freq_factor="
                + highFreqFactor);
      }
      if (originalMaxPositionEmbeddings <= 0) {
        throw new EngineException(
            "rope_scaling.original_max_position_embeddings must be positive, got "
                + originalMaxPositionEmbeddings);
      }
    }
  }

  /**
   * One linear projection inside every decoder block, named as Hugging Face names it.
   *
   * @param path the module path inside a block, e.g. "self_attn.q_proj" or "mlp.c_proj"
   * @param name the PEFT target name, e.g. "q_proj" (GPT-2's two c_proj share a name)
   * @param in input features
   * @param out output features
   * @param bias whether it has a bias
   */
  public record LayerLinear(String path, String name, long in, long out, boolean bias) {
    /** Weight plus bias elements. */
    public long parameterCount() {
      return in * out + (bias ? out : 0);
    }
  }

  public ModelConfig {
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(modelType, "modelType");
    Objects.requireNonNull(hiddenAct, "hiddenAct");
    eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    if (!architecture.modelTypes().contains(modelType)) {
      throw new EngineException(
          "model_type '" + modelType + "' is not of the " + architecture + " family");
    }
    requirePositive("vocab_size", vocabSize);
    requirePositive("hidden_size", hiddenSize);
    requirePositive("num_hidden_layers", numLayers);
    requirePositive("num_attention_heads", numHeads);
    requirePositive("num_key_value_heads", numKvHeads);
    requirePositive("head_dim", headDim);
    requirePositive("intermediate_size", intermediateSize);
    requirePositive("max_position_embeddings", maxPositions);
    if (slidingWindow != null) {
      requirePositive("sliding_window", slidingWindow);
      if (architecture == Architecture.GPT2) {
        throw new EngineException("gpt2 has no sliding-window attention");
      }
    }
    if (numHeads % numKvHeads != 0) {
      throw new EngineException(
          "num_attention_heads ("
              + numHeads
              + ") must be a multiple of num_key_value_heads ("
              + numKvHeads
              + ")");
    }
    if (architecture == Architecture.GPT2 && numKvHeads != numHeads) {
      throw new EngineException("gpt2 has no grouped-query attention: kv heads must equal heads");
    }
    if (architecture == Architecture.GPT2 && (long) headDim * numHeads != hiddenSize) {
      throw new EngineException(
          "n_embd (" + hiddenSize + ") must equal n_head (" + numHeads + ") × head width");
    }
    if (!(normEps > 0) || normEps >= 1) {
      throw new EngineException("norm epsilon must be in (0, 1), got " + normEps);
    }
    if (architecture != Architecture.GPT2 && !(ropeTheta > 0)) {
      throw new EngineException("rope_theta must be positive, got " + ropeTheta);
    }
    List<String> activations =
        architecture == Architecture.GPT2 ? GPT2_ACTIVATIONS : LLAMA_ACTIVATIONS;
    if (!activations.contains(hiddenAct)) {
      throw new EngineException(
          "activation '"
              + hiddenAct
              + "' is not supported for "
              + modelType
              + " (supported: "
              + String.join(", ", activations)
              + ")");
    }
  }

  static void requirePositive(String key, long value) {
    if (value <= 0) {
      throw new EngineException(key + " must be a positive integer, got " + value);
    }
  }

  // ---------------------------------------------------------------- config.json

  /**
   * Reads {@code config.json} from a model folder, or the given file when {@code path} is a file.
   *
   * @throws EngineException if the file is missing, not JSON, of an unsupported model_type, or
   *     invalid; the message names the file and the key
   */
  public static ModelConfig load(Path path) {
    return ModelConfigJson.load(path);
  }

  /** Parses the text of a {@code config.json}; {@code source} names it in error messages. */
  public static ModelConfig parse(String json, String source) {
    return ModelConfigJson.parse(json, source);
  }

  /** This config as a Hugging Face {@code config.json} of its family (pretty-printed). */
  public String toJson() {
    return ModelConfigJson.toJson(this);
  }

  /** Writes {@link #toJson()} to {@code file}. */
  public void write(Path file) throws IOException {
    Files.writeString(file, toJson());
  }

  // ---------------------------------------------------------------- derived sizes

  /** Width of all query heads together: numHeads × headDim. */
  public long qDim() {
    return (long) numHeads * headDim;
  }

  /** Width of all key (or value) heads together: numKvHeads × headDim. */
  public long kvDim() {
    return (long) numKvHeads * headDim;
  }

  /** The linear projections of one decoder block, in forward order. */
  public List<LayerLinear> layerLinears() {
    long c = hiddenSize;
    long f = intermediateSize;
    if (architecture == Architecture.GPT2) {
      return List.of(
          new LayerLinear("attn.c_attn", "c_attn", c, 3 * c, true),
          new LayerLinear("attn.c_proj", "c_proj", c, c, true),
          new LayerLinear("mlp.c_fc", "c_fc", c, f, true),
          new LayerLinear("mlp.c_proj", "c_proj", f, c, true));
    }
    return List.of(
        new LayerLinear("self_attn.q_proj", "q_proj", c, qDim(), attentionBias),
        new LayerLinear("self_attn.k_proj", "k_proj", c, kvDim(), attentionBias),
        new LayerLinear("self_attn.v_proj", "v_proj", c, kvDim(), attentionBias),
        new LayerLinear("self_attn.o_proj", "o_proj", qDim(), c, attentionOutputBias),
        new LayerLinear("mlp.gate_proj", "gate_proj", c, f, mlpBias),
        new LayerLinear("mlp.up_proj", "up_proj", c, f, mlpBias),
        new LayerLinear("mlp.down_proj", "down_proj", f, c, mlpBias));
  }

  /**
   * Parameters by role: "embeddings" (tokens), "positions" (GPT-2 only), "attention", "mlp",
   * "norms" (every norm's weight and, for LayerNorm, bias), "lm_head" (0 when tied). Summed over
   * all layers; the values add up to {@link #parameterCount()}.
   */
  public Map<String, Long> parameterCountByRole() {
    long attention = 0;
    long mlp = 0;
    for (LayerLinear l : layerLinears()) {
      if (l.path().startsWith("mlp.")) {
        mlp += l.parameterCount();
      } else {
        attention += l.parameterCount();
      }
    }
    long normWidth = architecture == Architecture.GPT2 ? 2L * hiddenSize : hiddenSize;
    Map<String, Long> roles = new LinkedHashMap<>();
    roles.put("embeddings", (long) vocabSize * hiddenSize);
    roles.put(
        "positions", architecture == Architecture.GPT2 ? (long) maxPositions * hiddenSize : 0L);
    roles.put("attention", attention * numLayers);
    roles.put("mlp", mlp * numLayers);
    roles.put("norms", normWidth * (2L * numLayers + 1));
    roles.put("lm_head", tieWordEmbeddings ? 0L : (long) vocabSize * hiddenSize);
    return roles;
  }

  /** Total parameters, tied embeddings counted once (as Hugging Face counts them). */
  public long parameterCount() {
    return parameterCountByRole().values().stream().mapToLong(Long::longValue).sum();
  }

  // ---------------------------------------------------------------- benchmark shapes

  /** Names accepted by {@link #shape}. */
  public static List<String> shapeNames() {
    return List.of("tiny", "gpt2", "smollm2-135m", "qwen2.5-0.5b", "llama-3.2-1b", "llama-3-8b");
  }

  /**
   * The config of a real architecture's published shape (for benchmarks on random weights), or
   * {@code tiny}: a 2-layer llama with GQA small enough for unit tests.
   *
   * @throws EngineException for an unknown name, listing the valid ones
   */
  public static ModelConfig shape(String name) {
    return switch (name) {
      case "tiny" ->
          llama(Architecture.LLAMA, 256, 64, 2, 4, 2, 128, 256, 1e-5, 10000, null, false, 1, 2);
      case "gpt2" ->
          new ModelConfig(
              Architecture.GPT2,
              "gpt2",
              50257,
              768,
              12,
              12,
              12,
              64,
              3072,
              1024,
              1e-5,
              10000,
              null,
              true,
              true,
              true,
              true,
              "gelu_new",
              50256,
              List.of(50256),
              "float32",
              null);
      case "smollm2-135m" ->
          llama(
              Architecture.LLAMA, 49152, 576, 30, 9, 3, 1536, 8192, 1e-5, 100000, null, true, 1, 2);
      case "qwen2.5-0.5b" ->
          llama(
              Architecture.QWEN2,
              151936,
              896,
              24,
              14,
              2,
              4864,
              32768,
              1e-6,
              1000000,
              null,
              true,
              151643,
              151643);
      case "llama-3.2-1b" ->
          llama(
              Architecture.LLAMA,
              128256,
              2048,
              16,
              32,
              8,
              8192,
              131072,
              1e-5,
              500000,
              new RopeScaling(32, 1, 4, 8192),
              true,
              128000,
              128001);
      case "llama-3-8b" ->
          llama(
              Architecture.LLAMA,
              128256,
              4096,
              32,
              32,
              8,
              14336,
              8192,
              1e-5,
              500000,
              null,
              false,
              128000,
              128001);
      default ->
          throw new EngineException(
              "unknown model shape '"
                  + name
                  + "'; valid shapes: "
                  + String.join(", ", shapeNames()));
    };
  }

  private static ModelConfig llama(
      Architecture arch,
      int vocab,
      int hidden,
      int layers,
      int heads,
      int kvHeads,
      int intermediate,
      int maxPositions,
      double eps,
      double theta,
      RopeScaling scaling,
      boolean tied,
      int bos,
      int eos) {
    boolean qwen = arch == Architecture.QWEN2;
    return new ModelConfig(
        arch,
        arch.modelTypes().getFirst(),
        vocab,
        hidden,
        layers,
        heads,
        kvHeads,
        hidden / heads,
        intermediate,
        maxPositions,
        eps,
        theta,
        scaling,
        tied,
        qwen,
        false,
        false,
        "silu",
        bos,
        List.of(eos),
        "bfloat16",
        null);
  }
}
