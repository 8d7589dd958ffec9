// Convention: the 256 values are stored as float32 bit patterns, copied from what bitsandbytes'
// create_dynamic_map(signed=True) returns under torch 2.x on x86 (torch.linspace's vectorized
// rounding is not reproduced by a closed formula); the fixture test checks them against the
// reference script's map.
package dev.entity.engine.quant;

/**
 * bitsandbytes' signed dynamic 8-bit map (dynamic exponent, shrinking fraction; values in [-1, 1],
 * sorted, with 0 and 1 exact) and the blockwise 8-bit quantizer that QLoRA's double quantization
 * applies to the NF4 absmax values: each block of {@link #BLOCK} values scaled by the reciprocal of
 * its own absmax and coded by the CUDA kernel's binary search with midpoint rounding (dQuantize).
 */
public final class DynamicMap {

  /** Values per 8-bit block in double quantization. */
  public static final int BLOCK = 256;

  private static final int[] BITS = {
    0xbf7e3333, 0xbf7a999a, 0xbf770000, 0xbf736666, 0xbf6fcccd, 0xbf6c3333, 0xbf68999a, 0xbf650000,
    0xbf616666, 0xbf5dcccd, 0xbf5a3333, 0xbf56999a, 0xbf530000, 0xbf4f6666, 0xbf4bcccd, 0xbf483333,
    0xbf44999a, 0xbf410000, 0xbf3d6666, 0xbf39cccd, 0xbf363334, 0xbf32999a, 0xbf2f0000, 0xbf2b6666,
    0xbf27cccd, 0xbf243334, 0xbf20999a, 0xbf1d0000, 0xbf196666, 0xbf15cccd, 0xbf123334, 0xbf0e999a,
    0xbf0b0000, 0xbf076666, 0xbf03cccc, 0xbf003333, 0xbef93332, 0xbef20000, 0xbeeacccc, 0xbee3999a,
    0xbedc6666, 0xbed53333, 0xbece0000, 0xbec6cccc, 0xbebf999a, 0xbeb86666, 0xbeb13333, 0xbeaa0000,
    0xbea2cccc, 0xbe9b999a, 0xbe946666, 0xbe8d3334, 0xbe860000, 0xbe7d9999, 0xbe6f3333, 0xbe60cccd,
    0xbe526666, 0xbe440000, 0xbe35999a, 0xbe273333, 0xbe18cccd, 0xbe0a6666, 0xbdf80000, 0xbddb3334,
    0xbdc9eb85, 0xbdc428f7, 0xbdbe6667, 0xbdb8a3d7, 0xbdb2e148, 0xbdad1eb8, 0xbda75c2a, 0xbda1999a,
    0xbd9bd70a, 0xbd96147b, 0xbd9051eb, 0xbd8a8f5d, 0xbd84cccd, 0xbd7e147b, 0xbd728f5d, 0xbd670a3d,
    0xbd5b851f, 0xbd500000, 0xbd447ae1, 0xbd38f5c3, 0xbd2d70a3, 0xbd21eb85, 0xbd166667, 0xbd0ae148,
    0xbcfeb852, 0xbce7ae15, 0xbcd0a3d7, 0xbcb9999a, 0xbca28f5d, 0xbc8b851f, 0xbc68f5c3, 0xbc3ae148,
    0xbc1f3b64, 0xbc160418, 0xbc0ccccd, 0xbc039581, 0xbbf4bc6a, 0xbbe24dd3, 0xbbcfdf3b, 0xbbbd70a4,
    0xbbab020d, 0xbb989374, 0xbb8624dd, 0xbb676c8a, 0xbb428f5c, 0xbb1db22d, 0xbaf1a9fc, 0xbaa7ef9d,
    0xba7765ff, 0xba59e83e, 0xba3c6a80, 0xba1eecc1, 0xba016f01, 0xb9c7e283, 0xb98ce705, 0xb923d70b,
    0xb8ba1f4b, 0xb88aefb3, 0xb8378034, 0xb7b24206, 0xb70205ff, 0xb65a1a94, 0xb513a3b7, 0x00000000,
    0x3513a3b7, 0x365a1a94, 0x370205ff, 0x37b24206, 0x38378034, 0x388aefb3, 0x38ba1f4b, 0x3923d70b,
    0x398ce705, 0x39c7e283, 0x3a016f01, 0x3a1eecc1, 0x3a3c6a80, 0x3a59e83e, 0x3a7765ff, 0x3aa7ef9d,
    0x3af1a9fc, 0x3b1db22d, 0x3b428f5c, 0x3b676c8a, 0x3b8624dd, 0x3b989374, 0x3bab020d, 0x3bbd70a4,
    0x3bcfdf3b, 0x3be24dd3, 0x3bf4bc6a, 0x3c039581, 0x3c0ccccd, 0x3c160418, 0x3c1f3b64, 0x3c3ae148,
    0x3c68f5c3, 0x3c8b851f, 0x3ca28f5d, 0x3cb9999a, 0x3cd0a3d7, 0x3ce7ae15, 0x3cfeb852, 0x3d0ae148,
    0x3d166667, 0x3d21eb85, 0x3d2d70a3, 0x3d38f5c3, 0x3d447ae1, 0x3d500000, 0x3d5b851f, 0x3d670a3d,
    0x3d728f5d, 0x3d7e147b, 0x3d84cccd, 0x3d8a8f5d, 0x3d9051eb, 0x3d96147b, 0x3d9bd70a, 0x3da1999a,
    0x3da75c2a, 0x3dad1eb8, 0x3db2e148, 0x3db8a3d7, 0x3dbe6667, 0x3dc428f7, 0x3dc9eb85, 0x3ddb3334,
    0x3df80000, 0x3e0a6666, 0x3e18cccd, 0x3e273333, 0x3e35999a, 0x3e440000, 0x3e526666, 0x3e60cccd,
    0x3e6f3333, 0x3e7d9999, 0x3e860000, 0x3e8d3334, 0x3e946666, 0x3e9b999a, 0x3ea2cccc, 0x3eaa0000,
    0x3eb13333, 0x3eb86666, 0x3ebf999a, 0x3ec6cccc, 0x3ece0000, 0x3ed53333, 0x3edc6666, 0x3ee3999a,
    0x3eeacccc, 0x3ef20000, 0x3ef93332, 0x3f003333, 0x3f03cccc, 0x3f076666, 0x3f0b0000, 0x3f0e999a,
    0x3f123334, 0x3f15cccd, 0x3f196666, 0x3f1d0000, 0x3f20999a, 0x3f243334, 0x3f27cccd, 0x3f2b6666,
    0x3f2f0000, 0x3f32999a, 0x3f363334, 0x3f39cccd, 0x3f3d6666, 0x3f410000, 0x3f44999a, 0x3f483333,
    0x3f4bcccd, 0x3f4f6666, 0x3f530000, 0x3f56999a, 0x3f5a3333, 0x3f5dcccd, 0x3f616666, 0x3f650000,
    0x3f68999a, 0x3f6c3333, 0x3f6fcccd, 0x3f736666, 0x3f770000, 0x3f7a999a, 0x3f7e3333, 0x3f800000,
  };

  private static final float[] CODE = new float[256];

  static {
    for (int i = 0; i < 256; i++) {
      CODE[i] = Float.intBitsToFloat(BITS[i]);
    }
  }

  private DynamicMap() {}

  /** The value of code {@code c} (0..255). */
  public static float value(int c) {
    return CODE[c];
  }

  /** A copy of the 256 values. */
  public static float[] values() {
    return CODE.clone();
  }

  /**
   * The code of a value scaled to [-1, 1]: a 7-step binary search from the middle, then the nearer
   * of the last two candidates by their float32 midpoint (bitsandbytes dQuantize, not stochastic).
   */
  public static int code(float x) {
    int pivot = 127;
    int upperPivot = 255;
    int lowerPivot = 0;
    float lower = -1f;
    float upper = 1f;
    float val = CODE[pivot];
    for (int i = 64; i > 0; i >>= 1) {
      if (x > val) {
        lowerPivot = pivot;
        lower = val;
        pivot += i;
      } else {
        upperPivot = pivot;
        upper = val;
        pivot -= i;
      }
      val = CODE[pivot];
    }
    if (upperPivot == 255) {
      upper = CODE[upperPivot];
    }
    if (lowerPivot == 0) {
      lower = CODE[lowerPivot];
    }
    if (x > val) {
      float midpoint = (upper + val) * 0.5f;
      return x > midpoint ? upperPivot : pivot;
    }
    float midpoint = (lower + val) * 0.5f;
    return x < midpoint ? lowerPivot : pivot;
  }

  /**
   * Quantizes {@code x} in blocks of {@link #BLOCK}: codes[i] (one byte each) and one absmax per
   * block (max |x| over its valid values).
   */
  public static void quantize(byte[] codes, float[] absmax, float[] x) {
    checkSizes(codes, absmax, x.length);
    for (int b = 0; b < absmax.length; b++) {
      int from = b * BLOCK;
      int to = Math.min(x.length, from + BLOCK);
      float max = 0f;
      for (int i = from; i < to; i++) {
        max = Math.max(max, Math.abs(x[i]));
      }
      absmax[b] = max;
      float inv = 1f / max;
      for (int i = from; i < to; i++) {
        codes[i] = (byte) code(x[i] * inv);
      }
    }
  }

  /** out[i] = value(codes[i]) * absmax[i / BLOCK] + offset (multiply, then add, in float32). */
  public static void dequantize(float[] out, byte[] codes, float[] absmax, float offset) {
    checkSizes(codes, absmax, out.length);
    for (int i = 0; i < out.length; i++) {
      out[i] = CODE[codes[i] & 0xFF] * absmax[i / BLOCK] + offset;
    }
  }

  /** Number of 8-bit blocks for {@code n} values. */
  public static long blocks(long n) {
    return (n + BLOCK - 1) / BLOCK;
  }

  private static void checkSizes(byte[] codes, float[] absmax, int n) {
    if (codes.length != n || absmax.length != blocks(n)) {
      throw new IllegalArgumentException(
          n + " values need " + n + " codes and " + blocks(n) + " absmax values");
    }
  }
}
