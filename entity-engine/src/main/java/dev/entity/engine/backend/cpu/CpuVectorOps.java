// The only file besides the kernels' own that touches jdk.incubator.vector for elementwise work:
// full vectors over [from, to) with a scalar tail, using the platform's preferred float species.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized elementwise kernels over F32 element ranges; each matches its scalar reference in
 * {@link CpuElementwise} bit for bit (the same single rounding per element).
 */
final class CpuVectorOps {

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();
  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private CpuVectorOps() {}

  static FloatVector load(MemorySegment s, long index) {
    return FloatVector.fromMemorySegment(F, s, index * 4, ORDER);
  }

  static void store(FloatVector v, MemorySegment s, long index) {
    v.intoMemorySegment(s, index * 4, ORDER);
  }

  static long vectorEnd(long from, long to) {
    return from + (to - from) / LANES * LANES;
  }

  static void add(Tensor out, Tensor a, Tensor b, long from, long to) {
    MemorySegment o = out.data(), as = a.data(), bs = b.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      store(load(as, i).add(load(bs, i)), o, i);
    }
    for (long i = end; i < to; i++) {
      setF32(o, i, getF32(as, i) + getF32(bs, i));
    }
  }

  static void scale(Tensor x, float s, long from, long to) {
    MemorySegment xs = x.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      store(load(xs, i).mul(s), xs, i);
    }
    for (long i = end; i < to; i++) {
      setF32(xs, i, getF32(xs, i) * s);
    }
  }

  /** out += alpha x, as a multiply then an add (no FMA), to match the reference exactly. */
  static void axpy(Tensor out, Tensor x, float alpha, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      store(load(o, i).add(load(xs, i).mul(alpha)), o, i);
    }
    for (long i = end; i < to; i++) {
      setF32(o, i, getF32(o, i) + alpha * getF32(xs, i));
    }
  }
}
