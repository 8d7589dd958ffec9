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
   * s[sOff + i * KB + j] = sum over d < depth of a[aOff + i * aStride + d] * bt[d * KB + j], for 4
   * rows i and KB columns j: each loaded key vector serves 4 rows, each broadcast 2 vectors.
   */
  static void scores4(
      float[] a, int aOff, int aStride, int depth, float[] bt, float[] s, int sOff) {
    FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
    FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
    FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
    FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
    int a1 = aOff + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
    for (int d = 0; d < depth; d++) {
      FloatVector k0 = FloatVector.fromArray(F, bt, d * KB);
      FloatVector k1 = FloatVector.fromArray(F, bt, d * KB + LANES);
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

  /** The largest of s[off .. off + KB) (exact in any order, so the lane order does not matter). */
  static float rowMax(float[] s, int off) {
    FloatVector m = FloatVector.fromArray(F, s, off);
    for (int j = LANES; j < KB; j += LANES) {
      m = m.max(FloatVector.fromArray(F, s, off + j));
    }
    return m.reduceLanes(VectorOperators.MAX);
  }

  /**
   * s[off + j] = exp(s[off + j] - shift) for j < KB (-inf gives 0); returns their sum, added lane
   * by lane in a fixed order.
   */
  static float expShift(float[] s, int off, float shift, float[] lanes) {
    FloatVector sum = FloatVector.zero(F);
    for (int j = 0; j < KB; j += LANES) {
      FloatVector p = CpuVectorMath.exp(FloatVector.fromArray(F, s, off + j).sub(shift));
      p.intoArray(s, off + j);
      sum = sum.add(p);
    }
    sum.intoArray(lanes, 0);
    float total = 0f;
    for (int i = 0; i < LANES; i++) {
      total += lanes[i];
    }
    return total;
  }

  /** ds[off + j] = p[off + j] * (ds[off + j] - delta) for j < KB; ds holds dP on entry. */
  static void softmaxGrad(float[] p, float[] ds, int off, float delta) {
    for (int j = 0; j < KB; j += LANES) {
      FloatVector dp = FloatVector.fromArray(F, ds, off + j);
      FloatVector.fromArray(F, p, off + j).mul(dp.sub(delta)).intoArray(ds, off + j);
    }
  }

  /** x[off .. off + width) *= c, width a whole number of vectors. */
  static void scaleRow(float[] x, int off, int width, float c) {
    for (int i = 0; i < width; i += LANES) {
      FloatVector.fromArray(F, x, off + i).mul(c).intoArray(x, off + i);
    }
  }

  /**
   * For output rows i < 2: acc[accOff + i * accStride + x] += sum over j < count of w[wOff + i * wi
   * + j * wj] * rows[rOff + j * rStride + x], x over [0, width) (whole vectors). The strides let w
   * be read transposed (P^T, dS^T) without copying it. The sum over j runs in order.
   */
  static void accumulate2(
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
      accumulate2x4(acc, accOff + x, accStride, w, wOff, wi, wj, rows, rOff + x, rStride, count);
    }
    for (; x < width; x += LANES) {
      accumulate2x1(acc, accOff + x, accStride, w, wOff, wi, wj, rows, rOff + x, rStride, count);
    }
  }

  /** accumulate2 for 4 vectors of the row width: 8 accumulators. */
  private static void accumulate2x4(
      float[] acc,
      int a0,
      int accStride,
      float[] w,
      int wOff,
      int wi,
      int wj,
      float[] rows,
      int rOff,
      int rStride,
      int count) {
    int a1 = a0 + accStride;
    FloatVector c00 = FloatVector.fromArray(F, acc, a0);
    FloatVector c01 = FloatVector.fromArray(F, acc, a0 + LANES);
    FloatVector c02 = FloatVector.fromArray(F, acc, a0 + 2 * LANES);
    FloatVector c03 = FloatVector.fromArray(F, acc, a0 + 3 * LANES);
    FloatVector c10 = FloatVector.fromArray(F, acc, a1);
    FloatVector c11 = FloatVector.fromArray(F, acc, a1 + LANES);
    FloatVector c12 = FloatVector.fromArray(F, acc, a1 + 2 * LANES);
    FloatVector c13 = FloatVector.fromArray(F, acc, a1 + 3 * LANES);
    int w1 = wOff + wi;
    for (int j = 0; j < count; j++) {
      int r = rOff + j * rStride;
      FloatVector v0 = FloatVector.fromArray(F, rows, r);
      FloatVector v1 = FloatVector.fromArray(F, rows, r + LANES);
      FloatVector v2 = FloatVector.fromArray(F, rows, r + 2 * LANES);
      FloatVector v3 = FloatVector.fromArray(F, rows, r + 3 * LANES);
      FloatVector x = FloatVector.broadcast(F, w[wOff + j * wj]);
      c00 = x.fma(v0, c00);
      c01 = x.fma(v1, c01);
      c02 = x.fma(v2, c02);
      c03 = x.fma(v3, c03);
      x = FloatVector.broadcast(F, w[w1 + j * wj]);
      c10 = x.fma(v0, c10);
      c11 = x.fma(v1, c11);
      c12 = x.fma(v2, c12);
      c13 = x.fma(v3, c13);
    }
    c00.intoArray(acc, a0);
    c01.intoArray(acc, a0 + LANES);
    c02.intoArray(acc, a0 + 2 * LANES);
    c03.intoArray(acc, a0 + 3 * LANES);
    c10.intoArray(acc, a1);
    c11.intoArray(acc, a1 + LANES);
    c12.intoArray(acc, a1 + 2 * LANES);
    c13.intoArray(acc, a1 + 3 * LANES);
  }

  /** accumulate2 for one vector of the row width. */
  private static void accumulate2x1(
      float[] acc,
      int a0,
      int accStride,
      float[] w,
      int wOff,
      int wi,
      int wj,
      float[] rows,
      int rOff,
      int rStride,
      int count) {
    int a1 = a0 + accStride;
    FloatVector c0 = FloatVector.fromArray(F, acc, a0);
    FloatVector c1 = FloatVector.fromArray(F, acc, a1);
    int w1 = wOff + wi;
    for (int j = 0; j < count; j++) {
      FloatVector v = FloatVector.fromArray(F, rows, rOff + j * rStride);
      c0 = FloatVector.broadcast(F, w[wOff + j * wj]).fma(v, c0);
      c1 = FloatVector.broadcast(F, w[w1 + j * wj]).fma(v, c1);
    }
    c0.intoArray(acc, a0);
    c1.intoArray(acc, a1);
  }
}
