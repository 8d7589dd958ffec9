// Fixed-order sums: the input is cut into CHUNK-element pieces whose boundaries do not depend on
// the
// thread count; each piece is summed on its own, then the partial sums are added in piece order.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/** Sum and sum of squares of an F32 tensor, in double, in a fixed order. */
final class CpuReductions {

  /** Elements per partial sum; a constant so that the result is the same for any thread count. */
  static final long CHUNK = 1L << 15;

  private CpuReductions() {}

  /** The reference: one double accumulator, elements in order. */
  static double sumScalar(Tensor x, boolean squares, long from, long to) {
    MemorySegment xs = x.data();
    double acc = 0;
    for (long i = from; i < to; i++) {
      double v = getF32(xs, i);
      acc += squares ? v * v : v;
    }
    return acc;
  }

  /**
   * The fast path: CHUNK-element pieces in parallel, each summed in F32 vector lanes and then in
   * lane order, the piece sums added in double in piece order. The result depends only on the data.
   */
  static double sumChunked(WorkerPool pool, Tensor x, boolean squares) {
    long n = x.elementCount();
    int pieces = (int) ((n + CHUNK - 1) / CHUNK);
    double[] partial = new double[pieces];
    MemorySegment xs = x.data();
    pool.run(
        pieces,
        piece -> {
          long from = piece * CHUNK, to = Math.min(n, from + CHUNK);
          long end = CpuVectorOps.vectorEnd(from, to);
          float[][] b = HostChunks.local();
          float[] acc = b[1];
          java.util.Arrays.fill(acc, 0, CpuVectorOps.LANES, 0f);
          for (long c = from; c < end; c += HostChunks.CHUNK) {
            int m = (int) Math.min(HostChunks.CHUNK, end - c);
            HostChunks.load(b[0], xs, c, m);
            accumulate(acc, b[0], m, squares);
          }
          float s = 0f; // the lanes in order
          for (int l = 0; l < CpuVectorOps.LANES; l++) {
            s += acc[l];
          }
          partial[piece] = s + sumScalar(x, squares, end, to);
        });
    double total = 0;
    for (double p : partial) {
      total += p;
    }
    return total;
  }

  /**
   * acc (one vector of lanes) += x, or x squared, over [0, n), in order (heap copies: HostChunks).
   */
  private static void accumulate(float[] acc, float[] x, int n, boolean squares) {
    FloatVector a = FloatVector.fromArray(CpuVectorMath.F, acc, 0);
    for (int i = 0; i < n; i += CpuVectorOps.LANES) {
      FloatVector v = FloatVector.fromArray(CpuVectorMath.F, x, i);
      a = squares ? v.fma(v, a) : a.add(v);
    }
    a.intoArray(acc, 0);
  }
}
