// Convention: "first"/"second" are cuBLASLt's A and B slots. Our row-major product out = op(a)
// op(b)
// is cuBLASLt's column-major out^T = op(b)^T op(a)^T, so the first slot holds our b and the second
// our a; no data moves, only the reading of each buffer changes.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.tensor.Tensor;

/**
 * How one row-major {@link dev.entity.engine.backend.Backend#matmul} maps onto cuBLASLt's
 * column-major {@code D = alpha op(A) op(B) + beta C}: a row-major (r, c) buffer read column-major
 * is the (c, r) transpose with leading dimension c. A pure function of the transposes and M, N, K,
 * tested against a CPU product of the mapped column-major problem.
 *
 * @param m cuBLASLt's m (rows of D) = our N
 * @param n cuBLASLt's n (columns of D) = our M
 * @param k the shared dimension K
 * @param transFirst whether cuBLASLt transposes its A (our b)
 * @param rowsFirst rows of the first operand's layout, as stored
 * @param colsFirst columns of the first operand's layout, as stored
 * @param ldFirst its leading dimension (= rowsFirst: packed)
 * @param transSecond whether cuBLASLt transposes its B (our a)
 * @param rowsSecond rows of the second operand's layout, as stored
 * @param colsSecond its columns
 * @param ldSecond its leading dimension
 * @param ldOut leading dimension of C and D, (m, n) = (N, M) column-major
 */
record MatmulLayout(
    long m,
    long n,
    long k,
    boolean transFirst,
    long rowsFirst,
    long colsFirst,
    long ldFirst,
    boolean transSecond,
    long rowsSecond,
    long colsSecond,
    long ldSecond,
    long ldOut) {

  /** The mapping of out (M, N) = op(a) (M, K) times op(b) (K, N). */
  static MatmulLayout of(boolean transA, boolean transB, long bigM, long bigN, long bigK) {
    // our b stored (K, N), or (N, K) when transB: column-major that is (N, K) or (K, N)
    long rowsFirst = transB ? bigK : bigN;
    long colsFirst = transB ? bigN : bigK;
    // our a stored (M, K), or (K, M) when transA: column-major (K, M) or (M, K)
    long rowsSecond = transA ? bigM : bigK;
    long colsSecond = transA ? bigK : bigM;
    return new MatmulLayout(
        bigN,
        bigM,
        bigK,
        transB,
        rowsFirst,
        colsFirst,
        rowsFirst,
        transA,
        rowsSecond,
        colsSecond,
        rowsSecond,
        bigN);
  }

  /**
   * M, K, N of {@code out = op(a) op(b)}, checked against the operands' element counts (leading
   * dimensions flatten into rows; a transposed {@code a} (K, M) flattens into K).
   *
   * @return {M, K, N}
   */
  static long[] dims(Tensor out, Tensor a, Tensor b, boolean transA, boolean transB) {
    long n = out.dim(-1);
    long m = n == 0 ? 0 : out.elementCount() / n;
    long k;
    if (transA) {
      if (a.dim(-1) != m) {
        throw new IllegalArgumentException("transposed a " + a + " must end in M=" + m);
      }
      k = m == 0 ? 0 : a.elementCount() / m;
    } else {
      k = a.dim(-1);
    }
    boolean fits =
        a.elementCount() == m * k
            && b.elementCount() == k * n
            && (transB ? b.dim(-1) == k : b.dim(-1) == n);
    if (!fits) {
      throw new IllegalArgumentException(
          "matmul operands do not fit: out "
              + out
              + ", a "
              + a
              + (transA ? " (transposed)" : "")
              + ", b "
              + b
              + (transB ? " (transposed)" : ""));
    }
    return new long[] {m, k, n};
  }
}
