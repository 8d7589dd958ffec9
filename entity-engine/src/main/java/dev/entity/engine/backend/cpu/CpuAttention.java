// Dimensions: B batch, T time, NH query heads, NKV key/value heads, HS head size; query head h
// reads
// key/value head h / (NH / NKV). Query t sees key s iff s <= t and both carry the same segment id.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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

  // ---- the blocked kernel ----------------------------------------------------------------------
  //
  // Keys come in tiles of BK = 4 vectors, packed transposed (kt[d * BK + j]) so that one query's BK
  // scores are 4 vector accumulators over HS broadcast FMAs, and values row by row padded to HSP (a
  // whole number of vectors). Forward keeps a running max and sum per query row (flash attention)
  // and runs in parallel over (batch, query head). Backward runs over (batch, key/value head): the
  // task owns dk and dv of its head, adding the group's query heads in order, so no two threads
  // write the same element and the order of additions is fixed.

  static final VectorSpecies<Float> F = CpuVectorMath.F;
  static final int LANES = CpuVectorMath.LANES;
  static final int BK = 4 * LANES;
  static final int BQ = 32;

  static int padded(long hs) {
    return (int) ((hs + LANES - 1) / LANES * LANES);
  }

  /** A key/value tile: keys transposed, keys and values as padded rows, and segment ids. */
  private static final class KeyTile {
    final float[] kt;
    final float[] kr;
    final float[] vt;
    final float[] vr;
    final int[] seg = new int[BK];
    int cols;

    KeyTile(int hs, int hsp) {
      kt = new float[hs * BK];
      kr = new float[BK * hsp];
      vt = new float[hs * BK];
      vr = new float[BK * hsp];
    }

    void load(
        Dims d,
        MemorySegment ks,
        MemorySegment vs,
        MemorySegment segs,
        long b,
        long kh,
        long s0,
        int hsp,
        boolean transposedValues) {
      int hs = (int) d.hs();
      cols = (int) Math.min(BK, d.t() - s0);
      java.util.Arrays.fill(kt, 0f);
      java.util.Arrays.fill(kr, 0f);
      java.util.Arrays.fill(vr, 0f);
      if (transposedValues) {
        java.util.Arrays.fill(vt, 0f);
      }
      for (int j = 0; j < cols; j++) {
        long ko = d.kvIndex(b, s0 + j, kh);
        MemorySegment.copy(ks, CpuElements.F32, ko * 4, kr, j * hsp, hs);
        MemorySegment.copy(vs, CpuElements.F32, ko * 4, vr, j * hsp, hs);
        for (int i = 0; i < hs; i++) {
          kt[i * BK + j] = kr[j * hsp + i];
          if (transposedValues) {
            vt[i * BK + j] = vr[j * hsp + i];
          }
        }
        seg[j] = segs == null ? 0 : getI32(segs, b * d.t() + s0 + j);
      }
    }

    /** scores[j] = scale * q . k_j for the whole tile; q holds HS floats from qOff. */
    void scores(float[] q, int qOff, int hs, float scale, float[] out) {
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
      FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      for (int i = 0; i < hs; i++) {
        FloatVector x = FloatVector.broadcast(F, q[qOff + i]);
        int base = i * BK;
        a0 = x.fma(FloatVector.fromArray(F, kt, base), a0);
        a1 = x.fma(FloatVector.fromArray(F, kt, base + LANES), a1);
        a2 = x.fma(FloatVector.fromArray(F, kt, base + 2 * LANES), a2);
        a3 = x.fma(FloatVector.fromArray(F, kt, base + 3 * LANES), a3);
      }
      a0.mul(scale).intoArray(out, 0);
      a1.mul(scale).intoArray(out, LANES);
      a2.mul(scale).intoArray(out, 2 * LANES);
      a3.mul(scale).intoArray(out, 3 * LANES);
    }

    /** out[j] = g . v_j for the whole tile (g holds HS floats). */
    void valueDots(float[] g, int hs, float[] out) {
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
      FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      for (int i = 0; i < hs; i++) {
        FloatVector x = FloatVector.broadcast(F, g[i]);
        int base = i * BK;
        a0 = x.fma(FloatVector.fromArray(F, vt, base), a0);
        a1 = x.fma(FloatVector.fromArray(F, vt, base + LANES), a1);
        a2 = x.fma(FloatVector.fromArray(F, vt, base + 2 * LANES), a2);
        a3 = x.fma(FloatVector.fromArray(F, vt, base + 3 * LANES), a3);
      }
      a0.intoArray(out, 0);
      a1.intoArray(out, LANES);
      a2.intoArray(out, 2 * LANES);
      a3.intoArray(out, 3 * LANES);
    }

    /**
     * Sets scores of keys the query at time t (segment qSeg) may not see to -inf; returns how many
     * leading keys are causally visible.
     */
    int mask(float[] sc, long s0, long t, boolean segmented, int qSeg) {
      int visible = (int) Math.max(0, Math.min(cols, t - s0 + 1));
      for (int j = 0; j < BK; j++) {
        if (j >= visible || (segmented && seg[j] != qSeg)) {
          sc[j] = Float.NEGATIVE_INFINITY;
        }
      }
      return visible;
    }
  }

  /**
   * row[0 : hsp] += sum over j < count of w[j] * rows[j * hsp : (j + 1) * hsp], one vector of the
   * row at a time so that its accumulator stays in a register across all j.
   */
  private static void weightedRowSum(
      float[] row, int rowOff, float[] w, float[] rows, int count, int hsp) {
    for (int x = 0; x < hsp; x += LANES) {
      FloatVector acc = FloatVector.fromArray(F, row, rowOff + x);
      for (int j = 0; j < count; j++) {
        acc = FloatVector.broadcast(F, w[j]).fma(FloatVector.fromArray(F, rows, j * hsp + x), acc);
      }
      acc.intoArray(row, rowOff + x);
    }
  }

  /** row[0 : hsp] += w * src[off : off + hsp]. */
  private static void axpyRow(float[] row, int rowOff, float w, float[] src, int off, int hsp) {
    FloatVector wv = FloatVector.broadcast(F, w);
    for (int i = 0; i < hsp; i += LANES) {
      wv.fma(FloatVector.fromArray(F, src, off + i), FloatVector.fromArray(F, row, rowOff + i))
          .intoArray(row, rowOff + i);
    }
  }

  static void forwardBlocked(
      WorkerPool pool,
      Tensor out,
      Tensor lse,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor segments,
      float scale,
      Dims d) {
    MemorySegment os = out.data(), ls = lse.data(), qs = q.data(), ks = k.data(), vs = v.data();
    MemorySegment segs = segments == null ? null : segments.data();
    int hs = (int) d.hs(), hsp = padded(hs);
    long group = d.nh() / d.nkv();
    pool.run(
        (int) (d.b() * d.nh()),
        task -> {
          long b = task / d.nh(), h = task % d.nh(), kh = h / group;
          KeyTile tile = new KeyTile(hs, hsp);
          float[] qr = new float[BQ * hs];
          float[] acc = new float[BQ * hsp];
          float[] max = new float[BQ];
          float[] sum = new float[BQ];
          float[] sc = new float[BK];
          float[] lanes = new float[LANES];
          for (long t0 = 0; t0 < d.t(); t0 += BQ) {
            int rows = (int) Math.min(BQ, d.t() - t0);
            for (int i = 0; i < rows; i++) {
              MemorySegment.copy(qs, CpuElements.F32, d.qIndex(b, t0 + i, h) * 4, qr, i * hs, hs);
            }
            java.util.Arrays.fill(acc, 0f);
            java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(sum, 0f);
            for (long s0 = 0; s0 < t0 + rows; s0 += BK) {
              tile.load(d, ks, vs, segs, b, kh, s0, hsp, false);
              for (int i = 0; i < rows; i++) {
                long t = t0 + i;
                if (s0 > t) {
                  continue;
                }
                tile.scores(qr, i * hs, hs, scale, sc);
                int qSeg = segs == null ? 0 : getI32(segs, b * d.t() + t);
                int visible = tile.mask(sc, s0, t, segs != null, qSeg);
                float tileMax = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                  tileMax = Math.max(tileMax, sc[j]);
                }
                if (tileMax == Float.NEGATIVE_INFINITY) {
                  continue;
                }
                float newMax = Math.max(max[i], tileMax);
                float correction = CpuVectorMath.exp(max[i] - newMax);
                FloatVector sumVector = FloatVector.zero(F);
                for (int j = 0; j < BK; j += LANES) {
                  FloatVector p = CpuVectorMath.exp(FloatVector.fromArray(F, sc, j).sub(newMax));
                  p.intoArray(sc, j);
                  sumVector = sumVector.add(p);
                }
                float tileSum = CpuVectorMath.sumLanes(sumVector, lanes);
                sum[i] = sum[i] * correction + tileSum;
                max[i] = newMax;
                int row = i * hsp;
                if (correction != 1f) {
                  for (int x = 0; x < hsp; x += LANES) {
                    FloatVector.fromArray(F, acc, row + x).mul(correction).intoArray(acc, row + x);
                  }
                }
                weightedRowSum(acc, row, sc, tile.vr, visible, hsp);
              }
            }
            for (int i = 0; i < rows; i++) {
              long qo = d.qIndex(b, t0 + i, h);
              float inv = 1f / sum[i];
              for (int x = 0; x < hs; x++) {
                setF32(os, qo + x, acc[i * hsp + x] * inv);
              }
              setF32(ls, d.lseIndex(b, h, t0 + i), max[i] + (float) Math.log(sum[i]));
            }
          }
        });
  }

  static void backwardBlocked(
      WorkerPool pool,
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
    MemorySegment segs = segments == null ? null : segments.data();
    int hs = (int) d.hs(), hsp = padded(hs);
    int group = (int) (d.nh() / d.nkv());
    int t = (int) d.t();
    pool.run(
        (int) (d.b() * d.nkv()),
        task -> {
          long b = task / d.nkv(), kh = task % d.nkv();
          KeyTile tile = new KeyTile(hs, hsp);
          // per (head in group, t): delta = dout . out
          float[] delta = new float[group * t];
          for (int g = 0; g < group; g++) {
            long h = kh * group + g;
            for (int ti = 0; ti < t; ti++) {
              long qo = d.qIndex(b, ti, h);
              delta[g * t + ti] = dot(dos, qo, os, qo, hs);
            }
          }
          float[] qrow = new float[hsp];
          float[] grow = new float[hsp];
          float[] dqrow = new float[hsp];
          float[] dkTile = new float[BK * hsp];
          float[] dvTile = new float[BK * hsp];
          float[] sc = new float[BK];
          float[] dp = new float[BK];
          for (long s0 = 0; s0 < t; s0 += BK) {
            tile.load(d, ks, vs, segs, b, kh, s0, hsp, true);
            java.util.Arrays.fill(dkTile, 0f);
            java.util.Arrays.fill(dvTile, 0f);
            for (int g = 0; g < group; g++) {
              long h = kh * group + g;
              for (long ti = s0; ti < t; ti++) {
                long qo = d.qIndex(b, ti, h);
                MemorySegment.copy(qs, CpuElements.F32, qo * 4, qrow, 0, hs);
                MemorySegment.copy(dos, CpuElements.F32, qo * 4, grow, 0, hs);
                tile.scores(qrow, 0, hs, scale, sc);
                int qSeg = segs == null ? 0 : getI32(segs, b * t + ti);
                int visible = tile.mask(sc, s0, ti, segs != null, qSeg);
                float rowLse = getF32(ls, d.lseIndex(b, h, ti));
                tile.valueDots(grow, hs, dp);
                float rowDelta = delta[g * t + (int) ti];
                java.util.Arrays.fill(dqrow, 0f);
                boolean any = false;
                for (int j = 0; j < BK; j += LANES) {
                  FloatVector p = CpuVectorMath.exp(FloatVector.fromArray(F, sc, j).sub(rowLse));
                  p.intoArray(sc, j);
                  FloatVector ds = p.mul(FloatVector.fromArray(F, dp, j).sub(rowDelta)).mul(scale);
                  ds.intoArray(dp, j);
                }
                for (int j = 0; j < visible; j++) {
                  float p = sc[j];
                  if (p == 0f) {
                    dp[j] = 0f; // masked keys contribute nothing to dq either
                    continue;
                  }
                  any = true;
                  axpyRow(dkTile, j * hsp, dp[j], qrow, 0, hsp);
                  axpyRow(dvTile, j * hsp, p, grow, 0, hsp);
                }
                if (any) {
                  weightedRowSum(dqrow, 0, dp, tile.kr, visible, hsp);
                }
                if (any) {
                  for (int x = 0; x < hs; x++) {
                    setF32(dqs, qo + x, getF32(dqs, qo + x) + dqrow[x]);
                  }
                }
              }
            }
            for (int j = 0; j < tile.cols; j++) {
              long ko = d.kvIndex(b, s0 + j, kh);
              for (int x = 0; x < hs; x++) {
                setF32(dks, ko + x, getF32(dks, ko + x) + dkTile[j * hsp + x]);
                setF32(dvs, ko + x, getF32(dvs, ko + x) + dvTile[j * hsp + x]);
              }
            }
          }
        });
  }
}
