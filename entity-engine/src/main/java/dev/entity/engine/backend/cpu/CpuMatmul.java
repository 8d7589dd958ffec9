// Dimensions: M rows of op(a) and out, K the contracted dimension, N columns of op(b) and out.
// Every operand is row-major; transA means a is stored (K, M), transB that b is stored (N, K).
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.read;

import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products {@code out = alpha * op(a) @ op(b) (+ out)} on the host: the scalar reference and
 * the blocked, packed, vectorized kernel, which is tested against it. {@link #fast} routes products
 * with few rows against a weight stored (N, K) to {@link CpuMatmulDot} and everything else to the
 * blocked kernel.
 */
final class CpuMatmul {

  private CpuMatmul() {}

  /** M, K, N of one product, derived from the operands and checked. */
  record Dims(long m, long k, long n) {

    static Dims of(Tensor out, Tensor a, Tensor b, boolean transA, boolean transB) {
      OperandChecks.requireF32(out);
      OperandChecks.requireFloat(a);
      OperandChecks.requireFloat(b);
      long n = out.dim(-1);
      long m = n == 0 ? 0 : out.elementCount() / n;
      long aInner = a.dim(-1);
      long bInner = b.dim(-1);
      long k;
      if (transA) {
        // a (K, M): leading dims flatten into K
        if (aInner != m) {
          throw new IllegalArgumentException(
              "transposed a must end in M=" + m + ": a=" + a + " out=" + out);
        }
        k = m == 0 ? 0 : a.elementCount() / m;
      } else {
        k = aInner;
        OperandChecks.requireCount(a, m * k, "a (M=" + m + ", K=" + k + ")");
      }
      if (transB ? bInner != k : bInner != n) {
        throw new IllegalArgumentException(
            "b " + b + " does not fit op(a) (" + m + ", " + k + ") and out " + out);
      }
      OperandChecks.requireCount(b, k * n, "b (K=" + k + ", N=" + n + ")");
      if (transA) {
        OperandChecks.requireCount(a, k * m, "a (K=" + k + ", M=" + m + ")");
      }
      return new Dims(m, k, n);
    }
  }

  /**
   * A low-rank term added to a product as its tiles are stored: scale h op(w), h (M, R), w (R, N)
   * or (N, R) when transW, masked as dropout with probability p and this seed masks an (M, N)
   * tensor when p > 0. See {@link dev.entity.engine.backend.Backend#matmulPlusLowRank}.
   */
  record LowRank(Tensor h, Tensor w, boolean transW, float scale, float p, long seed) {

    int rank() {
      return (int) h.dim(-1);
    }
  }

  /** Ranks up to this are fused into the product's stores; higher ones run as a second product. */
  static final int MAX_FUSED_RANK = 64;

  /**
   * Whether the blocked kernel adds this low-rank term in its stores: F32 operands, an output wider
   * than one vector, h (M, R) and w shaped for it, R at most {@link #MAX_FUSED_RANK}.
   */
  static boolean fusesLowRank(
      Tensor out, Tensor a, Tensor b, Tensor h, Tensor w, boolean transW, Dims d) {
    long r = h.dim(-1);
    return out.dtype() == DType.F32
        && a.dtype() == DType.F32
        && b.dtype() == DType.F32
        && h.dtype() == DType.F32
        && w.dtype() == DType.F32
        && d.n() > LANES
        && r > 0
        && r <= MAX_FUSED_RANK
        && h.elementCount() == d.m() * r
        && w.elementCount() == r * d.n()
        && w.dim(-1) == (transW ? r : d.n());
  }

  /** The reference: one dot product per output element, summed in order of k, in F32. */
  static void scalar(
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transA,
      boolean transB,
      float alpha,
      boolean accumulate,
      Dims d) {
    MemorySegment o = out.data();
    long m = d.m(), k = d.k(), n = d.n();
    for (long i = 0; i < m; i++) {
      for (long j = 0; j < n; j++) {
        float acc = 0f;
        for (long p = 0; p < k; p++) {
          float av = read(a, transA ? p * m + i : i * k + p);
          float bv = read(b, transB ? j * k + p : p * n + j);
          acc += av * bv;
        }
        long oi = i * n + j;
        float v = alpha * acc;
        CpuElements.setF32(o, oi, accumulate ? CpuElements.getF32(o, oi) + v : v);
      }
    }
  }

  // ---- the blocked kernel ----------------------------------------------------------------------
  //
  // BLIS loop order: for each block of NC columns, for each K block (in order), pack op(b)[K block,
  // column block] into slivers of NR = 2 vectors, then split the block's output into tasks of (MC
  // rows, a run of slivers); each task packs its A rows into slivers of MR and runs the MR x NR
  // register-tiled FMA micro-kernel. Work is split over output elements only, never over K, so
  // every
  // output element sees the same additions in the same order whatever the thread count.
  // Measured on AVX-512 (Zen 4): K blocks as deep as possible win (each extra pass re-reads and
  // re-writes the output), up to KC_MAX; 60-row A blocks keep a task's A in L2.

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();
  private static final VectorSpecies<Integer> I = F.withLanes(int.class);
  private static final VectorSpecies<Short> H =
      VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 2)));
  static final int MR = 6;
  static final int NR = 2 * LANES;
  static final int KC_MAX = 1536;
  static final int NARROW_MR = 12;
  static final int MC = 10 * MR; // a multiple of MR and of NARROW_MR
  static final int NC = 96 * NR;
  static final int SHALLOW_K = 64;

  private static final ThreadLocal<float[]> A_PACK =
      ThreadLocal.withInitial(() -> new float[MC * KC_MAX]);
  private static final ThreadLocal<float[]> B_PACK = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> TILE =
      ThreadLocal.withInitial(() -> new float[Math.max(MR * NR, NARROW_MR * LANES)]);
  private static final ThreadLocal<float[]> RUN = ThreadLocal.withInitial(() -> new float[KC_MAX]);
  private static final ThreadLocal<float[]> W_PACK = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> H_PACK = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> TERM_TILE =
      ThreadLocal.withInitial(() -> new float[MR * NR]);

  /** This thread's array from {@code local}, grown to at least {@code length} floats. */
  private static float[] grown(ThreadLocal<float[]> local, int length) {
    float[] b = local.get();
    if (b.length < length) {
      b = new float[length];
      local.set(b);
    }
    return b;
  }

  /** The optimized product: the dot-product form where it applies, else the blocked kernel. */
  static void fast(
      WorkerPool pool,
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transA,
      boolean transB,
      float alpha,
      boolean accumulate,
      Dims d) {
    if (CpuMatmulDot.applies(a, b, transA, transB, d)) {
      CpuMatmulDot.run(pool, out, a, b, alpha, accumulate, d);
    } else {
      blocked(pool, out, a, b, transA, transB, alpha, accumulate, d, null);
    }
  }

  /**
   * The blocked product with a low-rank term added at the stores of the last K pass (lowRank may be
   * null). The term's tile is the same 6-row kernel over K = R on packed h and w, so the result has
   * the bits of the product followed by the term's own product, dropout and add.
   */
  static void blocked(
      WorkerPool pool,
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transA,
      boolean transB,
      float alpha,
      boolean accumulate,
      Dims d,
      LowRank lowRank) {
    long m = d.m(), k = d.k(), n = d.n();
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      if (!accumulate) {
        out.data().fill((byte) 0);
      }
      return;
    }
    long passes = (k + KC_MAX - 1) / KC_MAX;
    int kcBlock = (int) ((k + passes - 1) / passes);
    float[] packedB = grown(B_PACK, NC * kcBlock);
    // one-vector-wide outputs (LoRA's r = 8..16 columns) take the 12 x 1-vector kernel, which
    // wastes no lanes on padding and reads the F32 left operand without packing it
    boolean direct = n <= LANES && a.dtype() == DType.F32;
    if (lowRank != null && direct) {
      throw new IllegalArgumentException("a low-rank term needs an output wider than one vector");
    }
    int rank = lowRank == null ? 0 : lowRank.rank();
    float[] packedW = lowRank == null ? null : grown(W_PACK, rank * NC);
    float keep = lowRank == null ? 1f : 1f / (1f - lowRank.p());
    int tileRows = direct ? NARROW_MR : MR;
    int tileCols = direct ? LANES : NR;
    int rowBlocks = (int) ((m + MC - 1) / MC);
    for (long jc = 0; jc < n; jc += NC) {
      long j1 = Math.min(n, jc + NC);
      int slivers = (int) ((j1 - jc + tileCols - 1) / tileCols);
      int chunks = Math.max(1, Math.min(slivers, (2 * pool.threads() + rowBlocks - 1) / rowBlocks));
      int perChunk = (slivers + chunks - 1) / chunks;
      int taskChunks = (slivers + perChunk - 1) / perChunk;
      long jBlock = jc;
      for (long pc = 0; pc < k; pc += kcBlock) {
        int kc = (int) Math.min(kcBlock, k - pc);
        long p0 = pc;
        boolean load = accumulate || pc > 0;
        boolean last = pc + kc == k;
        pool.run(
            slivers,
            s -> {
              packB(packedB, s, tileCols, b, transB, p0, kc, k, jBlock, j1);
              if (rank > 0 && last) {
                packB(
                    packedW, s, tileCols, lowRank.w(), lowRank.transW(), 0, rank, rank, jBlock, j1);
              }
            });
        pool.run(
            rowBlocks * taskChunks,
            task -> {
              long i0 = (long) (task / taskChunks) * MC;
              int mc = (int) Math.min(MC, m - i0);
              int s0 = (task % taskChunks) * perChunk;
              int s1 = Math.min(slivers, s0 + perChunk);
              float[] ap = A_PACK.get();
              float[] tile = TILE.get();
              if (direct) {
                // F32 activations feed the narrow kernel straight from memory: packing them would
                // cost as much as the product itself when N is one vector wide
                for (int ir = 0; ir < mc; ir += NARROW_MR) {
                  int rows = Math.min(NARROW_MR, mc - ir);
                  microKernelNarrowDirect(
                      a.data(), transA, i0 + ir, rows, m, k, p0, packedB, kc, tile);
                  storeTile(
                      tile, LANES, out.data(), i0 + ir, jBlock, rows, (int) n, n, alpha, load);
                }
                return;
              }
              packA(ap, tileRows, a, transA, i0, mc, p0, kc, m, k);
              float[] hp = null;
              float[] termTile = null;
              if (rank > 0 && last) {
                hp = grown(H_PACK, MC * rank);
                packA(hp, tileRows, lowRank.h(), false, i0, mc, 0, rank, m, rank);
                termTile = TERM_TILE.get();
              }
              // Shallow products (LoRA's K = r) are bound by the output's memory traffic: walk it
              // row tile by row tile, along the rows, where the prefetcher follows. Deep ones keep
              // a B sliver hot across the row tiles instead.
              boolean alongRows = kc <= SHALLOW_K;
              int outer = alongRows ? (mc + tileRows - 1) / tileRows : s1 - s0;
              int inner = alongRows ? s1 - s0 : (mc + tileRows - 1) / tileRows;
              for (int x = 0; x < outer; x++) {
                for (int y = 0; y < inner; y++) {
                  int s = s0 + (alongRows ? y : x);
                  int ir = (alongRows ? x : y) * tileRows;
                  long j0 = jBlock + (long) s * tileCols;
                  int nr = (int) Math.min(tileCols, j1 - j0);
                  microKernel(ap, ir * kc, packedB, s * tileCols * kc, kc, tile);
                  int rows = Math.min(tileRows, mc - ir);
                  storeTile(tile, tileCols, out.data(), i0 + ir, j0, rows, nr, n, alpha, load);
                  if (termTile != null) {
                    microKernel(hp, ir * rank, packedW, s * tileCols * rank, rank, termTile);
                    addTerm(termTile, out.data(), i0 + ir, j0, rows, nr, n, lowRank, keep);
                  }
                }
              }
            });
      }
    }
  }

  /**
   * Copies {@code len} elements of a float tensor starting at {@code offset} into dst as F32, BF16
   * widened a vector at a time. (F32 runs use the bulk copy: measured faster here than vector loads
   * and stores, even for runs of 6.)
   */
  static void readRun(Tensor t, long offset, float[] dst, int dstOff, int len) {
    MemorySegment s = t.data();
    int i = 0;
    switch (t.dtype()) {
      case F32 -> MemorySegment.copy(s, CpuElements.F32, offset * 4, dst, dstOff, len);
      case BF16 -> {
        if (H.length() == LANES) {
          for (; i + LANES <= len; i += LANES) {
            ShortVector h =
                ShortVector.fromMemorySegment(H, s, (offset + i) * 2, ByteOrder.nativeOrder());
            ((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats()
                .intoArray(dst, dstOff + i);
          }
        }
        for (; i < len; i++) {
          dst[dstOff + i] = CpuElements.bf16ToFloat(s.getAtIndex(CpuElements.S16, offset + i));
        }
      }
      case F16 -> {
        for (; i < len; i++) {
          dst[dstOff + i] = Float.float16ToFloat(s.getAtIndex(CpuElements.S16, offset + i));
        }
      }
      case I32, U8 -> throw new IllegalArgumentException("not a float tensor: " + t);
    }
  }

  /**
   * Sliver s of op(b)[p0 : p0+kc, jc : j1] as kc rows of width floats (zero beyond j1); n is the
   * row length of b when it is not transposed.
   */
  static void packB(
      float[] bp,
      int s,
      int width,
      Tensor b,
      boolean transB,
      long p0,
      int kc,
      long k,
      long jc,
      long j1) {
    long n = transB ? 0 : b.dim(-1);
    long j0 = jc + (long) s * width;
    int nr = (int) Math.min(width, j1 - j0);
    int base = s * width * kc;
    if (!transB) {
      // b (K, N): each k is a contiguous run of nr columns
      for (int p = 0; p < kc; p++) {
        readRun(b, (p0 + p) * n + j0, bp, base + p * width, nr);
        java.util.Arrays.fill(bp, base + p * width + nr, base + (p + 1) * width, 0f);
      }
    } else {
      // b (N, K): each column is a contiguous run of kc values (copying all the runs first and
      // writing the sliver k by k measured 15% slower on the lm_head)
      float[] run = RUN.get();
      for (int c = 0; c < width; c++) {
        if (c < nr) {
          readRun(b, (j0 + c) * k + p0, run, 0, kc);
          for (int p = 0; p < kc; p++) {
            bp[base + p * width + c] = run[p];
          }
        } else {
          for (int p = 0; p < kc; p++) {
            bp[base + p * width + c] = 0f;
          }
        }
      }
    }
  }

  /** op(a)[i0 : i0+mc, p0 : p0+kc] as slivers of height rows, each kc columns of height floats. */
  static void packA(
      float[] ap,
      int height,
      Tensor a,
      boolean transA,
      long i0,
      int mc,
      long p0,
      int kc,
      long m,
      long k) {
    for (int ir = 0; ir < mc; ir += height) {
      int mr = Math.min(height, mc - ir);
      int base = ir * kc;
      if (transA) {
        // a (K, M): each k is a contiguous run of mr rows
        for (int p = 0; p < kc; p++) {
          readRun(a, (p0 + p) * m + i0 + ir, ap, base + p * height, mr);
          for (int r = mr; r < height; r++) {
            ap[base + p * height + r] = 0f;
          }
        }
      } else {
        float[] run = RUN.get();
        for (int r = 0; r < height; r++) {
          if (r < mr) {
            readRun(a, (i0 + ir + r) * k + p0, run, 0, kc);
            for (int p = 0; p < kc; p++) {
              ap[base + p * height + r] = run[p];
            }
          } else {
            for (int p = 0; p < kc; p++) {
              ap[base + p * height + r] = 0f;
            }
          }
        }
      }
    }
  }

  /**
   * tile (MR, NR) = A sliver @ B sliver, with 2 MR accumulators of one vector each held in
   * registers over the whole kc loop. Kept small and free of calls so that C2 keeps every vector in
   * a register (a vector passed to a method that is not inlined gets boxed).
   */
  static void microKernel(float[] ap, int aOff, float[] bp, int bOff, int kc, float[] tile) {
    FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
    FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
    FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
    FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
    FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
    FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
    for (int p = 0; p < kc; p++) {
      int bi = bOff + p * NR;
      FloatVector b0 = FloatVector.fromArray(F, bp, bi);
      FloatVector b1 = FloatVector.fromArray(F, bp, bi + LANES);
      int ai = aOff + p * MR;
      FloatVector x = FloatVector.broadcast(F, ap[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(F, ap[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(F, ap[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(F, ap[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(F, ap[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(F, ap[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
    }
    c00.intoArray(tile, 0);
    c01.intoArray(tile, LANES);
    c10.intoArray(tile, NR);
    c11.intoArray(tile, NR + LANES);
    c20.intoArray(tile, 2 * NR);
    c21.intoArray(tile, 2 * NR + LANES);
    c30.intoArray(tile, 3 * NR);
    c31.intoArray(tile, 3 * NR + LANES);
    c40.intoArray(tile, 4 * NR);
    c41.intoArray(tile, 4 * NR + LANES);
    c50.intoArray(tile, 5 * NR);
    c51.intoArray(tile, 5 * NR + LANES);
  }

  /**
   * tile (12, LANES) = op(a)[i0 : i0+rows, p0 : p0+kc] @ the single packed B sliver, reading a F32
   * straight from its segment (rows past {@code rows} repeat the last row; their results are not
   * stored).
   */
  static void microKernelNarrowDirect(
      MemorySegment a,
      boolean transA,
      long i0,
      int rows,
      long m,
      long k,
      long p0,
      float[] bp,
      int kc,
      float[] tile) {
    long rowStep = transA ? 1 : k;
    long pStep = transA ? m : 1;
    long[] base = new long[NARROW_MR];
    for (int r = 0; r < NARROW_MR; r++) {
      base[r] = (i0 + Math.min(r, rows - 1)) * rowStep + p0 * pStep;
    }
    long a0 = base[0], a1 = base[1], a2 = base[2], a3 = base[3], a4 = base[4], a5 = base[5];
    long a6 = base[6], a7 = base[7], a8 = base[8], a9 = base[9], a10 = base[10], a11 = base[11];
    FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F);
    FloatVector c3 = FloatVector.zero(F), c4 = FloatVector.zero(F), c5 = FloatVector.zero(F);
    FloatVector c6 = FloatVector.zero(F), c7 = FloatVector.zero(F), c8 = FloatVector.zero(F);
    FloatVector c9 = FloatVector.zero(F), c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
    for (int p = 0; p < kc; p++) {
      FloatVector b0 = FloatVector.fromArray(F, bp, p * LANES);
      long o = p * pStep;
      c0 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a0 + o)).fma(b0, c0);
      c1 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a1 + o)).fma(b0, c1);
      c2 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a2 + o)).fma(b0, c2);
      c3 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a3 + o)).fma(b0, c3);
      c4 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a4 + o)).fma(b0, c4);
      c5 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a5 + o)).fma(b0, c5);
      c6 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a6 + o)).fma(b0, c6);
      c7 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a7 + o)).fma(b0, c7);
      c8 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a8 + o)).fma(b0, c8);
      c9 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a9 + o)).fma(b0, c9);
      c10 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a10 + o)).fma(b0, c10);
      c11 = FloatVector.broadcast(F, a.getAtIndex(CpuElements.F32, a11 + o)).fma(b0, c11);
    }
    c0.intoArray(tile, 0);
    c1.intoArray(tile, LANES);
    c2.intoArray(tile, 2 * LANES);
    c3.intoArray(tile, 3 * LANES);
    c4.intoArray(tile, 4 * LANES);
    c5.intoArray(tile, 5 * LANES);
    c6.intoArray(tile, 6 * LANES);
    c7.intoArray(tile, 7 * LANES);
    c8.intoArray(tile, 8 * LANES);
    c9.intoArray(tile, 9 * LANES);
    c10.intoArray(tile, 10 * LANES);
    c11.intoArray(tile, 11 * LANES);
  }

  /**
   * out[i0 : i0+mr, j0 : j0+nr] += the term's tile times its scale, masked by its dropout where p >
   * 0: element (i, j) kept as the dropout kernel keeps element i * n + j, scaled by {@code keep}.
   * The same operations, in the same order, as that product's store, the dropout and the add.
   */
  static void addTerm(
      float[] term,
      MemorySegment c,
      long i0,
      long j0,
      int mr,
      int nr,
      long n,
      LowRank lowRank,
      float keep) {
    float scale = lowRank.scale(), p = lowRank.p();
    long seed = lowRank.seed();
    for (int r = 0; r < mr; r++) {
      long row = (i0 + r) * n + j0;
      int j = 0;
      for (; j + LANES <= nr && !CpuVectorOps.straddles(row + j); j += LANES) {
        FloatVector v = FloatVector.fromArray(F, term, r * NR + j).mul(scale);
        if (p > 0f) {
          v = CpuVectorOps.dropped(v, row + j, p, keep, seed);
        }
        long at = (row + j) * 4;
        FloatVector.fromMemorySegment(F, c, at, ByteOrder.nativeOrder())
            .add(v)
            .intoMemorySegment(c, at, ByteOrder.nativeOrder());
      }
      for (; j < nr; j++) {
        float v = scale * term[r * NR + j];
        if (p > 0f) {
          v = CpuElementwise.dropoutUniform(seed, row + j) >= p ? v * keep : 0f;
        }
        CpuElements.setF32(c, row + j, CpuElements.getF32(c, row + j) + v);
      }
    }
  }

  /** out[i0 : i0+mr, j0 : j0+nr] = alpha * tile (+ out when load), the multiply before the add. */
  static void storeTile(
      float[] tile,
      int width,
      MemorySegment c,
      long i0,
      long j0,
      int mr,
      int nr,
      long n,
      float alpha,
      boolean load) {
    for (int r = 0; r < mr; r++) {
      long row = (i0 + r) * n + j0;
      int j = 0;
      for (; j + LANES <= nr; j += LANES) {
        FloatVector v = FloatVector.fromArray(F, tile, r * width + j).mul(alpha);
        long at = (row + j) * 4;
        if (load) {
          v = FloatVector.fromMemorySegment(F, c, at, ByteOrder.nativeOrder()).add(v);
        }
        v.intoMemorySegment(c, at, ByteOrder.nativeOrder());
      }
      for (; j < nr; j++) {
        float v = alpha * tile[r * width + j];
        CpuElements.setF32(c, row + j, load ? CpuElements.getF32(c, row + j) + v : v);
      }
    }
  }
}
