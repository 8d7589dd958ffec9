package dev.entity.engine.quant;

/**
 * One Q4_0 block, as ggml's {@code quantize_row_q4_0_ref}: the scale is the value of largest
 * magnitude (the first one on ties) divided by -8, so that value maps exactly to code 0.
 */
final class Q4_0Codec {

  private Q4_0Codec() {}

  static void quantize(float[] x, int xi, byte[] out, int at) {
    float amax = 0f;
    float max = 0f;
    for (int j = 0; j < 32; j++) {
      float v = x[xi + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    float d = max / -8f;
    float id = d != 0f ? 1f / d : 0f;
    QuantFormat.putF16(out, at, d);
    for (int j = 0; j < 16; j++) {
      int lo = Math.min(15, (int) (x[xi + j] * id + 8.5f));
      int hi = Math.min(15, (int) (x[xi + 16 + j] * id + 8.5f));
      out[at + 2 + j] = (byte) (lo | (hi << 4));
    }
  }

  static void dequantize(byte[] in, int at, float[] y, int yi) {
    float d = QuantFormat.getF16(in, at);
    for (int j = 0; j < 16; j++) {
      int q = in[at + 2 + j] & 0xFF;
      y[yi + j] = ((q & 0x0F) - 8) * d;
      y[yi + 16 + j] = ((q >>> 4) - 8) * d;
    }
  }
}
