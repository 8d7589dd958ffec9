// Dimension legend: N values of one quantized matrix, M = ceil(N/64) absmax blocks.
// Convention: work is split by whole 64-value blocks (a byte never straddles two pieces), and every
// value is computed as code * absmax in float32 and then rounded once to the output dtype — the
// same numbers as the host reference Nf4.dequantize / DynamicMap.dequantize, bit for bit.
package dev.entity.engine.backend.cpu;

import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.quant.DynamicMap;
import dev.entity.engine.quant.Nf4;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * NF4 dequantization kernels of the CPU backend: packed 4-bit codes with F32 absmax to F32, BF16 or
 * F16, and the double-quantized absmax (8-bit dynamic codes, F32 scales per 256, offset) to F32.
 */
final class CpuNf4 {

  private static final float[] NF4 = Nf4.codebook();
  private static final float[] DYNAMIC = DynamicMap.values();

  private CpuNf4() {}

  static void checkNf4(Tensor out, Tensor packed, Tensor absmax) {
    long n = out.elementCount();
    OperandChecks.requireFloat(out);
    OperandChecks.requireF32(absmax);
    if (packed.dtype() != DType.U8) {
      throw new IllegalArgumentException("NF4 codes must be U8: " + packed);
    }
    OperandChecks.requireCount(packed, Nf4.packedBytes(n), "packed NF4 codes");
    OperandChecks.requireCount(absmax, Nf4.blocks(n), "NF4 absmax");
  }

  /**
   * Values of 64-blocks [fromBlock, toBlock) of out (N) from packed (ceil(N/2)) and absmax (M):
   * each block's bytes are read in one bulk copy, decoded into a small array and written back in
   * one bulk copy (two table lookups and a multiply per byte, no per-element segment access).
   */
  static void dequantize(Tensor out, Tensor packed, Tensor absmax, long fromBlock, long toBlock) {
    long n = out.elementCount();
    MemorySegment codes = packed.data();
    MemorySegment scales = absmax.data();
    MemorySegment dst = out.data();
    DType dtype = out.dtype();
    byte[] bytes = new byte[Nf4.BLOCK / 2];
    float[] values = new float[Nf4.BLOCK];
    short[] halves = new short[Nf4.BLOCK];
    for (long b = fromBlock; b < toBlock; b++) {
      long from = b * Nf4.BLOCK;
      int count = (int) Math.min(Nf4.BLOCK, n - from);
      int pairs = (count + 1) / 2;
      MemorySegment.copy(codes, ValueLayout.JAVA_BYTE, from >> 1, bytes, 0, pairs);
      float scale = CpuElements.getF32(scales, b);
      for (int j = 0; j < pairs; j++) {
        int c = bytes[j];
        values[2 * j] = NF4[(c >> 4) & 0xF] * scale;
        values[2 * j + 1] = NF4[c & 0xF] * scale;
      }
      switch (dtype) {
        case F32 -> MemorySegment.copy(values, 0, dst, CpuElements.F32, from * 4, count);
        case BF16, F16 -> {
          for (int j = 0; j < count; j++) {
            halves[j] =
                dtype == DType.BF16
                    ? CpuElements.floatToBf16(values[j])
                    : Float.floatToFloat16(values[j]);
          }
          MemorySegment.copy(halves, 0, dst, CpuElements.S16, from * 2, count);
        }
        case I32, U8 -> throw new IllegalArgumentException("not a float tensor: " + out);
      }
    }
  }

  static void checkAbsmax(Tensor out, Tensor codes, Tensor scales, Tensor offset) {
    long m = out.elementCount();
    OperandChecks.requireF32(out, scales, offset);
    OperandChecks.requireCount(offset, 1, "absmax offset");
    if (codes.dtype() != DType.U8) {
      throw new IllegalArgumentException("absmax codes must be U8: " + codes);
    }
    OperandChecks.requireCount(codes, m, "absmax codes");
    OperandChecks.requireCount(scales, DynamicMap.blocks(m), "absmax scales");
  }

  /** out[i] = dynamic[codes[i]] * scales[i / 256] + offset for i in [from, to). */
  static void absmax(Tensor out, Tensor codes, Tensor scales, float offset, long from, long to) {
    MemorySegment c = codes.data();
    MemorySegment s = scales.data();
    MemorySegment dst = out.data();
    for (long i = from; i < to; i++) {
      float v =
          DYNAMIC[c.get(ValueLayout.JAVA_BYTE, i) & 0xFF]
                  * CpuElements.getF32(s, i / DynamicMap.BLOCK)
              + offset;
      CpuElements.setF32(dst, i, v);
    }
  }
}
