// Dimensions: M rows of a and out, K contracted, N columns of out.
// The dot-product path (few rows against a weight stored (N, K)) against the scalar reference;
// each shape is checked to take the path it is meant to, so a change of the routing rule cannot
// silently skip the test. Narrow outputs (LoRA's r) stay on the blocked kernel and are checked too.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.HostTensors.copy;
import static dev.entity.engine.backend.cpu.HostTensors.random;
import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CpuMatmulDotTest {

  private static CpuBackend fast;
  private static CpuBackend reference;

  @BeforeAll
  static void open() {
    fast = new CpuBackend(2, false);
    reference = new CpuBackend(1, true);
  }

  @AfterAll
  static void close() {
    fast.close();
    reference.close();
  }

  static void assertClose(Tensor actual, Tensor expected, double relative, String what) {
    double scale = 0;
    for (long i = 0; i < expected.elementCount(); i++) {
      scale = Math.max(scale, Math.abs(HostTensors.get(expected, i)));
    }
    assertThat(HostTensors.maxAbsDiff(actual, expected))
        .as("%s: max |optimized - reference| against max |reference| %.3g", what, scale)
        .isLessThanOrEqualTo(relative * Math.max(1, scale));
  }

  private static Tensor weight(Random rng, DType dtype, long rows, long cols) {
    Tensor w32 = random(fast, rng, 1f, rows, cols);
    if (dtype == DType.F32) {
      return w32;
    }
    Tensor w = fast.allocate(dtype, rows, cols);
    fast.convert(w, w32);
    return w;
  }

  /** One product on both backends, checked to take the dot path when tb and m <= 8. */
  private static void check(
      Random rng, long m, long k, long n, DType bType, boolean tb, float alpha, boolean acc) {
    boolean dot = tb && m <= CpuMatmulDot.MAX_ROWS;
    Tensor a = random(fast, rng, 1f, m, k);
    Tensor b = weight(rng, bType, tb ? n : k, tb ? k : n);
    Tensor out = random(fast, rng, 1f, m, n);
    Tensor expected = copy(fast, out);
    String what = m + "x" + k + "x" + n + " " + bType + " tb=" + tb + " acc=" + acc;
    assertThat(CpuMatmulDot.applies(a, b, false, tb, CpuMatmul.Dims.of(out, a, b, false, tb)))
        .as("takes the dot path: " + what)
        .isEqualTo(dot);
    fast.matmul(out, a, b, false, tb, alpha, acc);
    reference.matmul(expected, a, b, false, tb, alpha, acc);
    assertClose(out, expected, 2e-6 * Math.sqrt(k), what);
  }

  @Test
  void fewRowsMatchReferenceForEveryWeightDtypeAndOddSizes() {
    Random rng = new Random(50);
    for (long m : new long[] {1, 2, 3, 5, 8}) {
      for (long k : new long[] {1, 7, 17, 63, 65, 130}) {
        for (long n : new long[] {1, 7, 33, 65}) {
          for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            check(rng, m, k, n, dtype, true, 0.75f, (k + n) % 2 == 0);
          }
        }
      }
    }
  }

  @Test
  void narrowOutputsOfManyRowsStayBlockedAndMatchReference() {
    Random rng = new Random(51);
    for (long m : new long[] {1, 9, 17, 63, 130}) {
      for (long k : new long[] {1, 16, 17, 65}) {
        for (long n : new long[] {1, 4, 7, 16}) {
          for (boolean tb : new boolean[] {false, true}) {
            DType dtype = (m + k) % 3 == 0 ? DType.BF16 : DType.F32;
            check(rng, m, k, n, dtype, tb, m % 2 == 0 ? 1f : -0.5f, (m + n) % 2 == 1);
          }
        }
      }
    }
  }

  @Test
  void wideDecodeRowsSpanManyColumnBlocksAndTasks() {
    Random rng = new Random(52);
    check(rng, 1, 96, 3000, DType.F32, true, 1f, false);
    check(rng, 3, 100, 1031, DType.BF16, true, 2f, true);
  }

  @Test
  void routingSendsOnlyUntransposedF32LeftOperandsWithFewRowsOrColumns() {
    Tensor a = fast.allocate(DType.F32, 64, 32);
    Tensor wide = fast.allocate(DType.F32, 64, 32);
    Tensor out = fast.allocate(DType.F32, 64, 64);
    assertThat(
            CpuMatmulDot.applies(
                a, wide, false, true, CpuMatmul.Dims.of(out, a, wide, false, true)))
        .as("64 rows, 64 columns: blocked")
        .isFalse();
    Tensor aBf16 = fast.allocate(DType.BF16, 2, 32);
    Tensor out2 = fast.allocate(DType.F32, 2, 64);
    assertThat(
            CpuMatmulDot.applies(
                aBf16, wide, false, true, CpuMatmul.Dims.of(out2, aBf16, wide, false, true)))
        .as("BF16 left operand: blocked")
        .isFalse();
    Tensor at = fast.allocate(DType.F32, 32, 2);
    assertThat(
            CpuMatmulDot.applies(
                at, wide, true, true, CpuMatmul.Dims.of(out2, at, wide, true, true)))
        .as("transposed a: blocked")
        .isFalse();
    Tensor kn = fast.allocate(DType.F32, 32, 64);
    assertThat(
            CpuMatmulDot.applies(
                a.rows(0, 2),
                kn,
                false,
                false,
                CpuMatmul.Dims.of(out2, a.rows(0, 2), kn, false, false)))
        .as("b stored (K, N): blocked")
        .isFalse();
  }

  @Test
  void bitsDoNotDependOnTheThreadCount() {
    Random rng = new Random(53);
    Tensor a = random(fast, rng, 1f, 5, 301);
    Tensor b = weight(rng, DType.BF16, 700, 301);
    Tensor one = fast.allocate(DType.F32, 5, 700);
    Tensor three = fast.allocate(DType.F32, 5, 700);
    try (CpuBackend single = new CpuBackend(1, false);
        CpuBackend triple = new CpuBackend(3, false)) {
      single.matmul(one, a, b, false, true, 1f, false);
      triple.matmul(three, a, b, false, true, 1f, false);
    }
    assertThat(one.data().mismatch(three.data())).isEqualTo(-1L);
  }

  @Test
  void theOneRowTileGivesTheFourRowTilesBitsForItsRow() {
    Random rng = new Random(11);
    for (int k : new int[] {1, 7, 16, 17, 63, 130}) {
      MemorySegment a = Arena.ofAuto().allocate(4L * k, 64);
      MemorySegment b = Arena.ofAuto().allocate(4L * 4 * k, 64);
      for (int p = 0; p < k; p++) {
        a.setAtIndex(ValueLayout.JAVA_FLOAT, p, rng.nextFloat() - 0.5f);
      }
      for (int p = 0; p < 4 * k; p++) {
        b.setAtIndex(ValueLayout.JAVA_FLOAT, p, rng.nextFloat() - 0.5f);
      }
      for (int cols = 1; cols <= 4; cols++) {
        float[] four = new float[16];
        float[] one = new float[16];
        CpuMatmulDot.tile(a, 0, 1, b, 0, cols, k, four);
        CpuMatmulDot.tileOneRow(a, 0, b, 0, cols, k, one);
        for (int c = 0; c < cols; c++) {
          assertThat(Float.floatToRawIntBits(one[c]))
              .as("k %d, column %d of %d", k, c, cols)
              .isEqualTo(Float.floatToRawIntBits(four[c]));
        }
      }
    }
  }

  @Test
  void theBf16RowTileGivesTheStagedPathsBits() {
    Random rng = new Random(12);
    for (int k : new int[] {1, 15, 16, 33, 130}) {
      MemorySegment a = Arena.ofAuto().allocate(4L * k, 64);
      MemorySegment b16 = Arena.ofAuto().allocate(2L * 4 * k, 64);
      MemorySegment b32 = Arena.ofAuto().allocate(4L * 4 * k, 64);
      for (int p = 0; p < k; p++) {
        a.setAtIndex(ValueLayout.JAVA_FLOAT, p, rng.nextFloat() - 0.5f);
      }
      for (int p = 0; p < 4 * k; p++) {
        short bits = (short) (Float.floatToRawIntBits(rng.nextFloat() - 0.5f) >>> 16);
        b16.setAtIndex(ValueLayout.JAVA_SHORT, p, bits);
        b32.setAtIndex(ValueLayout.JAVA_FLOAT, p, CpuElements.bf16ToFloat(bits));
      }
      for (int cols = 1; cols <= 4; cols++) {
        float[] staged = new float[16];
        float[] fused = new float[16];
        CpuMatmulDot.tileOneRow(a, 0, b32, 0, cols, k, staged);
        CpuMatmulDot.tileOneRowBf16(a, b16, 0, cols, k, fused);
        for (int c = 0; c < cols; c++) {
          assertThat(Float.floatToRawIntBits(fused[c]))
              .as("k %d, column %d of %d", k, c, cols)
              .isEqualTo(Float.floatToRawIntBits(staged[c]));
        }
      }
    }
  }
}
