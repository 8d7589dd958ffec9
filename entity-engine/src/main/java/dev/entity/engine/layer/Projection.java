// Dimension legend: N rows (B*T), C input features, OC output features, R LoRA rank.
package dev.entity.engine.layer;

import dev.entity.engine.tensor.Tensor;

/**
 * A linear map that a decoder block applies to its activations: a plain {@link Linear} or a {@link
 * LoraLinear} in its place. The output may be split into parts written to separate buffers (GPT-2's
 * fused {@code c_attn} writes q, k and v), each part a contiguous band of the weight's rows.
 */
public sealed interface Projection permits Linear, LoraLinear {

  /** Input features C. */
  long in();

  /** Output features OC (all parts together). */
  long out();

  /** Columns of saved state per row: the LoRA rank, or 0 when nothing is saved. */
  long savedWidth();

  /**
   * outs[i] (N, OC_i) = x @ W_i^T + b_i (+ LoRA); {@code saved} (N, savedWidth) or null; {@code
   * seed} drives LoRA dropout and must be the same in backward.
   */
  void forward(Tensor[] outs, Tensor saved, Tensor x, long seed);

  /** Accumulates dx (N, C) and the trainable weights' gradients from douts[i] (N, OC_i). */
  void backward(Tensor dx, Tensor[] douts, Tensor saved, Tensor x, long seed);

  /** Single-output form of {@link #forward(Tensor[], Tensor, Tensor, long)}. */
  default void forward(Tensor out, Tensor saved, Tensor x, long seed) {
    forward(new Tensor[] {out}, saved, x, seed);
  }

  /** Single-output form of {@link #backward(Tensor, Tensor[], Tensor, Tensor, long)}. */
  default void backward(Tensor dx, Tensor dout, Tensor saved, Tensor x, long seed) {
    backward(dx, new Tensor[] {dout}, saved, x, seed);
  }
}
