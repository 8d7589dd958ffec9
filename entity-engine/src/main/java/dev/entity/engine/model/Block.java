// Dimension legend: B batch, T time, N = B*T rows, C channels.
// Convention: backward works on ONE residual-gradient buffer in place: on entry it holds the
// gradient of the block's output, on return that of its input (the residual paths add up because
// every backward accumulates).
package dev.entity.engine.model;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.layer.Attention;
import dev.entity.engine.layer.Mlp;
import dev.entity.engine.layer.Norm;
import dev.entity.engine.layer.Scratch;
import dev.entity.engine.tensor.Tensor;

/**
 * One pre-norm decoder block: x + attention(norm1(x)), then + mlp(norm2(.)). The same code serves
 * every family; the norm, the MLP and the attention's positions are what differ.
 */
public final class Block {

  /**
   * Everything forward saves for backward (all (N, ...) views of the activation arena).
   *
   * @param ln1 (N, C) normalized input of attention
   * @param mean1 (N) or null for RMSNorm
   * @param rstd1 (N)
   * @param attention attention's saved state
   * @param res1 (N, C) residual stream after attention
   * @param ln2 (N, C) normalized input of the MLP
   * @param mean2 (N) or null
   * @param rstd2 (N)
   * @param mlp the MLP's saved state
   */
  public record Saved(
      Tensor ln1,
      Tensor mean1,
      Tensor rstd1,
      Attention.Saved attention,
      Tensor res1,
      Tensor ln2,
      Tensor mean2,
      Tensor rstd2,
      Mlp.Saved mlp) {}

  /** The batch's position ids (N) and segment ids (B, T), I32, and its dimensions. */
  public record Inputs(Tensor positions, Tensor segments, long b, long t) {}

  private final Backend backend;
  private final Norm norm1;
  private final Attention attention;
  private final Norm norm2;
  private final Mlp mlp;
  private final Scratch branch; // >= N*C: a branch's output before it joins the residual
  private final Scratch dln; // >= N*C: gradient of a norm's output

  public Block(
      Backend backend,
      Norm norm1,
      Attention attention,
      Norm norm2,
      Mlp mlp,
      Scratch branch,
      Scratch dln) {
    this.backend = backend;
    this.norm1 = norm1;
    this.attention = attention;
    this.norm2 = norm2;
    this.mlp = mlp;
    this.branch = branch;
    this.dln = dln;
  }

  public Attention attention() {
    return attention;
  }

  public Mlp mlp() {
    return mlp;
  }

  /** out (N, C) = block(x (N, C)); {@code out} must not alias {@code x}. */
  public void forward(Tensor out, Saved s, Tensor x, Inputs in, long seed) {
    Tensor y = branch.view(x.shape());
    norm1.forward(s.ln1(), s.mean1(), s.rstd1(), x);
    attention.forward(
        y, s.attention(), s.ln1(), in.positions(), in.segments(), seed, in.b(), in.t());
    backend.add(s.res1(), x, y);
    norm2.forward(s.ln2(), s.mean2(), s.rstd2(), s.res1());
    mlp.forward(y, s.mlp(), s.ln2(), seed);
    backend.add(out, s.res1(), y);
  }

  /** dres (N, C): gradient of the output on entry, of the input x on return. */
  public void backward(Tensor dres, Saved s, Tensor x, Inputs in, long seed) {
    Tensor d = dln.view(x.shape());
    backend.zero(d);
    mlp.backward(d, dres, s.mlp(), s.ln2(), seed);
    norm2.backward(dres, d, s.res1(), s.mean2(), s.rstd2());
    backend.zero(d);
    attention.backward(
        d, dres, s.attention(), s.ln1(), in.positions(), in.segments(), seed, in.b(), in.t());
    norm1.backward(dres, d, x, s.mean1(), s.rstd1());
  }
}
