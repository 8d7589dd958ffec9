package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.assertj.core.data.Offset;

/** A device backend's product against the CPU backend's on the same random operands. */
final class MatmulCheck {

  private MatmulCheck() {}

  /** A host tensor of uniform [-1, 1) values, rounded to {@code dtype}. */
  static Tensor hostRandom(CpuBackend cpu, DType dtype, Random rnd, long... shape) {
    Tensor t = cpu.allocate(DType.F32, shape);
    for (long i = 0; i < t.elementCount(); i++) {
      t.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, rnd.nextFloat() * 2 - 1);
    }
    if (dtype == DType.F32) {
      return t;
    }
    Tensor out = cpu.allocate(dtype, shape);
    cpu.convert(out, t);
    return out;
  }

  /**
   * {@code out = 0.75 op(a) op(b) (+ out)} with a (M, K) of {@code aType} and b (K, N) of {@code
   * bType} on both backends; every element within {@code tolerance} times the largest |expected|.
   */
  static void compare(
      Backend device,
      CpuBackend cpu,
      DType aType,
      DType bType,
      boolean transA,
      boolean transB,
      boolean accumulate,
      long m,
      long k,
      long n,
      double tolerance) {
    Random rnd = new Random(m * 31 + k * 7 + n);
    Tensor a = hostRandom(cpu, aType, rnd, transA ? k : m, transA ? m : k);
    Tensor b = hostRandom(cpu, bType, rnd, transB ? n : k, transB ? k : n);
    Tensor start = hostRandom(cpu, DType.F32, rnd, m, n);
    Tensor want = cpu.allocate(DType.F32, m, n);
    cpu.convert(want, start);
    cpu.matmul(want, a, b, transA, transB, 0.75f, accumulate);
    Tensor out = device.upload(start);
    Tensor da = device.upload(a);
    Tensor db = device.upload(b);
    device.matmul(out, da, db, transA, transB, 0.75f, accumulate);
    Tensor got = cpu.allocate(DType.F32, m, n);
    device.download(got, out);
    float[] w = want.data().toArray(ValueLayout.JAVA_FLOAT);
    float[] g = got.data().toArray(ValueLayout.JAVA_FLOAT);
    double scale = 0;
    for (float v : w) {
      scale = Math.max(scale, Math.abs(v));
    }
    String what =
        aType + " x " + bType + " transA=" + transA + " transB=" + transB + " acc=" + accumulate;
    for (int i = 0; i < w.length; i++) {
      assertThat((double) g[i])
          .as(what + " at " + i)
          .isCloseTo(w[i], Offset.offset(tolerance * scale));
    }
    for (Tensor t : new Tensor[] {out, da, db, a, b, start, want, got}) {
      (t.device().equals(device.device()) ? device : cpu).free(t);
    }
  }
}
