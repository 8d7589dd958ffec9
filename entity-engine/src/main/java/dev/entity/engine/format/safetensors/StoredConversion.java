package dev.entity.engine.format.safetensors;

import dev.entity.engine.EngineException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element conversions from the bytes a safetensors file stores (always little-endian) into the
 * engine's compute types. BF16 and F16 to F32 are exact (BF16 is the top half of an F32; F16 goes
 * through {@link Float#float16ToFloat}, which keeps subnormals, infinities and NaN). Conversions
 * that can lose information (F64 to F32 rounds to nearest; I64 to I32 must fit) are explicit here.
 */
public final class StoredConversion {

  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfDouble F64 =
      ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private StoredConversion() {}

  /** Exact BF16 to F32: the 16 stored bits are the high half of the F32. */
  public static float bf16ToF32(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** Exact F16 (IEEE binary16) to F32, subnormals, infinities and NaN included. */
  public static float f16ToF32(short bits) {
    return Float.float16ToFloat(bits);
  }

  /**
   * F32 to BF16 with round-to-nearest-even, as PyTorch does; NaN stays a (quiet) NaN and the sign
   * is kept.
   */
  public static short f32ToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /**
   * Converts {@code count} elements of {@code dtype} at {@code src} into F32 values at {@code dst}
   * (native order). Integer types are converted by value.
   */
  public static void toF32(
      SafetensorsDType dtype, MemorySegment src, MemorySegment dst, long count) {
    ValueLayout.OfFloat out = ValueLayout.JAVA_FLOAT_UNALIGNED;
    switch (dtype) {
      case F32 -> MemorySegment.copy(src, F32, 0, dst, out, 0, count);
      case BF16 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, bf16ToF32(src.getAtIndex(I16, i)));
        }
      }
      case F16 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, f16ToF32(src.getAtIndex(I16, i)));
        }
      }
      case F64 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, (float) src.getAtIndex(F64, i));
        }
      }
      case I64 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, (float) src.getAtIndex(I64, i));
        }
      }
      case I32 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, (float) src.getAtIndex(I32, i));
        }
      }
      case I16 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, (float) src.getAtIndex(I16, i));
        }
      }
      case I8 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, (float) src.get(ValueLayout.JAVA_BYTE, i));
        }
      }
      case U8, BOOL -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, (float) (src.get(ValueLayout.JAVA_BYTE, i) & 0xFF));
        }
      }
    }
  }

  /**
   * Converts {@code count} integer elements of {@code dtype} (I64, I32, I16, I8) into I32 values at
   * {@code dst}; an I64 value outside the I32 range is refused, naming {@code what}.
   */
  public static void toI32(
      SafetensorsDType dtype, MemorySegment src, MemorySegment dst, long count, String what) {
    ValueLayout.OfInt out = ValueLayout.JAVA_INT_UNALIGNED;
    switch (dtype) {
      case I32 -> MemorySegment.copy(src, I32, 0, dst, out, 0, count);
      case I64 -> {
        for (long i = 0; i < count; i++) {
          long v = src.getAtIndex(I64, i);
          if (v != (int) v) {
            throw new EngineException(
                what
                    + ": element "
                    + i
                    + " = "
                    + v
                    + " does not fit in a 32-bit integer; the engine keeps integers as I32");
          }
          dst.setAtIndex(out, i, (int) v);
        }
      }
      case I16 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, src.getAtIndex(I16, i));
        }
      }
      case I8 -> {
        for (long i = 0; i < count; i++) {
          dst.setAtIndex(out, i, src.get(ValueLayout.JAVA_BYTE, i));
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not an integer type");
    }
  }
}
