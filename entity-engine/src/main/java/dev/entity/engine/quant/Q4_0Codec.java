package dev.entity.engine.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One Q4_0 block, as ggml's {@code quantize_row_q4_0_ref}: the scale is the value of largest
 * magnitude (the first one on ties) divided by -8, so that value maps exactly to code 0.
 */
final class Q4_0Codec {

  private Q4_0Codec() {}

  static void quantize(float[] x, MemorySegment dst, long at) {
    float amax = 0f;
    float max = 0f;
    for (float v : x) {
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    float d = max / -8f;
    float id = d != 0f ? 1f / d : 0f;
    dst.set(Q8_0Codec.F16, at, Float.floatToFloat16(d));
    int half = x.length / 2;
    for (int j = 0; j < half; j++) {
      int lo = Math.min(15, (int) (x[j] * id + 8.5f));
      int hi = Math.min(15, (int) (x[half + j] * id + 8.5f));
      dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (lo | (hi << 4)));
    }
  }

  static void dequantize(MemorySegment src, long at, float[] y) {
    float d = Float.float16ToFloat(src.get(Q8_0Codec.F16, at));
    int half = y.length / 2;
    for (int j = 0; j < half; j++) {
      int q = src.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xFF;
      y[j] = ((q & 0x0F) - 8) * d;
      y[half + j] = ((q >>> 4) - 8) * d;
    }
  }
}
