// Budget rule: C2 stops inlining a compilation once it holds about 18,000 IR nodes
// (NodeCountInliningCutoff), and a Vector API value that then crosses a call that was not inlined
// is boxed on the heap. So every method here takes and returns only arrays and scalars, holds at
// most about 35 vector operations, and calls no vector-typed method of ours except
// CpuVectorMath.exp
// (inlined first, while the budget is fresh). Such a method is garbage-free whether or not its
// caller inlines it.
package dev.entity.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector leaf kernels of blocked attention: a 4-row score tile against a block of KB transposed
 * keys, the row max and shifted exponentials of a score row, and a 2-row accumulation of weighted
 * rows. Blocks are KB = 2 vectors of keys wide; row widths are padded to whole vectors.
 */
final class CpuAttentionTiles {

  static final VectorSpecies<Float> F = CpuVectorMath.F;
  static final int LANES = CpuVectorMath.LANES;

  /** Keys per block: two vectors, so a 4-row score tile keeps 8 accumulators in registers. */
  static final int KB = 2 * LANES;

  private CpuAttentionTiles() {}

  /** n rounded up to whole vectors. */
  static int padded(int n) {
    return (n + LANES - 1) / LANES * LANES;
  }

  /**
   * s[sOff + i * KB + j] = sum over d < depth of a[aOff + i * aStride + d] * bt[btOff + d * KB +
   * j], for 4 rows i and KB columns j: each loaded vector of bt serves 4 rows, each broadcast 2.
   */
  static void scores4(
      float[] a, int aOff, int aStride, int depth, float[] bt, int btOff, float[] s, int sOff) {
    FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
    FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
    FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
    FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
    int a1 = aOff + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
    for (int d = 0; d < depth; d++) {
      FloatVector k0 = FloatVector.fromArray(F, bt, btOff + d * KB);
      FloatVector k1 = FloatVector.fromArray(F, bt, btOff + d * KB + LANES);
      FloatVector x = FloatVector.broadcast(F, a[aOff + d]);
      c00 = x.fma(k0, c00);
      c01 = x.fma(k1, c01);
      x = FloatVector.broadcast(F, a[a1 + d]);
      c10 = x.fma(k0, c10);
      c11 = x.fma(k1, c11);
      x = FloatVector.broadcast(F, a[a2 + d]);
      c20 = x.fma(k0, c20);
      c21 = x.fma(k1, c21);
      x = FloatVector.broadcast(F, a[a3 + d]);
      c30 = x.fma(k0, c30);
      c31 = x.fma(k1, c31);
    }
    c00.intoArray(s, sOff);
    c01.intoArray(s, sOff + LANES);
    c10.intoArray(s, sOff + KB);
    c11.intoArray(s, sOff + KB + LANES);
    c20.intoArray(s, sOff + 2 * KB);
    c21.intoArray(s, sOff + 2 * KB + LANES);
    c30.intoArray(s, sOff + 3 * KB);
    c31.intoArray(s, sOff + 3 * KB + LANES);
  }

  /**
   * The largest of s[off .. off + KB) when it exceeds {@code bound}, else {@code bound} itself, so
   * that the common case (no new maximum) skips the lane reduction. Exact in any lane order.
   */
  static float rowMaxAbove(float[] s, int off, float bound) {
    FloatVector m = FloatVector.fromArray(F, s, off);
    for (int j = LANES; j < KB; j += LANES) {
      m = m.max(FloatVector.fromArray(F, s, off + j));
    }
    if (!m.compare(VectorOperators.GT, bound).anyTrue()) {
      return bound;
    }
    return m.reduceLanes(VectorOperators.MAX);
  }

  /**
   * One row of the online softmax: s[off + j] = exp(s[off + j] - max) for j < KB (-inf gives 0),
   * and the row's LANES partial sums at sums[sumOff] become sums * correction + those values, lane
   * by lane; the caller adds the lanes once, in order, at the end.
   */
  static void softmaxRow(
      float[] s, int off, float max, float correction, float[] sums, int sumOff) {
    FloatVector sum = FloatVector.fromArray(F, sums, sumOff).mul(correction);
    for (int j = 0; j < KB; j += LANES) {
      FloatVector p = CpuVectorMath.exp(FloatVector.fromArray(F, s, off + j).sub(max));
      p.intoArray(s, off + j);
      sum = sum.add(p);
    }
    sum.intoArray(sums, sumOff);
  }

  /**
   * Backward of one row: p[off + j] = exp(p[off + j] - lse) (scores to probabilities through the
   * saved log-sum-exp) and ds[off + j] = p * (ds[off + j] - delta) (dP to dS, without the scale).
   */
  static void probabilitiesAndGrad(float[] p, float[] ds, int off, float lse, float delta) {
    for (int j = 0; j < KB; j += LANES) {
      FloatVector pv = CpuVectorMath.exp(FloatVector.fromArray(F, p, off + j).sub(lse));
      pv.intoArray(p, off + j);
      pv.mul(FloatVector.fromArray(F, ds, off + j).sub(delta)).intoArray(ds, off + j);
    }
  }

  /**
   * First step of the online softmax of a transposed score block st (KB keys x KB query columns):
   * per column i, max[mOff + i] becomes the larger of itself and the column's max; corr[i] gets the
   * old max and shift[i] the new one, or 0 where it is still -inf (a column that has seen no key),
   * so that exp(score - shift) gives 0 for masked scores instead of NaN.
   */
  static void columnMax(float[] st, float[] max, int mOff, float[] corr, float[] shift) {
    for (int h = 0; h < KB; h += LANES) {
      FloatVector m = FloatVector.fromArray(F, st, h);
      for (int j = 1; j < KB; j++) {
        m = m.max(FloatVector.fromArray(F, st, j * KB + h));
      }
      FloatVector old = FloatVector.fromArray(F, max, mOff + h);
      old.intoArray(corr, h);
      m = m.max(old);
      m.intoArray(max, mOff + h);
      m.blend(0f, m.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY)).intoArray(shift, h);
    }
  }

  /**
   * Second step: corr[i] = exp(old max - shift[i]), the factor that rescales column i's sum and
   * output row (0 for a column seeing its first key, 1 when the max did not move).
   */
  static void corrections(float[] corr, float[] shift) {
    for (int h = 0; h < KB; h += LANES) {
      FloatVector old = FloatVector.fromArray(F, corr, h);
      CpuVectorMath.exp(old.sub(FloatVector.fromArray(F, shift, h))).intoArray(corr, h);
    }
  }

  /**
   * Third step: st[j * KB + i] = exp(st[j * KB + i] - shift[i]) in place, and sum[sOff + i] =
   * sum[sOff + i] * corr[i] + the column's new values, added over the keys j in order.
   */
  static void columnExp(float[] st, float[] shift, float[] corr, float[] sum, int sOff) {
    for (int h = 0; h < KB; h += LANES) {
      FloatVector sh = FloatVector.fromArray(F, shift, h);
      FloatVector acc =
          FloatVector.fromArray(F, sum, sOff + h).mul(FloatVector.fromArray(F, corr, h));
      for (int j = 0; j < KB; j++) {
        FloatVector p = CpuVectorMath.exp(FloatVector.fromArray(F, st, j * KB + h).sub(sh));
        p.intoArray(st, j * KB + h);
        acc = acc.add(p);
      }
      acc.intoArray(sum, sOff + h);
    }
  }

  /** The largest of x[0 .. n) (whole vectors, n > 0); exact in any lane order. */
  static float max(float[] x, int n) {
    FloatVector m = FloatVector.fromArray(F, x, 0);
    for (int i = LANES; i < n; i += LANES) {
      m = m.max(FloatVector.fromArray(F, x, i));
    }
    return m.reduceLanes(VectorOperators.MAX);
  }

  /** x[off .. off + width) *= c, width a whole number of vectors. */
  static void scaleRow(float[] x, int off, int width, float c) {
    for (int i = 0; i < width; i += LANES) {
      FloatVector.fromArray(F, x, off + i).mul(c).intoArray(x, off + i);
    }
  }

  /** dst[dOff + i] += c * src[sOff + i] for i < width (whole vectors). */
  static void addScaled(float[] dst, int dOff, float[] src, int sOff, int width, float c) {
    for (int i = 0; i < width; i += LANES) {
      FloatVector.fromArray(F, src, sOff + i)
          .mul(c)
          .add(FloatVector.fromArray(F, dst, dOff + i))
          .intoArray(dst, dOff + i);
    }
  }

  /**
   * For output rows i < 4: acc[accOff + i * accStride + x] += sum over j < count of w[wOff + i * wi
   * + j * wj] * rows[rOff + j * rStride + x], x over [0, width) (whole vectors). The strides let w
   * be read transposed (P^T, dS^T) without copying it. The sum over j runs in order.
   */
  static void accumulate4(
      float[] acc,
      int accOff,
      int accStride,
      float[] w,
      int wOff,
      int wi,
      int wj,
      float[] rows,
      int rOff,
      int rStride,
      int count,
      int width) {
    int x = 0;
    for (; x + 4 * LANES <= width; x += 4 * LANES) {
      accumulate4x4(acc, accOff + x, accStride, w, wOff, wi, wj, rows, rOff + x, rStride, count);
    }
    for (; x < width; x += LANES) {
      accumulate4x1(acc, accOff + x, accStride, w, wOff, wi, wj, rows, rOff + x, rStride, count);
    }
  }

  /** accumulate4 for 4 vectors of the row width: 16 accumulators, each loaded row serves 4. */
  private static void accumulate4x4(
      float[] acc,
      int a0,
      int as,
      float[] w,
      int wOff,
      int wi,
      int wj,
      float[] rows,
      int rOff,
      int rStride,
      int count) {
    int a1 = a0 + as, a2 = a1 + as, a3 = a2 + as;
    FloatVector c00 = FloatVector.fromArray(F, acc, a0);
    FloatVector c01 = FloatVector.fromArray(F, acc, a0 + LANES);
    FloatVector c02 = FloatVector.fromArray(F, acc, a0 + 2 * LANES);
    FloatVector c03 = FloatVector.fromArray(F, acc, a0 + 3 * LANES);
    FloatVector c10 = FloatVector.fromArray(F, acc, a1);
    FloatVector c11 = FloatVector.fromArray(F, acc, a1 + LANES);
    FloatVector c12 = FloatVector.fromArray(F, acc, a1 + 2 * LANES);
    FloatVector c13 = FloatVector.fromArray(F, acc, a1 + 3 * LANES);
    FloatVector c20 = FloatVector.fromArray(F, acc, a2);
    FloatVector c21 = FloatVector.fromArray(F, acc, a2 + LANES);
    FloatVector c22 = FloatVector.fromArray(F, acc, a2 + 2 * LANES);
    FloatVector c23 = FloatVector.fromArray(F, acc, a2 + 3 * LANES);
    FloatVector c30 = FloatVector.fromArray(F, acc, a3);
    FloatVector c31 = FloatVector.fromArray(F, acc, a3 + LANES);
    FloatVector c32 = FloatVector.fromArray(F, acc, a3 + 2 * LANES);
    FloatVector c33 = FloatVector.fromArray(F, acc, a3 + 3 * LANES);
    int w1 = wOff + wi, w2 = w1 + wi, w3 = w2 + wi;
    for (int j = 0; j < count; j++) {
      int r = rOff + j * rStride, at = j * wj;
      FloatVector v0 = FloatVector.fromArray(F, rows, r);
      FloatVector v1 = FloatVector.fromArray(F, rows, r + LANES);
      FloatVector v2 = FloatVector.fromArray(F, rows, r + 2 * LANES);
      FloatVector v3 = FloatVector.fromArray(F, rows, r + 3 * LANES);
      FloatVector x = FloatVector.broadcast(F, w[wOff + at]);
      c00 = x.fma(v0, c00);
      c01 = x.fma(v1, c01);
      c02 = x.fma(v2, c02);
      c03 = x.fma(v3, c03);
      x = FloatVector.broadcast(F, w[w1 + at]);
      c10 = x.fma(v0, c10);
      c11 = x.fma(v1, c11);
      c12 = x.fma(v2, c12);
      c13 = x.fma(v3, c13);
      x = FloatVector.broadcast(F, w[w2 + at]);
      c20 = x.fma(v0, c20);
      c21 = x.fma(v1, c21);
      c22 = x.fma(v2, c22);
      c23 = x.fma(v3, c23);
      x = FloatVector.broadcast(F, w[w3 + at]);
      c30 = x.fma(v0, c30);
      c31 = x.fma(v1, c31);
      c32 = x.fma(v2, c32);
      c33 = x.fma(v3, c33);
    }
    c00.intoArray(acc, a0);
    c01.intoArray(acc, a0 + LANES);
    c02.intoArray(acc, a0 + 2 * LANES);
    c03.intoArray(acc, a0 + 3 * LANES);
    c10.intoArray(acc, a1);
    c11.intoArray(acc, a1 + LANES);
    c12.intoArray(acc, a1 + 2 * LANES);
    c13.intoArray(acc, a1 + 3 * LANES);
    c20.intoArray(acc, a2);
    c21.intoArray(acc, a2 + LANES);
    c22.intoArray(acc, a2 + 2 * LANES);
    c23.intoArray(acc, a2 + 3 * LANES);
    c30.intoArray(acc, a3);
    c31.intoArray(acc, a3 + LANES);
    c32.intoArray(acc, a3 + 2 * LANES);
    c33.intoArray(acc, a3 + 3 * LANES);
  }

  /** accumulate4 for one vector of the row width. */
  private static void accumulate4x1(
      float[] acc,
      int a0,
      int as,
      float[] w,
      int wOff,
      int wi,
      int wj,
      float[] rows,
      int rOff,
      int rStride,
      int count) {
    FloatVector c0 = FloatVector.fromArray(F, acc, a0);
    FloatVector c1 = FloatVector.fromArray(F, acc, a0 + as);
    FloatVector c2 = FloatVector.fromArray(F, acc, a0 + 2 * as);
    FloatVector c3 = FloatVector.fromArray(F, acc, a0 + 3 * as);
    for (int j = 0; j < count; j++) {
      FloatVector v = FloatVector.fromArray(F, rows, rOff + j * rStride);
      int at = wOff + j * wj;
      c0 = FloatVector.broadcast(F, w[at]).fma(v, c0);
      c1 = FloatVector.broadcast(F, w[at + wi]).fma(v, c1);
      c2 = FloatVector.broadcast(F, w[at + 2 * wi]).fma(v, c2);
      c3 = FloatVector.broadcast(F, w[at + 3 * wi]).fma(v, c3);
    }
    c0.intoArray(acc, a0);
    c1.intoArray(acc, a0 + as);
    c2.intoArray(acc, a0 + 2 * as);
    c3.intoArray(acc, a0 + 3 * as);
  }
}
