// Dimension legend: B batch, T time, N = B*T rows, C channels, NH query heads, NKV key/value heads,
// HS head size, R LoRA rank.
// Convention: q and k are saved after RoPE (what attention backward needs); projections' LoRA
// seeds are the block seed plus the projection's index (q, k, v, o = 0, 1, 2, 3).
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/**
 * Causal self-attention: q/k/v projections (separate, or one fused projection with three output
 * parts as GPT-2's {@code c_attn}), optional RoPE, grouped-query scaled-dot-product attention in
 * blocks through the backend (segment ids keep padding and packed samples apart), and the output
 * projection.
 */
public final class Attention {

  /**
   * What forward saves for backward.
   *
   * @param q (N, NH*HS) after RoPE
   * @param k (N, NKV*HS) after RoPE
   * @param v (N, NKV*HS)
   * @param att (N, NH*HS) attention output before the output projection
   * @param lse (B, NH, T) log-sum-exp of every query row
   * @param qkvLora saved state of each q/k/v projection (N, R) or null
   * @param outLora saved state of the output projection (N, R) or null
   */
  public record Saved(
      Tensor q, Tensor k, Tensor v, Tensor att, Tensor lse, Tensor[] qkvLora, Tensor outLora) {}

  private final Backend backend;
  private final Projection[] qkv; // three (q, k, v) or one fused with three output parts
  private final Projection out;
  private final Rope rope; // null for learned positions
  private final int heads;
  private final int kvHeads;
  private final int headSize;
  private final Scratch datt;
  private final Scratch dq;
  private final Scratch dk;
  private final Scratch dv;

  public Attention(
      Backend backend,
      Projection[] qkv,
      Projection out,
      Rope rope,
      int heads,
      int kvHeads,
      int headSize,
      Scratch datt,
      Scratch dq,
      Scratch dk,
      Scratch dv) {
    if (qkv.length != 1 && qkv.length != 3) {
      throw new IllegalArgumentException("q/k/v must be three projections or one fused");
    }
    this.backend = backend;
    this.qkv = qkv.clone();
    this.out = out;
    this.rope = rope;
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.headSize = headSize;
    this.datt = datt;
    this.dq = dq;
    this.dk = dk;
    this.dv = dv;
  }

  public Projection[] qkv() {
    return qkv.clone();
  }

  public Projection out() {
    return out;
  }

  private float scale() {
    return (float) (1.0 / Math.sqrt(headSize));
  }

  /** y (N, C) = o_proj(attention(q, k, v)) for x (N, C); positions (N) I32, segments (B, T) I32. */
  public void forward(
      Tensor y, Saved s, Tensor x, Tensor positions, Tensor segments, long seed, long b, long t) {
    if (qkv.length == 1) {
      qkv[0].forward(new Tensor[] {s.q(), s.k(), s.v()}, s.qkvLora()[0], x, seed);
    } else {
      qkv[0].forward(s.q(), s.qkvLora()[0], x, seed);
      qkv[1].forward(s.k(), s.qkvLora()[1], x, seed + 1);
      qkv[2].forward(s.v(), s.qkvLora()[2], x, seed + 2);
    }
    long n = b * t;
    if (rope != null) {
      rope.forward(s.q().reshape(n, heads, headSize), positions);
      rope.forward(s.k().reshape(n, kvHeads, headSize), positions);
    }
    backend.attentionForward(
        s.att().reshape(b, t, heads, headSize),
        s.lse(),
        s.q().reshape(b, t, heads, headSize),
        s.k().reshape(b, t, kvHeads, headSize),
        s.v().reshape(b, t, kvHeads, headSize),
        segments,
        scale());
    out.forward(y, s.outLora(), s.att(), seed + 3);
  }

  /** Accumulates dx (N, C) and the projections' gradients from dy (N, C). */
  public void backward(
      Tensor dx,
      Tensor dy,
      Saved s,
      Tensor x,
      Tensor positions,
      Tensor segments,
      long seed,
      long b,
      long t) {
    long n = b * t;
    long qDim = (long) heads * headSize;
    long kvDim = (long) kvHeads * headSize;
    Tensor dAtt = datt.view(n, qDim);
    backend.zero(dAtt);
    out.backward(dAtt, dy, s.outLora(), s.att(), seed + 3);
    Tensor dQ = dq.view(n, qDim);
    Tensor dK = dk.view(n, kvDim);
    Tensor dV = dv.view(n, kvDim);
    backend.zero(dQ);
    backend.zero(dK);
    backend.zero(dV);
    backend.attentionBackward(
        dQ.reshape(b, t, heads, headSize),
        dK.reshape(b, t, kvHeads, headSize),
        dV.reshape(b, t, kvHeads, headSize),
        dAtt.reshape(b, t, heads, headSize),
        s.q().reshape(b, t, heads, headSize),
        s.k().reshape(b, t, kvHeads, headSize),
        s.v().reshape(b, t, kvHeads, headSize),
        s.att().reshape(b, t, heads, headSize),
        s.lse(),
        segments,
        scale());
    if (rope != null) {
      rope.backward(dQ.reshape(n, heads, headSize), positions);
      rope.backward(dK.reshape(n, kvHeads, headSize), positions);
    }
    if (qkv.length == 1) {
      qkv[0].backward(dx, new Tensor[] {dQ, dK, dV}, s.qkvLora()[0], x, seed);
    } else {
      qkv[0].backward(dx, dQ, s.qkvLora()[0], x, seed);
      qkv[1].backward(dx, dK, s.qkvLora()[1], x, seed + 1);
      qkv[2].backward(dx, dV, s.qkvLora()[2], x, seed + 2);
    }
  }
}
