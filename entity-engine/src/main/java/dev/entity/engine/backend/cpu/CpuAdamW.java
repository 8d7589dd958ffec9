// Bias correction is folded into two per-step scalars (lr / bc1 and 1 / sqrt(bc2)), as PyTorch
// does,
// so the per-element update is one fused pass over param, grad, m and v.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The AdamW update (decoupled weight decay, bias correction) on the host. */
final class CpuAdamW {

  private CpuAdamW() {}

  /** Per-step constants of one update. */
  record Step(
      float lr,
      float beta1,
      float beta2,
      float eps,
      float weightDecay,
      float gradScale,
      float stepSize,
      float invSqrtBc2) {

    static Step of(
        float lr,
        float beta1,
        float beta2,
        float eps,
        float weightDecay,
        float gradScale,
        long step) {
      if (step < 1) {
        throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
      }
      double bc1 = 1.0 - Math.pow(beta1, step);
      double bc2 = 1.0 - Math.pow(beta2, step);
      return new Step(
          lr,
          beta1,
          beta2,
          eps,
          weightDecay,
          gradScale,
          (float) (lr / bc1),
          (float) (1.0 / Math.sqrt(bc2)));
    }
  }

  /** p -= lr wd p; m, v updated; p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps). */
  static void scalar(Tensor param, Tensor grad, Tensor m, Tensor v, Step s, long from, long to) {
    MemorySegment ps = param.data(), gs = grad.data(), ms = m.data(), vs = v.data();
    float decay = 1f - s.lr() * s.weightDecay();
    for (long i = from; i < to; i++) {
      float g = getF32(gs, i) * s.gradScale();
      float mi = s.beta1() * getF32(ms, i) + (1f - s.beta1()) * g;
      float vi = s.beta2() * getF32(vs, i) + (1f - s.beta2()) * g * g;
      setF32(ms, i, mi);
      setF32(vs, i, vi);
      float denom = (float) Math.sqrt(vi) * s.invSqrtBc2() + s.eps();
      setF32(ps, i, getF32(ps, i) * decay - s.stepSize() * mi / denom);
    }
  }

  /**
   * The same update on full vectors, with the same operations in the same order (the same bits),
   * over heap copies of each chunk (see HostChunks).
   */
  static void vector(Tensor param, Tensor grad, Tensor m, Tensor v, Step s, long from, long to) {
    MemorySegment ps = param.data(), gs = grad.data(), ms = m.data(), vs = v.data();
    long end = CpuVectorOps.vectorEnd(from, to);
    float[][] b = HostChunks.local();
    for (long c = from; c < end; c += HostChunks.CHUNK) {
      int n = (int) Math.min(HostChunks.CHUNK, end - c);
      HostChunks.load(b[0], ps, c, n);
      HostChunks.load(b[1], gs, c, n);
      HostChunks.load(b[2], ms, c, n);
      HostChunks.load(b[3], vs, c, n);
      chunk(b[0], b[1], b[2], b[3], s, n);
      HostChunks.store(b[0], ps, c, n);
      HostChunks.store(b[2], ms, c, n);
      HostChunks.store(b[3], vs, c, n);
    }
    scalar(param, grad, m, v, s, end, to);
  }

  private static void chunk(float[] ps, float[] gs, float[] ms, float[] vs, Step s, int n) {
    VectorSpecies<Float> f = CpuVectorOps.F;
    float decay = 1f - s.lr() * s.weightDecay();
    float b1 = s.beta1(), b2 = s.beta2(), c1 = 1f - s.beta1(), c2 = 1f - s.beta2();
    for (int i = 0; i < n; i += CpuVectorOps.LANES) {
      FloatVector g = FloatVector.fromArray(f, gs, i).mul(s.gradScale());
      FloatVector mi = FloatVector.fromArray(f, ms, i).mul(b1).add(g.mul(c1));
      FloatVector vi = FloatVector.fromArray(f, vs, i).mul(b2).add(g.mul(c2).mul(g));
      mi.intoArray(ms, i);
      vi.intoArray(vs, i);
      FloatVector denom = vi.lanewise(VectorOperators.SQRT).mul(s.invSqrtBc2()).add(s.eps());
      FloatVector p =
          FloatVector.fromArray(f, ps, i).mul(decay).sub(mi.mul(s.stepSize()).div(denom));
      p.intoArray(ps, i);
    }
  }
}
