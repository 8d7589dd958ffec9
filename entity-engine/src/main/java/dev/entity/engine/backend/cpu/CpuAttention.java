// Dimensions: B batch, T time, NH query heads, NKV key/value heads, HS head size; query head h
// reads
// key/value head h / (NH / NKV). Query t sees key s iff s <= t and both carry the same segment id.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention on the host, saving the log-sum-exp of each query row instead of
 * the probabilities; backward recomputes the probabilities from it. The scalar reference walks one
 * query row at a time; the blocked kernel is tested against it.
 */
final class CpuAttention {

  private CpuAttention() {}

  /** The shape of one attention call, checked against every operand. */
  record Dims(long b, long t, long nh, long nkv, long hs) {

    static Dims of(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments) {
      CpuElements.requireF32(out, lse, q, k, v);
      if (q.rank() != 4 || k.rank() != 4) {
        throw new IllegalArgumentException("q and k must be (B, T, H, HS): q=" + q + " k=" + k);
      }
      long b = q.dim(0), t = q.dim(1), nh = q.dim(2), hs = q.dim(3), nkv = k.dim(2);
      if (nkv == 0 || nh % nkv != 0) {
        throw new IllegalArgumentException("NH=" + nh + " is not a multiple of NKV=" + nkv);
      }
      CpuElements.requireCount(k, b * t * nkv * hs, "k (B, T, NKV, HS)");
      CpuElements.requireCount(v, b * t * nkv * hs, "v (B, T, NKV, HS)");
      CpuElements.requireCount(out, b * t * nh * hs, "out (B, T, NH, HS)");
      CpuElements.requireCount(lse, b * nh * t, "lse (B, NH, T)");
      if (segments != null) {
        CpuElements.requireI32(segments);
        CpuElements.requireCount(segments, b * t, "segments (B, T)");
      }
      return new Dims(b, t, nh, nkv, hs);
    }

    long qIndex(long bi, long ti, long h) {
      return ((bi * t + ti) * nh + h) * hs;
    }

    long kvIndex(long bi, long ti, long h) {
      return ((bi * t + ti) * nkv + h) * hs;
    }

    long lseIndex(long bi, long h, long ti) {
      return (bi * nh + h) * t + ti;
    }
  }

  static boolean visible(MemorySegment seg, long rowBase, long query, long key) {
    return key <= query
        && (seg == null || getI32(seg, rowBase + key) == getI32(seg, rowBase + query));
  }

  static float dot(MemorySegment x, long xo, MemorySegment y, long yo, long n) {
    float acc = 0f;
    for (long i = 0; i < n; i++) {
      acc += getF32(x, xo + i) * getF32(y, yo + i);
    }
    return acc;
  }

  /** Reference forward: scores of one query row, softmax, weighted sum of values. */
  static void forwardScalar(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale, Dims d) {
    MemorySegment os = out.data(), ls = lse.data(), qs = q.data(), ks = k.data(), vs = v.data();
    MemorySegment seg = segments == null ? null : segments.data();
    long group = d.nh() / d.nkv();
    float[] scores = new float[(int) d.t()];
    for (long b = 0; b < d.b(); b++) {
      for (long h = 0; h < d.nh(); h++) {
        long kh = h / group;
        for (long t = 0; t < d.t(); t++) {
          long qo = d.qIndex(b, t, h);
          float max = Float.NEGATIVE_INFINITY;
          for (long s = 0; s <= t; s++) {
            if (visible(seg, b * d.t(), t, s)) {
              float sc = scale * dot(qs, qo, ks, d.kvIndex(b, s, kh), d.hs());
              scores[(int) s] = sc;
              max = Math.max(max, sc);
            }
          }
          float sum = 0f;
          for (long s = 0; s <= t; s++) {
            if (visible(seg, b * d.t(), t, s)) {
              float p = (float) Math.exp(scores[(int) s] - max);
              scores[(int) s] = p;
              sum += p;
            }
          }
          for (long i = 0; i < d.hs(); i++) {
            setF32(os, qo + i, 0f);
          }
          for (long s = 0; s <= t; s++) {
            if (visible(seg, b * d.t(), t, s)) {
              float p = scores[(int) s] / sum;
              long vo = d.kvIndex(b, s, kh);
              for (long i = 0; i < d.hs(); i++) {
                setF32(os, qo + i, getF32(os, qo + i) + p * getF32(vs, vo + i));
              }
            }
          }
          setF32(ls, d.lseIndex(b, h, t), max + (float) Math.log(sum));
        }
      }
    }
  }

  /**
   * Reference backward: p = exp(score - lse); dv += p dout; ds = p (dout.v - dout.out); dq += scale
   * ds k; dk += scale ds q.
   */
  static void backwardScalar(
      Tensor dq,
      Tensor dk,
      Tensor dv,
      Tensor dout,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor out,
      Tensor lse,
      Tensor segments,
      float scale,
      Dims d) {
    MemorySegment dqs = dq.data(), dks = dk.data(), dvs = dv.data(), dos = dout.data();
    MemorySegment qs = q.data(), ks = k.data(), vs = v.data(), os = out.data(), ls = lse.data();
    MemorySegment seg = segments == null ? null : segments.data();
    long group = d.nh() / d.nkv();
    long hs = d.hs();
    for (long b = 0; b < d.b(); b++) {
      for (long h = 0; h < d.nh(); h++) {
        long kh = h / group;
        for (long t = 0; t < d.t(); t++) {
          long qo = d.qIndex(b, t, h);
          float rowLse = getF32(ls, d.lseIndex(b, h, t));
          float delta = dot(dos, qo, os, qo, hs);
          for (long s = 0; s <= t; s++) {
            if (!visible(seg, b * d.t(), t, s)) {
              continue;
            }
            long ko = d.kvIndex(b, s, kh);
            float p = (float) Math.exp(scale * dot(qs, qo, ks, ko, hs) - rowLse);
            float dp = dot(dos, qo, vs, ko, hs);
            float ds = p * (dp - delta) * scale;
            for (long i = 0; i < hs; i++) {
              setF32(dvs, ko + i, getF32(dvs, ko + i) + p * getF32(dos, qo + i));
              setF32(dqs, qo + i, getF32(dqs, qo + i) + ds * getF32(ks, ko + i));
              setF32(dks, ko + i, getF32(dks, ko + i) + ds * getF32(qs, qo + i));
            }
          }
        }
      }
    }
  }
}
