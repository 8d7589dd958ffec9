// Dimensions: N positions, H heads, HS head size. Hugging Face's rotate-half pairing: element i of
// a
// head pairs with element i + HS/2, both rotated by position * invFreq[i].
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Rotary position embedding in place on the host. The angle is computed as an F32 product of
 * position and inverse frequency, as Hugging Face does, and its cosine and sine in double.
 */
final class CpuRope {

  private CpuRope() {}

  /** x (N, H, HS) rows [rowFrom, rowTo) rotated; sin is negated when {@code inverse}. */
  static void apply(
      Tensor x, Tensor positions, Tensor invFreq, boolean inverse, long rowFrom, long rowTo) {
    long n = positions.elementCount();
    long half = invFreq.elementCount();
    long hs = 2 * half;
    long rowLen = x.elementCount() / n;
    long heads = rowLen / hs;
    MemorySegment xs = x.data(), fs = invFreq.data();
    float[] cos = new float[(int) half];
    float[] sin = new float[(int) half];
    for (long r = rowFrom; r < rowTo; r++) {
      float pos = getI32(positions.data(), r);
      for (int i = 0; i < half; i++) {
        float angle = pos * getF32(fs, i);
        cos[i] = (float) Math.cos(angle);
        sin[i] = inverse ? -(float) Math.sin(angle) : (float) Math.sin(angle);
      }
      for (long h = 0; h < heads; h++) {
        long base = r * rowLen + h * hs;
        for (int i = 0; i < half; i++) {
          float x1 = getF32(xs, base + i);
          float x2 = getF32(xs, base + half + i);
          setF32(xs, base + i, x1 * cos[i] - x2 * sin[i]);
          setF32(xs, base + half + i, x2 * cos[i] + x1 * sin[i]);
        }
      }
    }
  }
}
