// Dimension legend: N rows (B*T), C channels, F intermediate size.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/** down(silu(gate(x)) * up(x)), Llama's MLP. */
public final class SwiGlu implements Mlp {

  private final Backend backend;
  private final Projection gate; // C -> F
  private final Projection up; // C -> F
  private final Projection down; // F -> C
  private final Scratch dh1; // >= N*F
  private final Scratch dh2; // >= N*F
  private final Scratch dact; // >= N*F

  public SwiGlu(
      Backend backend,
      Projection gate,
      Projection up,
      Projection down,
      Scratch dh1,
      Scratch dh2,
      Scratch dact) {
    this.backend = backend;
    this.gate = gate;
    this.up = up;
    this.down = down;
    this.dh1 = dh1;
    this.dh2 = dh2;
    this.dact = dact;
  }

  @Override
  public boolean needsSecondHidden() {
    return true;
  }

  @Override
  public Projection[] projections() {
    return new Projection[] {gate, up, down};
  }

  @Override
  public void forward(Tensor y, Saved s, Tensor x, long seed) {
    gate.forward(s.h1(), s.lora()[0], x, seed + 4);
    up.forward(s.h2(), s.lora()[1], x, seed + 5);
    backend.swigluForward(s.act(), s.h1(), s.h2());
    down.forward(y, s.lora()[2], s.act(), seed + 6);
  }

  @Override
  public void backward(Tensor dx, Tensor dy, Saved s, Tensor x, long seed) {
    long n = s.act().dim(0);
    long f = s.act().dim(1);
    Tensor dAct = dact.view(n, f);
    Tensor dGate = dh1.view(n, f);
    Tensor dUp = dh2.view(n, f);
    backend.zero(dAct);
    backend.zero(dGate);
    backend.zero(dUp);
    down.backward(dAct, dy, s.lora()[2], s.act(), seed + 6);
    backend.swigluBackward(dGate, dUp, dAct, s.h1(), s.h2());
    gate.backward(dx, dGate, s.lora()[0], x, seed + 4);
    up.backward(dx, dUp, s.lora()[1], x, seed + 5);
  }
}
