// Dimension legend: N values of one quantized matrix, M = ceil(N/64) absmax blocks.
// Convention: work is split by whole 64-value blocks (a byte never straddles two pieces), and every
// value is computed as code * absmax in float32 and then rounded once to the output dtype — the
// same numbers as the host reference Nf4.dequantize / DynamicMap.dequantize, bit for bit.
package dev.entity.engine.backend.cpu;

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
    CpuElements.requireFloat(out);
    CpuElements.requireF32(absmax);
    if (packed.dtype() != DType.U8) {
      throw new IllegalArgumentException("NF4 codes must be U8: " + packed);
    }
    CpuElements.requireCount(packed, Nf4.packedBytes(n), "packed NF4 codes");
    CpuElements.requireCount(absmax, Nf4.blocks(n), "NF4 absmax");
  }

  /** Values of 64-blocks [fromBlock, toBlock) of out (N) from packed (ceil(N/2)) and absmax (M). */
  static void dequantize(Tensor out, Tensor packed, Tensor absmax, long fromBlock, long toBlock) {
    long n = out.elementCount();
    MemorySegment codes = packed.data();
    MemorySegment scales = absmax.data();
    MemorySegment dst = out.data();
    DType dtype = out.dtype();
    for (long b = fromBlock; b < toBlock; b++) {
      float scale = CpuElements.getF32(scales, b);
      long from = b * Nf4.BLOCK;
      long to = Math.min(n, from + Nf4.BLOCK);
      for (long i = from; i < to; i += 2) {
        int packedByte = codes.get(ValueLayout.JAVA_BYTE, i >> 1);
        float hi = NF4[(packedByte >> 4) & 0xF] * scale;
        float lo = NF4[packedByte & 0xF] * scale;
        boolean pair = i + 1 < to;
        switch (dtype) {
          case F32 -> {
            CpuElements.setF32(dst, i, hi);
            if (pair) {
              CpuElements.setF32(dst, i + 1, lo);
            }
          }
          case BF16 -> {
            dst.setAtIndex(CpuElements.S16, i, CpuElements.floatToBf16(hi));
            if (pair) {
              dst.setAtIndex(CpuElements.S16, i + 1, CpuElements.floatToBf16(lo));
            }
          }
          default -> {
            CpuElements.write(out, i, hi);
            if (pair) {
              CpuElements.write(out, i + 1, lo);
            }
          }
        }
      }
    }
  }

  static void checkAbsmax(Tensor out, Tensor codes, Tensor scales, Tensor offset) {
    long m = out.elementCount();
    CpuElements.requireF32(out, scales, offset);
    CpuElements.requireCount(offset, 1, "absmax offset");
    if (codes.dtype() != DType.U8) {
      throw new IllegalArgumentException("absmax codes must be U8: " + codes);
    }
    CpuElements.requireCount(codes, m, "absmax codes");
    CpuElements.requireCount(scales, DynamicMap.blocks(m), "absmax scales");
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
