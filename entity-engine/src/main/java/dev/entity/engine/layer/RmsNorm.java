// Dimension legend: N rows (B*T), C channels.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/** out = x / sqrt(mean(x^2) + eps) * weight, as Llama's RMSNorm computes it in F32. */
public final class RmsNorm implements Norm {

  private final Backend backend;
  private final Tensor weight; // (C)
  private final Tensor dweight; // (C) or null
  private final float eps;

  public RmsNorm(Backend backend, Tensor weight, Tensor dweight, float eps) {
    this.backend = backend;
    this.weight = weight;
    this.dweight = dweight;
    this.eps = eps;
  }

  @Override
  public boolean needsMean() {
    return false;
  }

  @Override
  public void forward(Tensor out, Tensor mean, Tensor rstd, Tensor x) {
    backend.rmsNormForward(out, rstd, x, weight, eps);
  }

  @Override
  public void backward(Tensor dx, Tensor dout, Tensor x, Tensor mean, Tensor rstd) {
    backend.rmsNormBackward(dx, dweight, dout, x, weight, rstd);
  }
}
