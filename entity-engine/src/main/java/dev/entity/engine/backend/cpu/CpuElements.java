// Every element access goes through the *_UNALIGNED layouts: tensors carved from memory-mapped
// files
// are only aligned to their own element size, and the unaligned layouts cost nothing on x86/ARM.
package dev.entity.engine.backend.cpu;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar reads and writes of host tensor elements, with the F32/BF16/F16 conversions (round to
 * nearest even), plus the argument checks every CPU kernel shares.
 */
final class CpuElements {

  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  static final ValueLayout.OfShort S16 = ValueLayout.JAVA_SHORT_UNALIGNED;
  static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

  private CpuElements() {}

  static float getF32(MemorySegment s, long i) {
    return s.getAtIndex(F32, i);
  }

  static void setF32(MemorySegment s, long i, float v) {
    s.setAtIndex(F32, i, v);
  }

  static int getI32(MemorySegment s, long i) {
    return s.getAtIndex(I32, i);
  }

  /** Element {@code i} of a float tensor of any floating dtype, as F32. */
  static float read(Tensor t, long i) {
    MemorySegment s = t.data();
    return switch (t.dtype()) {
      case F32 -> s.getAtIndex(F32, i);
      case BF16 -> bf16ToFloat(s.getAtIndex(S16, i));
      case F16 -> Float.float16ToFloat(s.getAtIndex(S16, i));
      case I32, U8 -> throw new IllegalArgumentException("not a float tensor: " + t);
    };
  }

  /** Stores {@code v} into element {@code i}, rounding to the tensor's floating dtype. */
  static void write(Tensor t, long i, float v) {
    MemorySegment s = t.data();
    switch (t.dtype()) {
      case F32 -> s.setAtIndex(F32, i, v);
      case BF16 -> s.setAtIndex(S16, i, floatToBf16(v));
      case F16 -> s.setAtIndex(S16, i, Float.floatToFloat16(v));
      case I32, U8 -> throw new IllegalArgumentException("not a float tensor: " + t);
    }
  }

  static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** Round to nearest even; NaN stays a (quiet) NaN. */
  static short floatToBf16(float v) {
    int bits = Float.floatToRawIntBits(v);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  // ---- argument checks ------------------------------------------------------------------------

}
