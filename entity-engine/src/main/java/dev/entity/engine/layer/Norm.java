// Dimension legend: N rows (B*T), C channels.
package dev.entity.engine.layer;

import dev.entity.engine.tensor.Tensor;

/**
 * A normalization over channels: {@link RmsNorm} (Llama, Qwen2) or {@link LayerNorm} (GPT-2). Both
 * save per-row statistics: rstd (N), and mean (N) for LayerNorm (RmsNorm ignores {@code mean},
 * which may then be null).
 */
public sealed interface Norm permits RmsNorm, LayerNorm {

  /** Whether {@link #forward} needs a mean buffer. */
  boolean needsMean();

  /** out (N, C) = norm(x) * weight (+ bias); saves mean and rstd (N). */
  void forward(Tensor out, Tensor mean, Tensor rstd, Tensor x);

  /** Accumulates dx (N, C) and the weight (and bias) gradients when trainable. */
  void backward(Tensor dx, Tensor dout, Tensor x, Tensor mean, Tensor rstd);
}
