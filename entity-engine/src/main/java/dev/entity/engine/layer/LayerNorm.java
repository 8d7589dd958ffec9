// Dimension legend: N rows (B*T), C channels.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/** out = (x - mean) / sqrt(var + eps) * weight + bias (GPT-2). */
public final class LayerNorm implements Norm {

  private final Backend backend;
  private final Tensor weight; // (C)
  private final Tensor bias; // (C)
  private final Tensor dweight; // (C) or null
  private final Tensor dbias; // (C) or null
  private final float eps;

  public LayerNorm(
      Backend backend, Tensor weight, Tensor bias, Tensor dweight, Tensor dbias, float eps) {
    this.backend = backend;
    this.weight = weight;
    this.bias = bias;
    this.dweight = dweight;
    this.dbias = dbias;
    this.eps = eps;
  }

  @Override
  public boolean needsMean() {
    return true;
  }

  @Override
  public void forward(Tensor out, Tensor mean, Tensor rstd, Tensor x) {
    backend.layerNormForward(out, mean, rstd, x, weight, bias, eps);
  }

  @Override
  public void backward(Tensor dx, Tensor dout, Tensor x, Tensor mean, Tensor rstd) {
    backend.layerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd);
  }
}
