// Dimensions: M/K/N of a matrix product; B, T, NH, NKV, HS of attention; N rows, V vocabulary.
// The optimized kernels against their scalar references on odd shapes that do not tile, plus the
// determinism promise: the same thread count gives the same bits.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.HostTensors.copy;
import static dev.entity.engine.backend.cpu.HostTensors.random;
import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CpuKernelParityTest {

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

  private static void assertClose(Tensor actual, Tensor expected, double relative, String what) {
    double scale = 0;
    for (long i = 0; i < expected.elementCount(); i++) {
      scale = Math.max(scale, Math.abs(HostTensors.get(expected, i)));
    }
    assertThat(HostTensors.maxAbsDiff(actual, expected))
        .as("%s: max |optimized - reference| against max |reference| %.3g", what, scale)
        .isLessThanOrEqualTo(relative * Math.max(1, scale));
  }

  private static boolean sameBits(Tensor a, Tensor b) {
    return a.data().mismatch(b.data()) == -1;
  }

  @Test
  void matmulMatchesReferenceOnShapesThatDoNotTile() {
    Random rng = new Random(30);
    long[][] shapes = {
      {1, 1, 1}, {7, 3, 5}, {61, 90, 70}, {13, 257, 33}, {6, 16, 32}, {5, 1600, 7}, {3, 20, 3100}
    };
    for (long[] s : shapes) {
      long m = s[0], k = s[1], n = s[2];
      for (DType bType : new DType[] {DType.F32, DType.BF16, DType.F16}) {
        for (int combo = 0; combo < 4; combo++) {
          boolean ta = (combo & 1) != 0, tb = (combo & 2) != 0;
          Tensor a = random(fast, rng, 1f, ta ? k : m, ta ? m : k);
          Tensor b32 = random(fast, rng, 1f, tb ? n : k, tb ? k : n);
          Tensor b = fast.allocate(bType, b32.shape());
          fast.convert(b, b32);
          Tensor out = random(fast, rng, 1f, m, n);
          Tensor expected = copy(fast, out);
          boolean acc = combo != 1;
          fast.matmul(out, a, b, ta, tb, 0.75f, acc);
          reference.matmul(expected, a, b, ta, tb, 0.75f, acc);
          assertClose(
              out,
              expected,
              1e-5 * Math.sqrt(k),
              "matmul " + m + "x" + k + "x" + n + " " + bType + " ta=" + ta + " tb=" + tb);
        }
      }
    }
  }

  @Test
  void matmulBitsDoNotDependOnTheThreadCount() {
    Random rng = new Random(31);
    Tensor a = random(fast, rng, 1f, 250, 300);
    Tensor b = random(fast, rng, 1f, 100, 300);
    Tensor one = fast.allocate(DType.F32, 250, 100);
    Tensor two = fast.allocate(DType.F32, 250, 100);
    try (CpuBackend single = new CpuBackend(1, false);
        CpuBackend three = new CpuBackend(3, false)) {
      single.matmul(one, a, b, false, true, 1f, false);
      three.matmul(two, a, b, false, true, 1f, false);
    }
    assertThat(sameBits(one, two)).isTrue();
    fast.matmul(two, a, b, false, true, 1f, false);
    assertThat(sameBits(one, two)).isTrue();
  }
}
