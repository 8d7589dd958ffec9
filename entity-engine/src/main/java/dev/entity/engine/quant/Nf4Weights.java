// Convention: with double quantization the absmax values are stored as 8-bit codes of (absmax -
// offset), offset = their mean rounded to float32, and the F32 absmax field holds the 256-block
// scales instead; without it the F32 absmax field holds one float per 64-block.
package dev.entity.engine.quant;

/**
 * One matrix quantized to NF4 on the host, in bitsandbytes' layout: packed codes, and either one
 * F32 absmax per 64-block or (double quantization) one 8-bit code per 64-block plus an F32 scale
 * per 256 codes and one F32 offset. Produced at load time from F32 values; {@link #dequantize} is
 * the scalar reference the backend kernels are tested against.
 *
 * @param count values quantized
 * @param packed the NF4 codes, two per byte, first value in the high nibble (ceil(count/2))
 * @param absmaxCodes 8-bit codes of the 64-block absmax values, or null without double quantization
 * @param absmax the 256-block scales of {@code absmaxCodes} with double quantization, else the
 *     64-block absmax values
 * @param offset the mean subtracted before the 8-bit quantization (0 without it)
 */
public record Nf4Weights(
    long count, byte[] packed, byte[] absmaxCodes, float[] absmax, float offset) {

  /** Whether the absmax values are double-quantized. */
  public boolean doubleQuant() {
    return absmaxCodes != null;
  }

  /** Quantizes {@code values}; {@code doubleQuant} as bitsandbytes' bnb_4bit_use_double_quant. */
  public static Nf4Weights quantize(float[] values, boolean doubleQuant) {
    int blocks = Math.toIntExact(Nf4.blocks(values.length));
    byte[] packed = new byte[Math.toIntExact(Nf4.packedBytes(values.length))];
    float[] absmax = new float[blocks];
    Nf4.quantize(packed, absmax, values);
    if (!doubleQuant) {
      return new Nf4Weights(values.length, packed, null, absmax, 0f);
    }
    double sum = 0;
    for (float a : absmax) {
      sum += a;
    }
    float offset = (float) (sum / blocks);
    float[] centred = new float[blocks];
    for (int i = 0; i < blocks; i++) {
      centred[i] = absmax[i] - offset;
    }
    byte[] codes = new byte[blocks];
    float[] scales = new float[Math.toIntExact(DynamicMap.blocks(blocks))];
    DynamicMap.quantize(codes, scales, centred);
    return new Nf4Weights(values.length, packed, codes, scales, offset);
  }

  /** The 64-block absmax values as dequantization uses them. */
  public float[] blockAbsmax() {
    if (!doubleQuant()) {
      return absmax.clone();
    }
    float[] out = new float[absmaxCodes.length];
    DynamicMap.dequantize(out, absmaxCodes, absmax, offset);
    return out;
  }

  /** The dequantized values (F32). */
  public float[] dequantize() {
    float[] out = new float[Math.toIntExact(count)];
    Nf4.dequantize(out, packed, blockAbsmax());
    return out;
  }

  /** Bytes held: packed codes, absmax codes, F32 scales and the offset. */
  public long bytes() {
    return packed.length + (absmaxCodes == null ? 0 : absmaxCodes.length + 4L) + 4L * absmax.length;
  }
}
