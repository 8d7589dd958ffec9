// Dimension legend: N rows (B*T), C channels, F intermediate size.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/** c_proj(gelu_tanh(c_fc(x))), GPT-2's MLP. */
public final class Gelu implements Mlp {

  private final Backend backend;
  private final Projection fc; // C -> F
  private final Projection proj; // F -> C
  private final Scratch dh1; // >= N*F
  private final Scratch dact; // >= N*F

  public Gelu(Backend backend, Projection fc, Projection proj, Scratch dh1, Scratch dact) {
    this.backend = backend;
    this.fc = fc;
    this.proj = proj;
    this.dh1 = dh1;
    this.dact = dact;
  }

  @Override
  public boolean needsSecondHidden() {
    return false;
  }

  @Override
  public Projection[] projections() {
    return new Projection[] {fc, proj};
  }

  @Override
  public void forward(Tensor y, Saved s, Tensor x, long seed) {
    fc.forward(s.h1(), s.lora()[0], x, seed + 4);
    backend.geluForward(s.act(), s.h1());
    proj.forward(y, s.lora()[1], s.act(), seed + 5);
  }

  @Override
  public void backward(Tensor dx, Tensor dy, Saved s, Tensor x, long seed) {
    long n = s.act().dim(0);
    long f = s.act().dim(1);
    Tensor dAct = dact.view(n, f);
    Tensor dFc = dh1.view(n, f);
    backend.zero(dAct);
    backend.zero(dFc);
    proj.backward(dAct, dy, s.lora()[1], s.act(), seed + 5);
    backend.geluBackward(dFc, dAct, s.h1());
    fc.backward(dx, dFc, s.lora()[0], x, seed + 4);
  }
}
