// Convention: every quantizer here reproduces ggml's quantize_row_*_ref bit for bit (same float
// operations in the same order, roundf = round half away from zero, F16 scales rounded to nearest
// even), so a file we write is byte-identical to what llama.cpp's own tools write.
package dev.entity.engine.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The block-quantized formats of ggml that the engine writes and reads: {@link #Q8_0} (an F16 scale
 * and 32 signed bytes), {@link #Q4_0} (an F16 scale and 32 four-bit values) and {@link #Q5_1} (F16
 * scale and minimum, 32 five-bit values). Each constant knows its block size and bytes per block;
 * {@link #quantize} and {@link #dequantize} dispatch by an exhaustive switch. Element counts must
 * be a multiple of the block size. F32 values are read and written in native (little-endian) order.
 */
public enum QuantFormat {
  /** 32 values: F16 scale d, 32 × int8 q; x = d q. */
  Q8_0(32, 34),
  /** 32 values: F16 scale d, 16 bytes of 4-bit q (low nibbles first half); x = d (q - 8). */
  Q4_0(32, 18),
  /** 32 values: F16 scale d, F16 minimum m, 32 high bits, 16 bytes of low nibbles; x = d q + m. */
  Q5_1(32, 24);

  private static final int CHUNK_BLOCKS = 256;

  private final int blockSize;
  private final int bytesPerBlock;

  QuantFormat(int blockSize, int bytesPerBlock) {
    this.blockSize = blockSize;
    this.bytesPerBlock = bytesPerBlock;
  }

  /** Values per block. */
  public int blockSize() {
    return blockSize;
  }

  /** Bytes one block takes. */
  public int bytesPerBlock() {
    return bytesPerBlock;
  }

  /** Bytes that {@code count} values take; {@code count} must be a multiple of the block size. */
  public long byteSize(long count) {
    requireWholeBlocks(count);
    return count / blockSize * bytesPerBlock;
  }

  /**
   * Quantizes {@code count} F32 values starting at byte {@code srcOffset} of {@code src} into
   * blocks starting at byte {@code dstOffset} of {@code dst}.
   */
  public void quantize(
      MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, long count) {
    long blocks = requireWholeBlocks(count) / blockSize;
    float[] x = new float[CHUNK_BLOCKS * blockSize];
    byte[] q = new byte[CHUNK_BLOCKS * bytesPerBlock];
    for (long b = 0; b < blocks; b += CHUNK_BLOCKS) {
      int n = (int) Math.min(CHUNK_BLOCKS, blocks - b);
      long from = srcOffset + b * blockSize * 4L;
      MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, from, x, 0, n * blockSize);
      for (int i = 0; i < n; i++) {
        int xi = i * blockSize;
        int qi = i * bytesPerBlock;
        switch (this) {
          case Q8_0 -> Q8_0Codec.quantize(x, xi, q, qi);
          case Q4_0 -> Q4_0Codec.quantize(x, xi, q, qi);
          case Q5_1 -> Q5_1Codec.quantize(x, xi, q, qi);
        }
      }
      MemorySegment.copy(
          q, 0, dst, ValueLayout.JAVA_BYTE, dstOffset + b * bytesPerBlock, n * bytesPerBlock);
    }
  }

  /**
   * Dequantizes {@code count} values from blocks starting at byte {@code srcOffset} of {@code src}
   * into F32 values starting at byte {@code dstOffset} of {@code dst}.
   */
  public void dequantize(
      MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, long count) {
    long blocks = requireWholeBlocks(count) / blockSize;
    float[] y = new float[CHUNK_BLOCKS * blockSize];
    byte[] q = new byte[CHUNK_BLOCKS * bytesPerBlock];
    for (long b = 0; b < blocks; b += CHUNK_BLOCKS) {
      int n = (int) Math.min(CHUNK_BLOCKS, blocks - b);
      long from = srcOffset + b * bytesPerBlock;
      MemorySegment.copy(src, ValueLayout.JAVA_BYTE, from, q, 0, n * bytesPerBlock);
      for (int i = 0; i < n; i++) {
        int yi = i * blockSize;
        int qi = i * bytesPerBlock;
        switch (this) {
          case Q8_0 -> Q8_0Codec.dequantize(q, qi, y, yi);
          case Q4_0 -> Q4_0Codec.dequantize(q, qi, y, yi);
          case Q5_1 -> Q5_1Codec.dequantize(q, qi, y, yi);
        }
      }
      MemorySegment.copy(
          y,
          0,
          dst,
          ValueLayout.JAVA_FLOAT_UNALIGNED,
          dstOffset + b * blockSize * 4L,
          n * blockSize);
    }
  }

  /** The blocks of {@code values} as a new array. */
  public byte[] quantize(float[] values) {
    byte[] out = new byte[Math.toIntExact(byteSize(values.length))];
    quantize(MemorySegment.ofArray(values), 0, MemorySegment.ofArray(out), 0, values.length);
    return out;
  }

  /** The values of {@code blocks} as a new array. */
  public float[] dequantize(byte[] blocks) {
    if (blocks.length % bytesPerBlock != 0) {
      throw new IllegalArgumentException(
          this + ": " + blocks.length + " bytes is not a whole number of blocks");
    }
    float[] out = new float[blocks.length / bytesPerBlock * blockSize];
    dequantize(MemorySegment.ofArray(blocks), 0, MemorySegment.ofArray(out), 0, out.length);
    return out;
  }

  private long requireWholeBlocks(long count) {
    if (count < 0 || count % blockSize != 0) {
      throw new IllegalArgumentException(
          this + " needs a multiple of " + blockSize + " values, got " + count);
    }
    return count;
  }

  /**
   * C's {@code roundf} (round half away from zero) for |v| < 2^31, as an int; exact, because a -
   * trunc(a) is exact in float.
   */
  static int roundHalfAwayToInt(float v) {
    float a = Math.abs(v);
    int t = (int) a;
    int r = a - t >= 0.5f ? t + 1 : t;
    return v < 0 ? -r : r;
  }

  static void putF16(byte[] out, int at, float v) {
    short h = Float.floatToFloat16(v);
    out[at] = (byte) h;
    out[at + 1] = (byte) (h >>> 8);
  }

  static float getF16(byte[] in, int at) {
    return Float.float16ToFloat((short) ((in[at] & 0xFF) | (in[at + 1] << 8)));
  }
}
