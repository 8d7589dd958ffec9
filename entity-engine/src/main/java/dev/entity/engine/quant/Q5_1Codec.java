package dev.entity.engine.quant;

/**
 * One Q5_1 block, as ggml's {@code quantize_row_q5_1_ref}: d = (max - min) / 31, codes rounded half
 * up from (x - min) / d; the fifth bit of code j is bit j of the little-endian 32-bit qh.
 */
final class Q5_1Codec {

  private Q5_1Codec() {}

  static void quantize(float[] x, int xi, byte[] out, int at) {
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (int j = 0; j < 32; j++) {
      float v = x[xi + j];
      if (v < min) {
        min = v;
      }
      if (v > max) {
        max = v;
      }
    }
    float d = (max - min) / 31f;
    float id = d != 0f ? 1f / d : 0f;
    QuantFormat.putF16(out, at, d);
    QuantFormat.putF16(out, at + 2, min);
    int qh = 0;
    for (int j = 0; j < 16; j++) {
      int q0 = Math.min(31, (int) ((x[xi + j] - min) * id + 0.5f));
      int q1 = Math.min(31, (int) ((x[xi + 16 + j] - min) * id + 0.5f));
      out[at + 8 + j] = (byte) ((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= ((q0 & 0x10) >>> 4) << j;
      qh |= ((q1 & 0x10) >>> 4) << (j + 16);
    }
    for (int k = 0; k < 4; k++) {
      out[at + 4 + k] = (byte) (qh >>> (8 * k));
    }
  }

  static void dequantize(byte[] in, int at, float[] y, int yi) {
    float d = QuantFormat.getF16(in, at);
    float m = QuantFormat.getF16(in, at + 2);
    int qh =
        (in[at + 4] & 0xFF)
            | (in[at + 5] & 0xFF) << 8
            | (in[at + 6] & 0xFF) << 16
            | (in[at + 7] & 0xFF) << 24;
    for (int j = 0; j < 16; j++) {
      int q = in[at + 8 + j] & 0xFF;
      int q0 = (q & 0x0F) | (((qh >>> j) & 1) << 4);
      int q1 = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
      y[yi + j] = q0 * d + m;
      y[yi + 16 + j] = q1 * d + m;
    }
  }
}
