// Convention: an architecture is a family of decoders that share one layer layout; several
// Hugging Face model_type values may map to one family (mistral is llama-family).
package dev.entity.engine.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The decoder families the engine implements. {@link #LLAMA} covers Llama 2/3/3.1/3.2, Mistral,
 * TinyLlama and SmolLM (RMSNorm, RoPE, SwiGLU, grouped-query attention); {@link #QWEN2} is Llama
 * with biases on the q/k/v projections; {@link #GPT2} uses LayerNorm, learned positions, GELU and a
 * fused {@code c_attn}. Each constant knows the Hugging Face {@code model_type} values it accepts,
 * the class name written to {@code architectures}, and the per-layer linear module names that LoRA
 * may target.
 */
public enum Architecture {
  LLAMA(
      List.of("llama", "mistral"),
      "LlamaForCausalLM",
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
  QWEN2(
      List.of("qwen2"),
      "Qwen2ForCausalLM",
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")),
  GPT2(List.of("gpt2"), "GPT2LMHeadModel", List.of("c_attn", "c_proj", "c_fc"));

  private final List<String> modelTypes;
  private final String hfClassName;
  private final List<String> linearModuleNames;

  Architecture(List<String> modelTypes, String hfClassName, List<String> linearModuleNames) {
    this.modelTypes = modelTypes;
    this.hfClassName = hfClassName;
    this.linearModuleNames = linearModuleNames;
  }

  /** The Hugging Face {@code model_type} values of this family, the canonical one first. */
  public List<String> modelTypes() {
    return modelTypes;
  }

  /** The {@code architectures} entry Hugging Face writes for a causal LM of this family. */
  public String hfClassName() {
    return hfClassName;
  }

  /** Names of the per-layer linear modules (PEFT {@code target_modules} names). */
  public List<String> linearModuleNames() {
    return linearModuleNames;
  }

  /** The family of a Hugging Face {@code model_type}, if it is one we implement. */
  public static Optional<Architecture> forModelType(String modelType) {
    return Arrays.stream(values()).filter(a -> a.modelTypes.contains(modelType)).findFirst();
  }

  /** Every supported {@code model_type}, for error messages. */
  public static List<String> supportedModelTypes() {
    return Arrays.stream(values()).flatMap(a -> a.modelTypes.stream()).toList();
  }
}
