// Dimension legend: N rows (B*T), C input features, OC output features.
// Convention: the weight is (OC, C), Hugging Face's nn.Linear layout; GPT-2's Conv1D weights are
// transposed into it at load time, so this class never sees the (C, OC) layout. An NF4 weight is
// dequantized into the shared scratch at the start of forward and again of backward, and the view
// is used only within that call (the next NF4 layer overwrites it).
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.quant.Nf4Tensor;
import dev.entity.engine.tensor.Tensor;

/**
 * y = x W^T + b. The weight may be a frozen BF16/F16 view (the backend converts matmul operands on
 * the fly) or a frozen NF4 matrix (QLoRA), dequantized to the compute dtype before its matmuls;
 * gradients are accumulated only for the tensors given a gradient buffer.
 */
public final class Linear implements Projection {

  private final Backend backend;
  private final Tensor weight; // (OC, C), or null when quantized
  private final Nf4Tensor quantized; // (OC, C) in NF4, or null
  private final Nf4Tensor.Scratch scratch; // where quantized is dequantized, or null
  private final long[] shape; // (OC, C)
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
    this.quantized = null;
    this.scratch = null;
    this.shape = weight.shape();
    this.bias = bias;
    this.dweight = dweight;
    this.dbias = dbias;
  }

  /** A frozen NF4 weight (OC, C), dequantized into {@code scratch} whenever it is used. */
  public Linear(
      Backend backend, Nf4Tensor weight, Tensor bias, Tensor dbias, Nf4Tensor.Scratch scratch) {
    long[] s = weight.shape();
    if (s.length != 2) {
      throw new IllegalArgumentException("linear weight must be (OC, C): " + weight);
    }
    if (bias != null && bias.elementCount() != s[0]) {
      throw new IllegalArgumentException("bias " + bias + " does not match weight " + weight);
    }
    this.backend = backend;
    this.weight = null;
    this.quantized = weight;
    this.scratch = scratch;
    this.shape = s;
    this.bias = bias;
    this.dweight = null;
    this.dbias = dbias;
  }

  /** The dense weight, or null when it is kept in NF4 ({@link #quantized()}). */
  public Tensor weight() {
    return weight;
  }

  /** The NF4 weight, or null when the weight is dense. */
  public Nf4Tensor quantized() {
    return quantized;
  }

  /** The weight as the matmuls use it: the dense view, or the NF4 weight dequantized now. */
  private Tensor matmulWeight() {
    return weight != null ? weight : quantized.dequantize(backend, scratch);
  }

  public Tensor bias() {
    return bias;
  }

  /**
   * Whether the backward only accumulates dx through a dense, frozen weight (no gradients), so an
   * adapter may fold its own term into that product ({@link
   * dev.entity.engine.backend.Backend#matmulPlusLowRank}).
   */
  boolean plainBackward() {
    return weight != null && dweight == null && dbias == null;
  }

  @Override
  public long in() {
    return shape[1];
  }

  @Override
  public long out() {
    return shape[0];
  }

  @Override
  public long savedWidth() {
    return 0;
  }

  @Override
  public void forward(Tensor[] outs, Tensor saved, Tensor x, long seed) {
    Tensor w = matmulWeight();
    long row = 0;
    for (Tensor out : outs) { // out (N, OC_i)
      long oc = out.dim(-1);
      backend.matmul(out, x, w.rows(row, oc), false, true, 1f, false);
      if (bias != null) {
        backend.addBias(out, bias.rows(row, oc));
      }
      row += oc;
    }
    checkParts(row);
  }

  @Override
  public void backward(Tensor dx, Tensor[] douts, Tensor saved, Tensor x, long seed) {
    Tensor w = dx == null ? null : matmulWeight();
    long row = 0;
    for (Tensor dout : douts) { // dout (N, OC_i)
      long oc = dout.dim(-1);
      if (dx != null) {
        backend.matmul(dx, dout, w.rows(row, oc), false, false, 1f, true);
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
    if (rows != shape[0]) {
      throw new IllegalArgumentException(
          "output parts cover " + rows + " of the weight's " + shape[0] + " rows");
    }
  }
}
