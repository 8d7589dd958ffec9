// Dimension legend: N rows (B*T), C input features, OC output features.
// Convention: the weight is (OC, C), Hugging Face's nn.Linear layout; GPT-2's Conv1D weights are
// transposed into it at load time, so this class never sees the (C, OC) layout.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/**
 * y = x W^T + b. The weight may be a frozen BF16/F16 view (the backend converts matmul operands on
 * the fly); gradients are accumulated only for the tensors given a gradient buffer.
 */
public final class Linear implements Projection {

  private final Backend backend;
  private final Tensor weight; // (OC, C)
  private final Tensor bias; // (OC) or null
  private final Tensor dweight; // (OC, C) or null when frozen
  private final Tensor dbias; // (OC) or null

  public Linear(Backend backend, Tensor weight, Tensor bias, Tensor dweight, Tensor dbias) {
    if (weight.rank() != 2) {
      throw new IllegalArgumentException("linear weight must be (OC, C): " + weight);
    }
    if (bias != null && bias.elementCount() != weight.dim(0)) {
      throw new IllegalArgumentException("bias " + bias + " does not match weight " + weight);
    }
    this.backend = backend;
    this.weight = weight;
    this.bias = bias;
    this.dweight = dweight;
    this.dbias = dbias;
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  @Override
  public long in() {
    return weight.dim(1);
  }

  @Override
  public long out() {
    return weight.dim(0);
  }

  @Override
  public long savedWidth() {
    return 0;
  }

  @Override
  public void forward(Tensor[] outs, Tensor saved, Tensor x, long seed) {
    long row = 0;
    for (Tensor out : outs) { // out (N, OC_i)
      long oc = out.dim(-1);
      backend.matmul(out, x, weight.rows(row, oc), false, true, 1f, false);
      if (bias != null) {
        backend.addBias(out, bias.rows(row, oc));
      }
      row += oc;
    }
    checkParts(row);
  }

  @Override
  public void backward(Tensor dx, Tensor[] douts, Tensor saved, Tensor x, long seed) {
    long row = 0;
    for (Tensor dout : douts) { // dout (N, OC_i)
      long oc = dout.dim(-1);
      if (dx != null) {
        backend.matmul(dx, dout, weight.rows(row, oc), false, false, 1f, true);
      }
      if (dweight != null) {
        backend.matmul(dweight.rows(row, oc), dout, x, true, false, 1f, true);
      }
      if (dbias != null) {
        backend.biasBackward(dbias.rows(row, oc), dout);
      }
      row += oc;
    }
    checkParts(row);
  }

  private void checkParts(long rows) {
    if (rows != weight.dim(0)) {
      throw new IllegalArgumentException(
          "output parts cover " + rows + " of the weight's " + weight.dim(0) + " rows");
    }
  }
}
