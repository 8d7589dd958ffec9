package dev.entity.engine.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One Q5_1 block, as ggml's {@code quantize_row_q5_1_ref}: d = (max - min) / 31, codes rounded half
 * up from (x - min) / d; the fifth bit of code j is bit j of the little-endian 32-bit qh.
 */
final class Q5_1Codec {

  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Q5_1Codec() {}

  static void quantize(float[] x, MemorySegment dst, long at) {
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float v : x) {
      if (v < min) {
        min = v;
      }
      if (v > max) {
        max = v;
      }
    }
    float d = (max - min) / 31f;
    float id = d != 0f ? 1f / d : 0f;
    dst.set(Q8_0Codec.F16, at, Float.floatToFloat16(d));
    dst.set(Q8_0Codec.F16, at + 2, Float.floatToFloat16(min));
    int half = x.length / 2;
    int qh = 0;
    for (int j = 0; j < half; j++) {
      int q0 = Math.min(31, (int) ((x[j] - min) * id + 0.5f));
      int q1 = Math.min(31, (int) ((x[half + j] - min) * id + 0.5f));
      dst.set(ValueLayout.JAVA_BYTE, at + 8 + j, (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4)));
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + half);
    }
    dst.set(U32, at + 4, qh);
  }

  static void dequantize(MemorySegment src, long at, float[] y) {
    float d = Float.float16ToFloat(src.get(Q8_0Codec.F16, at));
    float m = Float.float16ToFloat(src.get(Q8_0Codec.F16, at + 2));
    int qh = src.get(U32, at + 4);
    int half = y.length / 2;
    for (int j = 0; j < half; j++) {
      int q = src.get(ValueLayout.JAVA_BYTE, at + 8 + j) & 0xFF;
      int q0 = (q & 0x0F) | (((qh >>> j) & 1) << 4);
      int q1 = (q >>> 4) | (((qh >>> (j + half)) & 1) << 4);
      y[j] = q0 * d + m;
      y[half + j] = q1 * d + m;
    }
  }
}
