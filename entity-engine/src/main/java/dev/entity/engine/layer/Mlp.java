// Dimension legend: N rows (B*T), C channels, F intermediate size, R LoRA rank.
package dev.entity.engine.layer;

import dev.entity.engine.tensor.Tensor;

/**
 * The feed-forward half of a decoder block: {@link SwiGlu} (Llama, Qwen2) or {@link Gelu} (GPT-2).
 * LoRA seeds are the block seed plus 4, 5, 6 for the MLP's projections in forward order.
 */
public sealed interface Mlp permits SwiGlu, Gelu {

  /**
   * What forward saves for backward.
   *
   * @param h1 (N, F) gate (SwiGLU) or c_fc output (GELU)
   * @param h2 (N, F) up projection (SwiGLU) or null
   * @param act (N, F) the activation fed to the down projection
   * @param lora saved state of each projection (N, R) or null, in forward order
   */
  record Saved(Tensor h1, Tensor h2, Tensor act, Tensor[] lora) {}

  /** Whether {@link Saved#h2} is needed. */
  boolean needsSecondHidden();

  /** The projections in forward order. */
  Projection[] projections();

  /** y (N, C) = mlp(x (N, C)). */
  void forward(Tensor y, Saved s, Tensor x, long seed);

  /** Accumulates dx (N, C) and the projections' gradients from dy (N, C). */
  void backward(Tensor dx, Tensor dy, Saved s, Tensor x, long seed);
}
