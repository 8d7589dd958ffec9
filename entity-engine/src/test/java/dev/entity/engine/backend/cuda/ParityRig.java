// Host tensors come from the CPU backend (so both backends see the same bits); device copies are
// made with the CUDA backend's upload and read back with download, never through Java pointers.
package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Random operands on the host, their copies on the GPU, and the comparisons of a parity test: the
 * same op run by the CPU backend and the CUDA backend must agree within a relative tolerance (or
 * bit for bit where the kernel reproduces the CPU's arithmetic).
 */
final class ParityRig {

  final Backend cpu;
  final Backend gpu;
  private final SplittableRandom random;

  ParityRig(Backend cpu, Backend gpu, long seed) {
    this.cpu = cpu;
    this.gpu = gpu;
    this.random = new SplittableRandom(seed);
  }

  /** A host tensor of normal values times {@code std}, rounded to {@code dtype}. */
  Tensor normal(float std, DType dtype, long... shape) {
    Tensor t = cpu.allocate(dtype, shape);
    Tensor f = cpu.allocate(DType.F32, shape);
    for (long i = 0; i < f.elementCount(); i++) {
      f.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (gaussian() * std));
    }
    cpu.convert(t, f);
    cpu.free(f);
    return t;
  }

  Tensor normal(long... shape) {
    return normal(1f, DType.F32, shape);
  }

  /** A host I32 tensor of values in [0, bound). */
  Tensor ints(int bound, long... shape) {
    Tensor t = cpu.allocate(DType.I32, shape);
    for (long i = 0; i < t.elementCount(); i++) {
      t.data().setAtIndex(ValueLayout.JAVA_INT, i, random.nextInt(bound));
    }
    return t;
  }

  /** A host tensor holding {@code values}. */
  Tensor of(float[] values, long... shape) {
    Tensor t = cpu.allocate(DType.F32, shape);
    for (int i = 0; i < values.length; i++) {
      t.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
    }
    return t;
  }

  private double gaussian() {
    double u = random.nextDouble(1e-12, 1.0);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  /** A device copy of a host tensor (null stays null). */
  Tensor up(Tensor host) {
    return host == null ? null : gpu.upload(host);
  }

  /** A host copy of the tensor (a clone for a host tensor), for ops that work in place. */
  Tensor copy(Tensor host) {
    Tensor t = cpu.allocate(host.dtype(), host.shape());
    cpu.convert(t, host);
    return t;
  }

  /** The values of a host or device tensor as F32 (BF16/F16 widened exactly). */
  float[] floats(Tensor t) {
    Tensor host = onHost(t);
    Tensor f = cpu.allocate(DType.F32, host.shape());
    cpu.convert(f, host);
    float[] out = f.data().toArray(ValueLayout.JAVA_FLOAT);
    cpu.free(f);
    return out;
  }

  /** The raw bytes of a host or device tensor. */
  byte[] bytes(Tensor t) {
    return onHost(t).data().toArray(ValueLayout.JAVA_BYTE);
  }

  /** The tensor itself when it is on the host, else a host copy of it. */
  private Tensor onHost(Tensor t) {
    if (t.device() instanceof dev.entity.engine.tensor.Device.Cpu) {
      return t;
    }
    Tensor host = cpu.allocate(t.dtype(), t.shape());
    gpu.download(host, t);
    return host;
  }

  /** Each |gpu - cpu| within rtol (|cpu| + the rms of cpu), so near-zero entries are fair. */
  static void assertClose(String what, float[] expected, float[] actual, double rtol) {
    assertThat(actual).as(what + " length").hasSameSizeAs(expected);
    double ss = 0;
    for (float e : expected) {
      ss += (double) e * e;
    }
    double rms = expected.length == 0 ? 0 : Math.sqrt(ss / expected.length);
    for (int i = 0; i < expected.length; i++) {
      double limit = rtol * (Math.abs(expected[i]) + rms) + 1e-30;
      if (!(Math.abs(actual[i] - expected[i]) <= limit)) {
        throw new AssertionError(
            what
                + "["
                + i
                + "]: gpu "
                + actual[i]
                + " vs cpu "
                + expected[i]
                + " (limit "
                + limit
                + ")");
      }
    }
  }

  /** Runs {@code op} on the CPU operands and on device copies, then compares {@code outputs}. */
  void check(String what, double rtol, Tensor[] hostOperands, int[] outputs, Op op) {
    Tensor[] cpuOps = new Tensor[hostOperands.length];
    Tensor[] gpuOps = new Tensor[hostOperands.length];
    for (int i = 0; i < hostOperands.length; i++) {
      cpuOps[i] = hostOperands[i] == null ? null : copy(hostOperands[i]);
      gpuOps[i] = up(hostOperands[i]);
    }
    op.run(cpu, cpuOps);
    op.run(gpu, gpuOps);
    for (int o : outputs) {
      if (rtol == 0) {
        assertThat(bytes(gpuOps[o])).as(what + " operand " + o).isEqualTo(bytes(cpuOps[o]));
      } else {
        assertClose(what + " operand " + o, floats(cpuOps[o]), floats(gpuOps[o]), rtol);
      }
    }
  }

  /** One op applied to a backend and its operands (outputs included). */
  @FunctionalInterface
  interface Op {
    void run(Backend b, Tensor[] t);
  }
}
