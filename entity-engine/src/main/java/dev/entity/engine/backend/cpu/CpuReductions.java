// Fixed-order sums: the input is cut into CHUNK-element pieces whose boundaries do not depend on
// the
// thread count; each piece is summed on its own, then the partial sums are added in piece order.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

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
}
