// Convention: codes follow bitsandbytes exactly — a value is scaled by the float32 reciprocal of
// its block's absmax (x * (1/absmax), not x / absmax) and coded by the dQuantizeNF4 decision tree
// with strict '>' comparisons; two codes per byte, the first element in the HIGH nibble.
package dev.entity.engine.quant;

/**
 * The 4-bit NormalFloat data type of QLoRA in the bitsandbytes layout: 16 code values (quantiles of
 * a normal distribution, normalized to [-1, 1], exactly 0 included), blocks of {@link #BLOCK}
 * values sharing one absmax, codes packed two per byte. This class holds the codebook and the
 * scalar reference quantizer and dequantizer of packed blocks; {@link Nf4Weights} adds double
 * quantization of the absmax values and {@link Nf4Tensor} the backend-resident form.
 */
public final class Nf4 {

  /** Values per absmax block (bitsandbytes' QLoRA default). */
  public static final int BLOCK = 64;

  /** The 16 NF4 values, by code (bitsandbytes get_4bit_type("nf4")). */
  private static final float[] CODE = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f
  };

  private Nf4() {}

  /** The value of code {@code c} (0..15). */
  public static float value(int c) {
    return CODE[c];
  }

  /** A copy of the 16 code values. */
  public static float[] codebook() {
    return CODE.clone();
  }

  /**
   * The code of a value already scaled to [-1, 1]: bitsandbytes' decision tree (thresholds are the
   * midpoints between neighbouring code values, as float32). NaN (an all-zero block scaled by 1/0)
   * falls through to code 0, as in bitsandbytes.
   */
  public static int code(float x) {
    if (x > 0.03979014977812767f) {
      if (x > 0.3893125355243683f) {
        if (x > 0.6427869200706482f) {
          return x > 0.8614784181118011f ? 0b1111 : 0b1110;
        }
        return x > 0.5016634166240692f ? 0b1101 : 0b1100;
      }
      if (x > 0.2035212516784668f) {
        return x > 0.2920137718319893f ? 0b1011 : 0b1010;
      }
      return x > 0.1202552504837513f ? 0b1001 : 0b1000;
    }
    if (x > -0.33967943489551544f) {
      if (x > -0.13791173323988914f) {
        return x > -0.045525018125772476f ? 0b0111 : 0b0110;
      }
      return x > -0.23460740596055984f ? 0b0101 : 0b0100;
    }
    if (x > -0.6106329262256622f) {
      return x > -0.4599952697753906f ? 0b0011 : 0b0010;
    }
    return x > -0.8480964004993439f ? 0b0001 : 0b0000;
  }

  /** Number of absmax blocks for {@code n} values. */
  public static long blocks(long n) {
    return (n + BLOCK - 1) / BLOCK;
  }

  /** Bytes of packed codes for {@code n} values. */
  public static long packedBytes(long n) {
    return (n + 1) / 2;
  }

  /**
   * Quantizes {@code x} into {@code packed} (packedBytes(n) bytes) and {@code absmax} (blocks(n)
   * floats, max |x| of each block over its valid values). An odd tail is padded with 0.0 (code 7).
   */
  public static void quantize(byte[] packed, float[] absmax, float[] x) {
    int n = x.length;
    checkSizes(packed, absmax, n);
    for (int b = 0; b < absmax.length; b++) {
      int from = b * BLOCK;
      int to = Math.min(n, from + BLOCK);
      float max = 0f;
      for (int i = from; i < to; i++) {
        max = Math.max(max, Math.abs(x[i]));
      }
      absmax[b] = max;
      float inv = 1f / max;
      for (int i = from; i < to; i += 2) {
        int hi = code(x[i] * inv);
        int lo = i + 1 < to ? code(x[i + 1] * inv) : code(0f);
        packed[i >> 1] = (byte) (hi << 4 | lo);
      }
    }
  }

  /** out[i] = value(code i) * absmax[i / BLOCK]: the scalar reference dequantizer. */
  public static void dequantize(float[] out, byte[] packed, float[] absmax) {
    checkSizes(packed, absmax, out.length);
    for (int i = 0; i < out.length; i++) {
      int b = packed[i >> 1];
      int c = (i & 1) == 0 ? (b >> 4) & 0xF : b & 0xF;
      out[i] = CODE[c] * absmax[i / BLOCK];
    }
  }

  private static void checkSizes(byte[] packed, float[] absmax, int n) {
    if (packed.length != packedBytes(n) || absmax.length != blocks(n)) {
      throw new IllegalArgumentException(
          n
              + " values need "
              + packedBytes(n)
              + " packed bytes and "
              + blocks(n)
              + " absmax values, got "
              + packed.length
              + " and "
              + absmax.length);
    }
  }
}
