// Element ranges [from, to) are the unit of work: every kernel here is a pure per-element (or
// per-row) map, so any split of the range gives the same bits.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.read;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Elementwise host kernels: add, scale, axpy, bias, dtype conversion, SwiGLU, GELU and dropout.
 * Each {@code *Scalar} method is the reference for the vectorized variant in {@link CpuVectorOps}.
 */
final class CpuElementwise {

  private CpuElementwise() {}

  static void addScalar(Tensor out, Tensor a, Tensor b, long from, long to) {
    MemorySegment o = out.data(), as = a.data(), bs = b.data();
    for (long i = from; i < to; i++) {
      setF32(o, i, getF32(as, i) + getF32(bs, i));
    }
  }

  static void scaleScalar(Tensor x, float s, long from, long to) {
    MemorySegment xs = x.data();
    for (long i = from; i < to; i++) {
      setF32(xs, i, getF32(xs, i) * s);
    }
  }

  static void axpyScalar(Tensor out, Tensor x, float alpha, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    for (long i = from; i < to; i++) {
      setF32(o, i, getF32(o, i) + alpha * getF32(xs, i));
    }
  }

  static void convertScalar(Tensor dst, Tensor src, long from, long to) {
    for (long i = from; i < to; i++) {
      CpuElements.write(dst, i, read(src, i));
    }
  }

  /** out (N, OC) rows [rowFrom, rowTo) += bias (OC). */
  static void addBiasScalar(Tensor out, Tensor bias, long rowFrom, long rowTo) {
    long oc = bias.elementCount();
    MemorySegment o = out.data();
    for (long r = rowFrom; r < rowTo; r++) {
      for (long j = 0; j < oc; j++) {
        setF32(o, r * oc + j, getF32(o, r * oc + j) + read(bias, j));
      }
    }
  }

  /** dbias (OC) columns [colFrom, colTo) += sum over rows of dout (N, OC), in row order. */
  static void biasBackwardScalar(Tensor dbias, Tensor dout, long colFrom, long colTo) {
    long oc = dbias.elementCount();
    long n = dout.elementCount() / oc;
    MemorySegment db = dbias.data(), g = dout.data();
    for (long j = colFrom; j < colTo; j++) {
      float acc = getF32(db, j);
      for (long r = 0; r < n; r++) {
        acc += getF32(g, r * oc + j);
      }
      setF32(db, j, acc);
    }
  }

  static float sigmoid(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-x)));
  }

  static void swigluForwardScalar(Tensor out, Tensor gate, Tensor up, long from, long to) {
    MemorySegment o = out.data(), gs = gate.data(), us = up.data();
    for (long i = from; i < to; i++) {
      float g = getF32(gs, i);
      setF32(o, i, g * sigmoid(g) * getF32(us, i));
    }
  }

  /** dgate += dout up sig (1 + g (1 - sig)); dup += dout silu(g). */
  static void swigluBackwardScalar(
      Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, long from, long to) {
    MemorySegment dgs = dgate.data(), dus = dup.data(), ds = dout.data();
    MemorySegment gs = gate.data(), us = up.data();
    for (long i = from; i < to; i++) {
      float g = getF32(gs, i);
      float d = getF32(ds, i);
      float sig = sigmoid(g);
      setF32(dgs, i, getF32(dgs, i) + d * getF32(us, i) * sig * (1f + g * (1f - sig)));
      setF32(dus, i, getF32(dus, i) + d * g * sig);
    }
  }

  static final float GELU_SCALE = (float) Math.sqrt(2.0 / Math.PI);

  static void geluForwardScalar(Tensor out, Tensor x, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    for (long i = from; i < to; i++) {
      float v = getF32(xs, i);
      float cube = 0.044715f * v * v * v;
      setF32(o, i, 0.5f * v * (1f + (float) Math.tanh(GELU_SCALE * (v + cube))));
    }
  }

  static void geluBackwardScalar(Tensor dx, Tensor dout, Tensor x, long from, long to) {
    MemorySegment dxs = dx.data(), ds = dout.data(), xs = x.data();
    for (long i = from; i < to; i++) {
      float v = getF32(xs, i);
      float cube = 0.044715f * v * v * v;
      float arg = GELU_SCALE * (v + cube);
      float th = (float) Math.tanh(arg);
      float sech2 = 1f - th * th;
      float local =
          0.5f * (1f + th) + v * 0.5f * sech2 * GELU_SCALE * (1f + 3f * 0.044715f * v * v);
      setF32(dxs, i, getF32(dxs, i) + local * getF32(ds, i));
    }
  }

  /** The 32-bit key of element i: its low word mixed with the seed and its high word. */
  static int dropoutKey(long seed, long i) {
    return (int) i * 0x9E3779B9 + (int) seed + fmix32((int) (seed >>> 32) ^ (int) (i >>> 32));
  }

  /**
   * MurmurHash3's 32-bit finalizer: every input bit flips each output bit with probability ~1/2.
   */
  static int fmix32(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }

  /**
   * A uniform float in [0, 1) for element {@code i} of a stream: the top 24 bits of the mixed key,
   * so the vector kernel (32-bit lanes, as many as the float lanes) can compute the same bits.
   */
  static float dropoutUniform(long seed, long i) {
    return (fmix32(dropoutKey(seed, i)) >>> 8) * 0x1.0p-24f;
  }

  static void dropoutScalar(Tensor out, Tensor x, float p, long seed, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    float keepScale = 1f / (1f - p);
    for (long i = from; i < to; i++) {
      float v = dropoutUniform(seed, i) >= p ? getF32(xs, i) * keepScale : 0f;
      setF32(o, i, v);
    }
  }
}
