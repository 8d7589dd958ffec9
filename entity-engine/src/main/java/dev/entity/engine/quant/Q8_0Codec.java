package dev.entity.engine.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** One Q8_0 block, as ggml's {@code quantize_row_q8_0_ref} and {@code dequantize_row_q8_0}. */
final class Q8_0Codec {

  static final ValueLayout.OfShort F16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Q8_0Codec() {}

  static void quantize(float[] x, MemorySegment dst, long at) {
    float amax = 0f;
    for (float v : x) {
      amax = Math.max(amax, Math.abs(v));
    }
    float d = amax / 127f;
    float id = d != 0f ? 1f / d : 0f;
    dst.set(F16, at, Float.floatToFloat16(d));
    for (int j = 0; j < x.length; j++) {
      dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) QuantFormat.roundHalfAway(x[j] * id));
    }
  }

  static void dequantize(MemorySegment src, long at, float[] y) {
    float d = Float.float16ToFloat(src.get(F16, at));
    for (int j = 0; j < y.length; j++) {
      y[j] = src.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
    }
  }
}
