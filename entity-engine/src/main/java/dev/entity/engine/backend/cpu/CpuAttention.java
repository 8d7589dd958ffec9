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
import jdk.incubator.vector.VectorOperators;
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
  // Keys come in tiles of BK = 4 vectors. Forward (parallel over batch x query head) computes
  // S = Q K^T and O += P V of a tile on the matmul micro-kernel, keeping a running max and sum per
  // query row (flash attention). Backward runs over (batch, key/value head): per query row it
  // recomputes P from the saved lse with the keys packed transposed (kt[d * BK + j], one query's BK
  // scores in 4 vector accumulators), adds dq, and forms dK, dV of the tile as small products over
  // blocks of query rows. The task owns dk and dv of its head and adds the group's query heads in
  // order, so no two threads write the same element and the order of additions is fixed.

  static final VectorSpecies<Float> F = CpuVectorMath.F;
  static final int LANES = CpuVectorMath.LANES;
  static final int BK = 4 * LANES;
  static final int BQ = 32;
  static final int QB = 8 * CpuMatmul.MR;

  /**
   * tileAcc (BK, hsq) += w^T (BK, rows) @ rowsArr (rows, hsq) with the matmul micro-kernel: the
   * contraction runs over the query rows of a block, so each 6 x 32 output tile stays in registers
   * for all of them. w is (rows, BK) row-major, rowsArr (rows, hsq).
   */
  private static final class TileProduct {
    final int hsq;
    final float[] ap = new float[QB * CpuMatmul.MR];
    final float[] bp;
    final float[] out = new float[CpuMatmul.MR * CpuMatmul.NR];

    TileProduct(int hsq) {
      this.hsq = hsq;
      this.bp = new float[QB * hsq];
    }

    void accumulate(float[] tileAcc, float[] w, float[] rowsArr, int rows) {
      int nr = CpuMatmul.NR, mr = CpuMatmul.MR;
      int slivers = hsq / nr;
      for (int x = 0; x < slivers; x++) {
        for (int r = 0; r < rows; r++) {
          System.arraycopy(rowsArr, r * hsq + x * nr, bp, x * rows * nr + r * nr, nr);
        }
      }
      for (int j0 = 0; j0 < BK; j0 += mr) {
        int keys = Math.min(mr, BK - j0);
        for (int r = 0; r < rows; r++) {
          for (int jj = 0; jj < mr; jj++) {
            ap[r * mr + jj] = jj < keys ? w[r * BK + j0 + jj] : 0f;
          }
        }
        for (int x = 0; x < slivers; x++) {
          CpuMatmul.microKernel(ap, 0, bp, x * rows * nr, rows, out);
          for (int jj = 0; jj < keys; jj++) {
            int at = (j0 + jj) * hsq + x * nr;
            for (int c = 0; c < nr; c += LANES) {
              FloatVector.fromArray(F, tileAcc, at + c)
                  .add(FloatVector.fromArray(F, out, jj * nr + c))
                  .intoArray(tileAcc, at + c);
            }
          }
        }
      }
    }
  }

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
    void valueDots(float[] g, int gOff, int hs, float[] out) {
      FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
      FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
      for (int i = 0; i < hs; i++) {
        FloatVector x = FloatVector.broadcast(F, g[gOff + i]);
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
   * row[0 : hsp] += sum over j < count of w[wOff + j] * rows[j * hsp : (j + 1) * hsp], one vector
   * of the row at a time so that its accumulator stays in a register across all j.
   */
  private static void weightedRowSum(
      float[] row, int rowOff, float[] w, int wOff, float[] rows, int count, int hsp) {
    for (int x = 0; x < hsp; x += LANES) {
      FloatVector acc = FloatVector.fromArray(F, row, rowOff + x);
      for (int j = 0; j < count; j++) {
        acc =
            FloatVector.broadcast(F, w[wOff + j])
                .fma(FloatVector.fromArray(F, rows, j * hsp + x), acc);
      }
      acc.intoArray(row, rowOff + x);
    }
  }

  /**
   * Forward over (batch, query head) tasks: blocks of QB query rows against key tiles of BK keys.
   * Both products of a tile, S = Q K^T and O += P V, run on the matmul micro-kernel over slivers of
   * MR query rows; the softmax in between keeps a running max and sum per row (flash attention).
   */
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
    int mr = CpuMatmul.MR, nr = CpuMatmul.NR;
    int hs = (int) d.hs(), hsq = (hs + nr - 1) / nr * nr;
    int kSlivers = BK / nr, vSlivers = hsq / nr;
    long group = d.nh() / d.nkv();
    int t = (int) d.t();
    pool.run(
        (int) (d.b() * d.nh()),
        task -> {
          long b = task / d.nh(), h = task % d.nh(), kh = h / group;
          float[] ktS = new float[kSlivers * hs * nr];
          float[] vS = new float[vSlivers * BK * nr];
          int[] segK = new int[BK];
          float[] qPack = new float[QB * hs];
          float[] acc = new float[QB * hsq];
          float[] max = new float[QB];
          float[] sum = new float[QB];
          float[] tileOut = new float[mr * nr];
          float[] scores = new float[mr * BK];
          float[] pPack = new float[BK * mr];
          float[] lanes = new float[LANES];
          float[] row = new float[hs];
          for (int q0 = 0; q0 < t; q0 += QB) {
            int rows = Math.min(QB, t - q0);
            int slivers = (rows + mr - 1) / mr;
            java.util.Arrays.fill(qPack, 0f);
            for (int r = 0; r < rows; r++) {
              MemorySegment.copy(qs, CpuElements.F32, d.qIndex(b, q0 + r, h) * 4, row, 0, hs);
              int base = (r / mr) * hs * mr + r % mr;
              for (int x = 0; x < hs; x++) {
                qPack[base + x * mr] = row[x];
              }
            }
            java.util.Arrays.fill(acc, 0f);
            java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(sum, 0f);
            for (int s0 = 0; s0 < q0 + rows; s0 += BK) {
              int cols = Math.min(BK, t - s0);
              java.util.Arrays.fill(ktS, 0f);
              java.util.Arrays.fill(vS, 0f);
              for (int j = 0; j < cols; j++) {
                long ko = d.kvIndex(b, s0 + j, kh);
                MemorySegment.copy(ks, CpuElements.F32, ko * 4, row, 0, hs);
                int kBase = (j / nr) * hs * nr + j % nr;
                for (int x = 0; x < hs; x++) {
                  ktS[kBase + x * nr] = row[x];
                }
                MemorySegment.copy(vs, CpuElements.F32, ko * 4, row, 0, hs);
                for (int x = 0; x < hs; x++) {
                  vS[(x / nr) * BK * nr + j * nr + x % nr] = row[x];
                }
                segK[j] = segs == null ? 0 : getI32(segs, b * d.t() + s0 + j);
              }
              for (int sl = 0; sl < slivers; sl++) {
                int r0 = sl * mr;
                if (s0 > q0 + r0 + mr - 1) {
                  continue; // the whole tile lies in the future of these rows
                }
                for (int x = 0; x < kSlivers; x++) {
                  CpuMatmul.microKernel(qPack, sl * hs * mr, ktS, x * hs * nr, hs, tileOut);
                  for (int rr = 0; rr < mr; rr++) {
                    for (int c = 0; c < nr; c += LANES) {
                      FloatVector.fromArray(F, tileOut, rr * nr + c)
                          .mul(scale)
                          .intoArray(scores, rr * BK + x * nr + c);
                    }
                  }
                }
                for (int rr = 0; rr < mr; rr++) {
                  int r = r0 + rr;
                  long tq = q0 + r;
                  boolean live = r < rows && s0 <= tq;
                  float tileMax = Float.NEGATIVE_INFINITY;
                  if (live && segs == null && cols == BK && s0 + BK - 1 <= tq) {
                    // every key of the tile is visible: no mask, a vector max (exact in any order)
                    FloatVector m = FloatVector.fromArray(F, scores, rr * BK);
                    for (int j = LANES; j < BK; j += LANES) {
                      m = m.max(FloatVector.fromArray(F, scores, rr * BK + j));
                    }
                    tileMax = m.reduceLanes(VectorOperators.MAX);
                  } else if (live) {
                    int qSeg = segs == null ? 0 : getI32(segs, b * d.t() + tq);
                    int visible = (int) Math.min(cols, tq - s0 + 1);
                    for (int j = 0; j < BK; j++) {
                      int at = rr * BK + j;
                      if (j >= visible || (segs != null && segK[j] != qSeg)) {
                        scores[at] = Float.NEGATIVE_INFINITY;
                      } else {
                        tileMax = Math.max(tileMax, scores[at]);
                      }
                    }
                  }
                  if (tileMax == Float.NEGATIVE_INFINITY) {
                    for (int j = 0; j < BK; j++) {
                      pPack[j * mr + rr] = 0f;
                    }
                    continue;
                  }
                  float newMax = Math.max(max[r], tileMax);
                  float correction = CpuVectorMath.exp(max[r] - newMax);
                  FloatVector sumVector = FloatVector.zero(F);
                  for (int j = 0; j < BK; j += LANES) {
                    FloatVector p =
                        CpuVectorMath.exp(
                            FloatVector.fromArray(F, scores, rr * BK + j).sub(newMax));
                    p.intoArray(scores, rr * BK + j);
                    sumVector = sumVector.add(p);
                  }
                  sum[r] = sum[r] * correction + CpuVectorMath.sumLanes(sumVector, lanes);
                  max[r] = newMax;
                  if (correction != 1f) {
                    for (int x = 0; x < hsq; x += LANES) {
                      FloatVector.fromArray(F, acc, r * hsq + x)
                          .mul(correction)
                          .intoArray(acc, r * hsq + x);
                    }
                  }
                  for (int j = 0; j < BK; j++) {
                    pPack[j * mr + rr] = scores[rr * BK + j];
                  }
                }
                for (int x = 0; x < vSlivers; x++) {
                  CpuMatmul.microKernel(pPack, 0, vS, x * BK * nr, BK, tileOut);
                  for (int rr = 0; rr < mr && r0 + rr < rows; rr++) {
                    int at = (r0 + rr) * hsq + x * nr;
                    for (int c = 0; c < nr; c += LANES) {
                      FloatVector.fromArray(F, acc, at + c)
                          .add(FloatVector.fromArray(F, tileOut, rr * nr + c))
                          .intoArray(acc, at + c);
                    }
                  }
                }
              }
            }
            for (int r = 0; r < rows; r++) {
              long qo = d.qIndex(b, q0 + r, h);
              float inv = 1f / sum[r];
              for (int x = 0; x < hs; x++) {
                setF32(os, qo + x, acc[r * hsq + x] * inv);
              }
              setF32(ls, d.lseIndex(b, h, q0 + r), max[r] + (float) Math.log(sum[r]));
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
          int hsq = (hs + CpuMatmul.NR - 1) / CpuMatmul.NR * CpuMatmul.NR;
          float[] qRows = new float[QB * hsq];
          float[] gRows = new float[QB * hsq];
          float[] pBlock = new float[QB * BK];
          float[] dsBlock = new float[QB * BK];
          float[] dqrow = new float[hsp];
          float[] dkTile = new float[BK * hsq];
          float[] dvTile = new float[BK * hsq];
          float[] sc = new float[BK];
          float[] dp = new float[BK];
          TileProduct product = new TileProduct(hsq);
          for (long s0 = 0; s0 < t; s0 += BK) {
            tile.load(d, ks, vs, segs, b, kh, s0, hsp, true);
            java.util.Arrays.fill(dkTile, 0f);
            java.util.Arrays.fill(dvTile, 0f);
            for (int g = 0; g < group; g++) {
              long h = kh * group + g;
              for (long q0 = s0; q0 < t; q0 += QB) {
                int rows = (int) Math.min(QB, t - q0);
                for (int i = 0; i < rows; i++) {
                  long ti = q0 + i;
                  long qo = d.qIndex(b, ti, h);
                  MemorySegment.copy(qs, CpuElements.F32, qo * 4, qRows, i * hsq, hs);
                  MemorySegment.copy(dos, CpuElements.F32, qo * 4, gRows, i * hsq, hs);
                  tile.scores(qRows, i * hsq, hs, scale, sc);
                  int qSeg = segs == null ? 0 : getI32(segs, b * t + ti);
                  int visible = tile.mask(sc, s0, ti, segs != null, qSeg);
                  float rowLse = getF32(ls, d.lseIndex(b, h, ti));
                  tile.valueDots(gRows, i * hsq, hs, dp);
                  float rowDelta = delta[g * t + (int) ti];
                  for (int j = 0; j < BK; j += LANES) {
                    FloatVector p = CpuVectorMath.exp(FloatVector.fromArray(F, sc, j).sub(rowLse));
                    p.intoArray(pBlock, i * BK + j);
                    p.mul(FloatVector.fromArray(F, dp, j).sub(rowDelta))
                        .mul(scale)
                        .intoArray(dsBlock, i * BK + j);
                  }
                  java.util.Arrays.fill(dqrow, 0f);
                  weightedRowSum(dqrow, 0, dsBlock, i * BK, tile.kr, visible, hsp);
                  for (int x = 0; x < hs; x++) {
                    setF32(dqs, qo + x, getF32(dqs, qo + x) + dqrow[x]);
                  }
                }
                product.accumulate(dvTile, pBlock, gRows, rows); // dV += P^T dO
                product.accumulate(dkTile, dsBlock, qRows, rows); // dK += dS^T Q
              }
            }
            for (int j = 0; j < tile.cols; j++) {
              long ko = d.kvIndex(b, s0 + j, kh);
              for (int x = 0; x < hs; x++) {
                setF32(dks, ko + x, getF32(dks, ko + x) + dkTile[j * hsq + x]);
                setF32(dvs, ko + x, getF32(dvs, ko + x) + dvTile[j * hsq + x]);
              }
            }
          }
        });
  }
}
