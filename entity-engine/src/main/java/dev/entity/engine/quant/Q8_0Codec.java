package dev.entity.engine.quant;

/** One Q8_0 block, as ggml's {@code quantize_row_q8_0_ref} and {@code dequantize_row_q8_0}. */
final class Q8_0Codec {

  private Q8_0Codec() {}

  static void quantize(float[] x, int xi, byte[] out, int at) {
    float amax = 0f;
    for (int j = 0; j < 32; j++) {
      amax = Math.max(amax, Math.abs(x[xi + j]));
    }
    float d = amax / 127f;
    float id = d != 0f ? 1f / d : 0f;
    QuantFormat.putF16(out, at, d);
    for (int j = 0; j < 32; j++) {
      // |x * id| <= 127 (or NaN/inf for non-finite input, where ggml is undefined too)
      out[at + 2 + j] = (byte) QuantFormat.roundHalfAwayToInt(x[xi + j] * id);
    }
  }

  static void dequantize(byte[] in, int at, float[] y, int yi) {
    float d = QuantFormat.getF16(in, at);
    for (int j = 0; j < 32; j++) {
      y[yi + j] = in[at + 2 + j] * d;
    }
  }
}
