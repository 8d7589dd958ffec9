// Dimension legend: N rows (B*T), C input features, OC output features, R LoRA rank.
// Convention: dropout masks are never stored; they are regenerated from the call's seed, which the
// caller must pass unchanged to forward, to a checkpointed recompute, and to backward.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/**
 * A LoRA adapter in place of a linear layer: y = W x + b + scale * B (A (dropout(x))), with the
 * frozen base {@link Linear} under its original name, {@code lora_A} (R, C), {@code lora_B} (OC,
 * R), scale alpha/R (or alpha/sqrt(R) for rsLoRA). When {@link #disabled} the adapter is skipped,
 * giving the base model's output. Saves h = A dropout(x) (N, R) for backward.
 */
public final class LoraLinear implements Projection {

  private final Backend backend;
  private final Linear base;
  private final Tensor a; // (R, C)
  private final Tensor b; // (OC, R)
  private final Tensor da; // (R, C)
  private final Tensor db; // (OC, R)
  private final float scale;
  private final float dropout;
  private final Scratch dropped; // >= N*C
  private final Scratch dh; // >= N*R
  private final Scratch dxDropped; // >= N*C
  private boolean disabled;
  private boolean training = true;

  /**
   * @param dropped, dh, dxDropped shared work buffers (dropped and dxDropped are used only when
   *     dropout is positive)
   */
  public LoraLinear(
      Backend backend,
      Linear base,
      Tensor a,
      Tensor b,
      Tensor da,
      Tensor db,
      float scale,
      float dropout,
      Scratch dropped,
      Scratch dh,
      Scratch dxDropped) {
    if (a.rank() != 2
        || a.dim(1) != base.in()
        || b.rank() != 2
        || b.dim(0) != base.out()
        || b.dim(1) != a.dim(0)) {
      throw new IllegalArgumentException(
          "LoRA shapes A " + a + ", B " + b + " do not fit weight " + base.weight());
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1): " + dropout);
    }
    this.backend = backend;
    this.base = base;
    this.a = a;
    this.b = b;
    this.da = da;
    this.db = db;
    this.scale = scale;
    this.dropout = dropout;
    this.dropped = dropped;
    this.dh = dh;
    this.dxDropped = dxDropped;
  }

  public Linear base() {
    return base;
  }

  public float scale() {
    return scale;
  }

  public boolean disabled() {
    return disabled;
  }

  /** Skips the adapter (y = W x + b) while true; used to compare against the base model. */
  public void setDisabled(boolean disabled) {
    this.disabled = disabled;
  }

  /** Dropout is applied only while training (as in PyTorch's train/eval modes). */
  public void setTraining(boolean training) {
    this.training = training;
  }

  @Override
  public long in() {
    return base.in();
  }

  @Override
  public long out() {
    return base.out();
  }

  @Override
  public long savedWidth() {
    return a.dim(0);
  }

  @Override
  public void forward(Tensor[] outs, Tensor h, Tensor x, long seed) {
    base.forward(outs, null, x, seed);
    if (disabled) {
      return;
    }
    // (folding the term into the base product, as backward does, measured no faster here: the
    // second product adds into an output that is still in cache)
    backend.matmul(h, input(x, seed), a, false, true, 1f, false); // h (N, R)
    long row = 0;
    for (Tensor out : outs) { // out (N, OC_i) += scale * h B_i^T
      long oc = out.dim(-1);
      backend.matmul(out, h, b.rows(row, oc), false, true, scale, true);
      row += oc;
    }
  }

  @Override
  public void backward(Tensor dx, Tensor[] douts, Tensor h, Tensor x, long seed) {
    // dx += dout W + dropout'(dh A) in one pass over dx where the base has nothing else to do
    boolean fused = !disabled && dx != null && douts.length == 1 && base.plainBackward();
    if (!fused) {
      base.backward(dx, douts, null, x, seed);
    }
    if (disabled) {
      return;
    }
    long n = h.dim(0);
    long r = a.dim(0);
    Tensor dhView = dh.view(n, r); // (N, R)
    backend.zero(dhView);
    long row = 0;
    for (Tensor dout : douts) { // dout (N, OC_i)
      long oc = dout.dim(-1);
      if (db != null) {
        backend.matmul(db.rows(row, oc), dout, h, true, false, scale, true);
      }
      backend.matmul(dhView, dout, b.rows(row, oc), false, false, scale, true);
      row += oc;
    }
    if (da != null) {
      backend.matmul(da, dhView, input(x, seed), true, false, 1f, true);
    }
    if (dx == null) {
      return;
    }
    if (fused) {
      float p = dropping() ? dropout : 0f;
      backend.matmulPlusLowRank(
          dx, douts[0], base.weight(), false, true, dhView, a, false, 1f, p, seed, work(n));
    } else if (!dropping()) {
      backend.matmul(dx, dhView, a, false, false, 1f, true);
    } else {
      Tensor dxd = dxView(n); // gradient of the dropped input, masked on the way back
      backend.matmul(dxd, dhView, a, false, false, 1f, false);
      Tensor masked = dropped.view(n, in());
      backend.dropout(masked, dxd, dropout, seed);
      backend.add(dx, dx, masked);
    }
  }

  private Tensor dxView(long n) {
    return dxDropped.view(n, in());
  }

  /** The scratch a backend that does not fuse the dropped term works in (none without dropout). */
  private Tensor work(long n) {
    return dropping() ? dxView(n) : null;
  }

  private boolean dropping() {
    return training && dropout > 0f;
  }

  /** dropout(x) in the shared buffer, or x itself when dropout is off. */
  private Tensor input(Tensor x, long seed) {
    if (!dropping()) {
      return x;
    }
    Tensor out = dropped.view(x.elementCount() / in(), in());
    backend.dropout(out, x, dropout, seed);
    return out;
  }
}
