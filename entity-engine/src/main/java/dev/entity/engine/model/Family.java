// Convention: every name here is a Hugging Face state-dict name (or a module path inside a block),
// so parameters are found, saved and exported under the names transformers and PEFT use.
package dev.entity.engine.model;

/**
 * What differs between the decoder families, as data: tensor names, the norm (RMSNorm or
 * LayerNorm), positions (RoPE or learned), the MLP (SwiGLU or GELU), and whether linear weights are
 * stored transposed in files (GPT-2's Conv1D). One {@link Decoder} is assembled from it. Qwen2 is
 * the Llama family with q/k/v biases, which {@link ModelConfig#attentionBias()} carries.
 */
public sealed interface Family permits LlamaFamily, Gpt2Family {

  static Family of(ModelConfig config) {
    return switch (config.architecture()) {
      case LLAMA, QWEN2 -> new LlamaFamily();
      case GPT2 -> new Gpt2Family();
    };
  }

  /** The token embedding (V, C). */
  String tokenEmbedding();

  /** The learned position table (P, C), or null when positions are rotary. */
  String positionEmbedding();

  /** Prefix of block {@code layer}'s names, ending in a dot. */
  String layerPrefix(int layer);

  /** Module path of the norm before attention, inside a block. */
  String attentionNorm();

  /** Module path of the norm before the MLP, inside a block. */
  String mlpNorm();

  /** Module path of the final norm. */
  String finalNorm();

  /** The untied LM head (V, C). */
  default String lmHead() {
    return "lm_head.weight";
  }

  /** LayerNorm (weight and bias) rather than RMSNorm (weight only). */
  boolean layerNorm();

  /** Rotary positions rather than a learned table. */
  boolean rotary();

  /** SwiGLU MLP (gate, up, down) rather than GELU (fc, proj). */
  boolean swiglu();

  /** Linear weights stored (C, OC) in files (Conv1D), transposed to (OC, C) at load. */
  boolean linearsTransposedInFiles();

  /** The prefix of the base model's names that some checkpoints leave out ("model.", ...). */
  String basePrefix();

  /** Tensors a file may hold that are buffers, not parameters, and are skipped on load. */
  boolean isBuffer(String fileName);
}
