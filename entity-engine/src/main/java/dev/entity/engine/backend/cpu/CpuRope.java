// Dimensions: N positions, H heads, HS head size. Hugging Face's rotate-half pairing: element i of
// a
// head pairs with element i + HS/2, both rotated by position * invFreq[i].
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Rotary position embedding in place on the host. The angle is computed as an F32 product of
 * position and inverse frequency, as Hugging Face does, and its cosine and sine in double. {@link
 * #apply} is the reference; {@link #applyTable} gives its bits from a table of the cosines and
 * sines, which every layer, batch row and step shares (computing them took four fifths of the
 * reference's time).
 */
final class CpuRope {

  /**
   * Past this many positions the table is not kept: it grows to the largest position seen, and
   * 32768 positions of a 128-wide head's 64 frequencies take 16 MiB.
   */
  static final int MAX_TABLE_POSITIONS = 1 << 15;

  private CpuRope() {}

  /** cos and sin of {@code position * invFreq[i]} for positions [0, positions), row by row. */
  record Angles(float[] invFreq, int positions, float[] cos, float[] sin) {

    /** The table for invFreq covering positions [0, positions), computed as {@link #apply} does. */
    static Angles of(float[] invFreq, int positions) {
      int half = invFreq.length;
      float[] cos = new float[positions * half];
      float[] sin = new float[positions * half];
      for (int p = 0; p < positions; p++) {
        for (int i = 0; i < half; i++) {
          float angle = (float) p * invFreq[i];
          cos[p * half + i] = (float) Math.cos(angle);
          sin[p * half + i] = (float) Math.sin(angle);
        }
      }
      return new Angles(invFreq, positions, cos, sin);
    }

    /** Whether this table serves these frequencies up to position {@code maxPosition}. */
    boolean covers(float[] frequencies, int maxPosition) {
      return maxPosition < positions && Arrays.equals(invFreq, frequencies);
    }
  }

  /**
   * x (N, H, HS) rows [rowFrom, rowTo) rotated with the table's angles (every position must be in
   * it); bit for bit {@link #apply}: the same products, never fused.
   */
  static void applyTable(
      Tensor x, Tensor positions, Angles angles, boolean inverse, long rowFrom, long rowTo) {
    long n = positions.elementCount();
    int half = angles.invFreq().length;
    long hs = 2L * half;
    long rowLen = x.elementCount() / n;
    long heads = rowLen / hs;
    MemorySegment xs = x.data();
    float[] cos = angles.cos(), sin = angles.sin();
    int vectorEnd = half / CpuVectorOps.LANES * CpuVectorOps.LANES;
    for (long r = rowFrom; r < rowTo; r++) {
      int at = getI32(positions.data(), r) * half;
      for (long h = 0; h < heads; h++) {
        long base = r * rowLen + h * hs;
        for (int i = 0; i < vectorEnd; i += CpuVectorOps.LANES) {
          FloatVector c = FloatVector.fromArray(CpuVectorOps.F, cos, at + i);
          FloatVector s = FloatVector.fromArray(CpuVectorOps.F, sin, at + i);
          if (inverse) {
            s = s.neg();
          }
          FloatVector x1 = CpuVectorOps.load(xs, base + i);
          FloatVector x2 = CpuVectorOps.load(xs, base + half + i);
          CpuVectorOps.store(x1.mul(c).sub(x2.mul(s)), xs, base + i);
          CpuVectorOps.store(x2.mul(c).add(x1.mul(s)), xs, base + half + i);
        }
        for (int i = vectorEnd; i < half; i++) {
          float c = cos[at + i];
          float s = inverse ? -sin[at + i] : sin[at + i];
          float x1 = getF32(xs, base + i);
          float x2 = getF32(xs, base + half + i);
          setF32(xs, base + i, x1 * c - x2 * s);
          setF32(xs, base + half + i, x2 * c + x1 * s);
        }
      }
    }
  }

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
