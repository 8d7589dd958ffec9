// Why heap copies: a vector loop that reads a MemorySegment gets its bounds checks hoisted by C2
// on speculative (profiled) loop predicates; in training, where sizes and offsets vary from call to
// call, those predicates keep failing, the method is deoptimized and recompiled again and again,
// and between compilations every vector operation allocates. Loops over int-indexed arrays have
// exact bounds-check elimination and stay compiled, so the hot elementwise kernels copy a chunk
// in with one bulk copy, compute on arrays, and copy the results out.
package dev.entity.engine.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Per-thread heap buffers of {@link #CHUNK} floats that the elementwise kernels use as working
 * copies of segment ranges. Buffer i of a thread is reused by every kernel; a kernel must not call
 * another kernel that uses the same buffers while it holds them.
 */
final class HostChunks {

  /** Floats per buffer: 8 buffers of 2 KiB fit in L1 together. */
  static final int CHUNK = 512;

  private static final int BUFFERS = 8;

  private static final ThreadLocal<float[][]> LOCAL =
      ThreadLocal.withInitial(() -> new float[BUFFERS][CHUNK]);

  private HostChunks() {}

  /** This thread's buffers. */
  static float[][] local() {
    return LOCAL.get();
  }

  /** dst[0 .. n) = the F32 elements [from, from + n) of src. */
  static void load(float[] dst, MemorySegment src, long from, int n) {
    MemorySegment.copy(src, CpuElements.F32, from * 4, dst, 0, n);
  }

  /** The F32 elements [from, from + n) of dst = src[0 .. n). */
  static void store(float[] src, MemorySegment dst, long from, int n) {
    MemorySegment.copy(src, 0, dst, CpuElements.F32, from * 4, n);
  }
}
