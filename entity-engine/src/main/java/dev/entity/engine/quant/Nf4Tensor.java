// Dimension legend: N values, M = ceil(N/64) absmax blocks, S = ceil(M/256) absmax scales.
// Convention: the views belong to a ParameterStore (or whoever made them); dequantize writes only
// into the scratch it is given and returns a view of it, valid until the scratch is reused.
package dev.entity.engine.quant;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;
import java.util.Arrays;

/**
 * A frozen matrix kept in NF4 on a backend: views of the packed codes and of the absmax data
 * (bitsandbytes layout, see {@link Nf4Weights}), dequantized on demand into a shared {@link
 * Scratch} in the compute dtype — once before a layer's forward matmuls and again before its
 * backward (dx) matmul, so only one dequantized matrix exists at a time.
 *
 * @param shape the matrix shape, e.g. (OC, C)
 * @param packed (ceil(N/2)) U8 codes
 * @param absmax (M) F32 absmax values, or (S) F32 scales of {@code absmaxCodes} with double
 *     quantization
 * @param absmaxCodes (M) U8 8-bit absmax codes, or null without double quantization
 * @param offset (1) F32 the absmax offset, or null without double quantization
 */
public record Nf4Tensor(
    long[] shape, Tensor packed, Tensor absmax, Tensor absmaxCodes, Tensor offset) {

  public Nf4Tensor {
    shape = shape.clone();
    long n = Tensor.elementCount(shape);
    long blocks = Nf4.blocks(n);
    boolean ok =
        packed.elementCount() == Nf4.packedBytes(n)
            && (absmaxCodes == null
                ? absmax.elementCount() == blocks
                : absmaxCodes.elementCount() == blocks
                    && absmax.elementCount() == DynamicMap.blocks(blocks)
                    && offset != null
                    && offset.elementCount() == 1);
    if (!ok) {
      throw new IllegalArgumentException(
          "NF4 parts " + packed + ", " + absmax + ", " + absmaxCodes + " do not fit " + n);
    }
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long elementCount() {
    return Tensor.elementCount(shape);
  }

  /**
   * Work buffers for dequantization, shared by every NF4 matrix of a model.
   *
   * @param weights at least N elements of the compute dtype
   * @param absmax at least M elements, F32
   */
  public record Scratch(Tensor weights, Tensor absmax) {}

  /** Dequantizes into {@code scratch} and returns the matrix (shape, compute dtype) as a view. */
  public Tensor dequantize(Backend backend, Scratch scratch) {
    Tensor out = leading(scratch.weights(), elementCount()).reshape(shape);
    dequantize(backend, out, scratch.absmax());
    return out;
  }

  /**
   * Dequantizes into {@code out} (N elements, F32/BF16/F16), using {@code absmaxScratch} (at least
   * M F32 elements) for double-quantized absmax values.
   */
  public void dequantize(Backend backend, Tensor out, Tensor absmaxScratch) {
    Tensor scales = absmax;
    if (absmaxCodes != null) {
      scales = leading(absmaxScratch, absmaxCodes.elementCount());
      backend.nf4AbsmaxDequantize(scales, absmaxCodes, absmax, offset);
    }
    backend.nf4Dequantize(out.reshape(out.elementCount()), packed, scales);
  }

  private static Tensor leading(Tensor flat, long count) {
    if (count > flat.elementCount()) {
      throw new IllegalArgumentException(
          "scratch of " + flat.elementCount() + " elements cannot hold " + count);
    }
    return flat.reshape(flat.elementCount()).rows(0, count);
  }

  @Override
  public String toString() {
    return "Nf4Tensor" + Arrays.toString(shape) + (absmaxCodes == null ? "" : " double-quantized");
  }
}
