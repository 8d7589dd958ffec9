// Dimensions: M rows of a and out, K the contracted dimension, N columns of out (rows of b).
// Every output element is one dot product over the whole of K: LANES lane partials summed in k
// order, then the lanes summed in lane order, then the K % LANES tail in k order. Nothing depends
// on the thread count or on where the tasks are cut, so the bits are the same on any pool. (The
// lanes are summed through an array, not with reduceLanes, whose order differs between the
// interpreter and C2, nor with shuffles, which C2 boxed here.)
package dev.entity.engine.backend.cpu;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products in dot-product form, {@code out = alpha * a @ b^T (+ out)} with a (M, K) F32 and
 * b (N, K): vectors run along K, so both operands stream from memory unpacked. This is the
 * matrix-vector path (decode: a few rows against a weight in F32, BF16 or F16, bandwidth-bound),
 * where the blocked kernel would repack the whole weight for every token. BF16 and F16 weights are
 * converted a block of rows at a time into a per-thread staging buffer.
 */
final class CpuMatmulDot {

  private CpuMatmulDot() {}

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final VectorSpecies<Integer> I = F.withLanes(int.class);
  private static final VectorSpecies<Short> S =
      VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));

  /** Output tile: R rows of a by C rows of b^T, R * C = 16 accumulators. */
  static final int R = 4;

  static final int C = 4;

  /** Rows of b^T staged per block: about 8 tiles of columns, at most 32 * K floats per thread. */
  static final int COL_BLOCK = 8 * C;

  /** At most this many rows of a take the dot path for any N (decode, small batches, chunks). */
  static final long MAX_ROWS = 8;

  private static final ThreadLocal<float[]> LANE_SCRATCH =
      ThreadLocal.withInitial(() -> new float[16 * LANES]);
  private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[16]);
  private static final ThreadLocal<MemorySegment[]> STAGE =
      ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

  /**
   * Whether this product takes the dot path: a F32 and not transposed, b stored (N, K), few rows.
   * (Narrow outputs with many rows, LoRA's r columns, measured faster on the blocked kernel's
   * one-vector-wide tiles: 75 against 50 GFLOP/s per thread.)
   */
  static boolean applies(Tensor a, Tensor b, boolean transA, boolean transB, CpuMatmul.Dims d) {
    return !transA
        && transB
        && a.dtype() == DType.F32
        && d.m() > 0
        && d.m() <= MAX_ROWS
        && d.n() > 0
        && d.k() > 0;
  }

  static void run(
      WorkerPool pool,
      Tensor out,
      Tensor a,
      Tensor b,
      float alpha,
      boolean accumulate,
      CpuMatmul.Dims d) {
    long m = d.m(), k = d.k(), n = d.n();
    boolean direct = b.dtype() == DType.F32;
    // one row of a against BF16 weights (decode): widen in registers, no staging
    boolean bf16Row = m == 1 && b.dtype() == DType.BF16 && S.length() == LANES;
    long rowGroups = (m + R - 1) / R;
    long colBlocks = (n + COL_BLOCK - 1) / COL_BLOCK;
    // columns first: each task streams its own rows of b; rows split only when columns run out
    int target = 4 * pool.threads();
    long colTasks = Math.min(colBlocks, target);
    long rowTasks = Math.min(rowGroups, Math.max(1, (target + colTasks - 1) / colTasks));
    long colsPer = (colBlocks + colTasks - 1) / colTasks * COL_BLOCK;
    long rowsPer = (rowGroups + rowTasks - 1) / rowTasks * R;
    int tasks = (int) (colTasks * rowTasks);
    // a weight that fits one column block is staged once, here, and shared by every task
    MemorySegment shared = direct || bf16Row || n > COL_BLOCK ? null : stage(b, 0, (int) n, k);
    pool.run(
        tasks,
        t -> {
          long i0 = (t / colTasks) * rowsPer;
          long j0 = (t % colTasks) * colsPer;
          long i1 = Math.min(m, i0 + rowsPer);
          long j1 = Math.min(n, j0 + colsPer);
          float[] sums = SUMS.get();
          for (long jb = j0; jb < j1; jb += COL_BLOCK) {
            int cols = (int) Math.min(COL_BLOCK, j1 - jb);
            if (bf16Row) {
              for (int c = 0; c < cols; c += C) {
                int nc = Math.min(C, cols - c);
                tileOneRowBf16(a.data(), b.data(), jb + c, nc, k, sums);
                store(out.data(), sums, 0, 1, jb + c, nc, n, alpha, accumulate);
              }
              continue;
            }
            MemorySegment bt;
            long btRow0;
            if (direct || shared != null) {
              bt = direct ? b.data() : shared;
              btRow0 = jb;
            } else {
              bt = stage(b, jb, cols, k);
              btRow0 = 0;
            }
            for (long i = i0; i < i1; i += R) {
              int rows = (int) Math.min(R, i1 - i);
              for (int c = 0; c < cols; c += C) {
                int nc = Math.min(C, cols - c);
                if (rows == 1) {
                  tileOneRow(a.data(), i, bt, btRow0 + c, nc, k, sums);
                } else {
                  tile(a.data(), i, rows, bt, btRow0 + c, nc, k, sums);
                }
                store(out.data(), sums, i, rows, jb + c, nc, n, alpha, accumulate);
              }
            }
          }
        });
  }

  /** Rows [j0, j0 + cols) of b (N, K) as F32 in this thread's staging buffer (from BF16, F16). */
  static MemorySegment stage(Tensor b, long j0, int cols, long k) {
    MemorySegment[] holder = STAGE.get();
    long bytes = (long) cols * k * 4;
    if (holder[0].byteSize() < bytes) {
      holder[0] = Arena.ofAuto().allocate(Math.max(bytes, (long) COL_BLOCK * k * 4), 64);
    }
    MemorySegment st = holder[0];
    for (int c = 0; c < cols; c++) {
      convertRow(b.dtype(), b.data(), (j0 + c) * k, st, c * k, k);
    }
    return st;
  }

  /** dst[to : to+len] = src[from : from+len] as F32, src in the given float dtype. */
  static void convertRow(
      DType dtype, MemorySegment src, long from, MemorySegment dst, long to, long len) {
    long p = 0;
    switch (dtype) {
      case F32 -> MemorySegment.copy(src, from * 4, dst, to * 4, len * 4);
      case BF16 -> {
        if (S.length() == LANES) {
          for (; p + LANES <= len; p += LANES) {
            ShortVector h = ShortVector.fromMemorySegment(S, src, (from + p) * 2, ORDER);
            ((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats()
                .intoMemorySegment(dst, (to + p) * 4, ORDER);
          }
        }
        for (; p < len; p++) {
          dst.setAtIndex(
              CpuElements.F32,
              to + p,
              CpuElements.bf16ToFloat(src.getAtIndex(CpuElements.S16, from + p)));
        }
      }
      case F16 -> {
        for (; p < len; p++) {
          dst.setAtIndex(
              CpuElements.F32,
              to + p,
              Float.float16ToFloat(src.getAtIndex(CpuElements.S16, from + p)));
        }
      }
      case I32, U8 -> throw new IllegalArgumentException("not a float dtype: " + dtype);
    }
  }

  /**
   * sums[r * C + c] = dot(a row i0 + r, bt row j0 + c) over K, for r < rows, c < cols; missing rows
   * and columns repeat the last one (computed, never stored). Kept free of calls in the loop so
   * that C2 holds all 16 accumulators in registers.
   */
  static void tile(
      MemorySegment a,
      long i0,
      int rows,
      MemorySegment bt,
      long j0,
      int cols,
      long k,
      float[] sums) {
    long ra0 = i0 * k * 4, ra1 = (i0 + Math.min(1, rows - 1)) * k * 4;
    long ra2 = (i0 + Math.min(2, rows - 1)) * k * 4, ra3 = (i0 + Math.min(3, rows - 1)) * k * 4;
    long rb0 = j0 * k * 4, rb1 = (j0 + Math.min(1, cols - 1)) * k * 4;
    long rb2 = (j0 + Math.min(2, cols - 1)) * k * 4, rb3 = (j0 + Math.min(3, cols - 1)) * k * 4;
    FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
    FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    // an int loop: C2 keeps vectors in registers across int counted loops, not long ones
    int kv = (int) (k / LANES * LANES);
    for (int p = 0; p < kv; p += LANES) {
      long o = p * 4L;
      FloatVector x0 = FloatVector.fromMemorySegment(F, a, ra0 + o, ORDER);
      FloatVector x1 = FloatVector.fromMemorySegment(F, a, ra1 + o, ORDER);
      FloatVector x2 = FloatVector.fromMemorySegment(F, a, ra2 + o, ORDER);
      FloatVector x3 = FloatVector.fromMemorySegment(F, a, ra3 + o, ORDER);
      FloatVector y = FloatVector.fromMemorySegment(F, bt, rb0 + o, ORDER);
      c00 = x0.fma(y, c00);
      c10 = x1.fma(y, c10);
      c20 = x2.fma(y, c20);
      c30 = x3.fma(y, c30);
      y = FloatVector.fromMemorySegment(F, bt, rb1 + o, ORDER);
      c01 = x0.fma(y, c01);
      c11 = x1.fma(y, c11);
      c21 = x2.fma(y, c21);
      c31 = x3.fma(y, c31);
      y = FloatVector.fromMemorySegment(F, bt, rb2 + o, ORDER);
      c02 = x0.fma(y, c02);
      c12 = x1.fma(y, c12);
      c22 = x2.fma(y, c22);
      c32 = x3.fma(y, c32);
      y = FloatVector.fromMemorySegment(F, bt, rb3 + o, ORDER);
      c03 = x0.fma(y, c03);
      c13 = x1.fma(y, c13);
      c23 = x2.fma(y, c23);
      c33 = x3.fma(y, c33);
    }
    float[] lanes = LANE_SCRATCH.get();
    c00.intoArray(lanes, 0);
    c01.intoArray(lanes, LANES);
    c02.intoArray(lanes, 2 * LANES);
    c03.intoArray(lanes, 3 * LANES);
    c10.intoArray(lanes, 4 * LANES);
    c11.intoArray(lanes, 5 * LANES);
    c12.intoArray(lanes, 6 * LANES);
    c13.intoArray(lanes, 7 * LANES);
    c20.intoArray(lanes, 8 * LANES);
    c21.intoArray(lanes, 9 * LANES);
    c22.intoArray(lanes, 10 * LANES);
    c23.intoArray(lanes, 11 * LANES);
    c30.intoArray(lanes, 12 * LANES);
    c31.intoArray(lanes, 13 * LANES);
    c32.intoArray(lanes, 14 * LANES);
    c33.intoArray(lanes, 15 * LANES);
    for (int q = 0; q < 16; q++) {
      sums[q] = laneSum(lanes, q);
    }
    if (kv < k) {
      long[] ra = {ra0, ra1, ra2, ra3};
      long[] rb = {rb0, rb1, rb2, rb3};
      for (int q = 0; q < 16; q++) {
        float tail = 0f;
        for (long o = kv * 4L; o < k * 4; o += 4) {
          tail += a.get(CpuElements.F32, ra[q / C] + o) * bt.get(CpuElements.F32, rb[q % C] + o);
        }
        sums[q] += tail;
      }
    }
  }

  /**
   * {@link #tile} for a single row of a (decode): the same products in the same order, so the same
   * bits, without the three repeated rows' loads and FMAs. sums[c] for c < cols.
   */
  static void tileOneRow(
      MemorySegment a, long i0, MemorySegment bt, long j0, int cols, long k, float[] sums) {
    long ra = i0 * k * 4;
    long rb0 = j0 * k * 4, rb1 = (j0 + Math.min(1, cols - 1)) * k * 4;
    long rb2 = (j0 + Math.min(2, cols - 1)) * k * 4, rb3 = (j0 + Math.min(3, cols - 1)) * k * 4;
    FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
    int kv = (int) (k / LANES * LANES);
    for (int p = 0; p < kv; p += LANES) {
      long o = p * 4L;
      FloatVector x = FloatVector.fromMemorySegment(F, a, ra + o, ORDER);
      c0 = x.fma(FloatVector.fromMemorySegment(F, bt, rb0 + o, ORDER), c0);
      c1 = x.fma(FloatVector.fromMemorySegment(F, bt, rb1 + o, ORDER), c1);
      c2 = x.fma(FloatVector.fromMemorySegment(F, bt, rb2 + o, ORDER), c2);
      c3 = x.fma(FloatVector.fromMemorySegment(F, bt, rb3 + o, ORDER), c3);
    }
    float[] lanes = LANE_SCRATCH.get();
    c0.intoArray(lanes, 0);
    c1.intoArray(lanes, LANES);
    c2.intoArray(lanes, 2 * LANES);
    c3.intoArray(lanes, 3 * LANES);
    for (int q = 0; q < C; q++) {
      float s = laneSum(lanes, q);
      float tail = 0f;
      long rb = (j0 + Math.min(q, cols - 1)) * k * 4; // no array: this runs once per 4 columns
      for (long o = kv * 4L; o < k * 4; o += 4) {
        tail += a.get(CpuElements.F32, ra + o) * bt.get(CpuElements.F32, rb + o);
      }
      sums[q] = s + tail;
    }
  }

  /**
   * {@link #tileOneRow} reading b (N, K) in BF16 and widening each vector in registers (BF16 to F32
   * is exact, so the products and their order, and so the bits, are those of the staged path).
   */
  static void tileOneRowBf16(
      MemorySegment a, MemorySegment b, long j0, int cols, long k, float[] sums) {
    long rb0 = j0 * k * 2, rb1 = (j0 + Math.min(1, cols - 1)) * k * 2;
    long rb2 = (j0 + Math.min(2, cols - 1)) * k * 2, rb3 = (j0 + Math.min(3, cols - 1)) * k * 2;
    FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
    int kv = (int) (k / LANES * LANES);
    for (int p = 0; p < kv; p += LANES) {
      FloatVector x = FloatVector.fromMemorySegment(F, a, p * 4L, ORDER);
      long o = p * 2L;
      c0 = x.fma(widen(b, rb0 + o), c0);
      c1 = x.fma(widen(b, rb1 + o), c1);
      c2 = x.fma(widen(b, rb2 + o), c2);
      c3 = x.fma(widen(b, rb3 + o), c3);
    }
    float[] lanes = LANE_SCRATCH.get();
    c0.intoArray(lanes, 0);
    c1.intoArray(lanes, LANES);
    c2.intoArray(lanes, 2 * LANES);
    c3.intoArray(lanes, 3 * LANES);
    for (int q = 0; q < C; q++) {
      float s = laneSum(lanes, q);
      float tail = 0f;
      long rb = (j0 + Math.min(q, cols - 1)) * k * 2;
      for (long p = kv; p < k; p++) {
        tail +=
            a.getAtIndex(CpuElements.F32, p)
                * CpuElements.bf16ToFloat(b.get(CpuElements.S16, rb + p * 2));
      }
      sums[q] = s + tail;
    }
  }

  /** LANES BF16 values at byte offset {@code at}, as F32. */
  private static FloatVector widen(MemorySegment b, long at) {
    ShortVector h = ShortVector.fromMemorySegment(S, b, at, ORDER);
    return ((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
        .lanewise(VectorOperators.LSHL, 16)
        .reinterpretAsFloats();
  }

  /** The lanes of accumulator q (stored at q * LANES), added left to right: a fixed order. */
  private static float laneSum(float[] lanes, int q) {
    float s = 0f;
    for (int l = q * LANES; l < (q + 1) * LANES; l++) {
      s += lanes[l];
    }
    return s;
  }

  /** out[i0 + r, j0 + c] = alpha * sums (+ out when accumulating), the multiply before the add. */
  private static void store(
      MemorySegment o,
      float[] sums,
      long i0,
      int rows,
      long j0,
      int cols,
      long n,
      float alpha,
      boolean accumulate) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        long at = (i0 + r) * n + j0 + c;
        float v = alpha * sums[r * C + c];
        CpuElements.setF32(o, at, accumulate ? CpuElements.getF32(o, at) + v : v);
      }
    }
  }
}
