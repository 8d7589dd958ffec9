package dev.entity.engine.backend.cpu;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.Random;

/** Test-side construction and reading of host tensors. */
final class HostTensors {

  private HostTensors() {}

  static Tensor random(Backend be, Random rng, float scale, long... shape) {
    Tensor t = be.allocate(DType.F32, shape);
    for (long i = 0; i < t.elementCount(); i++) {
      CpuElements.setF32(t.data(), i, (float) (rng.nextGaussian() * scale));
    }
    return t;
  }

  static Tensor filled(Backend be, float value, long... shape) {
    Tensor t = be.allocate(DType.F32, shape);
    for (long i = 0; i < t.elementCount(); i++) {
      CpuElements.setF32(t.data(), i, value);
    }
    return t;
  }

  static Tensor ints(Backend be, int[] values, long... shape) {
    Tensor t = be.allocate(DType.I32, shape);
    for (int i = 0; i < values.length; i++) {
      t.data().setAtIndex(CpuElements.I32, i, values[i]);
    }
    return t;
  }

  static Tensor copy(Backend be, Tensor src) {
    Tensor t = be.allocate(src.dtype(), src.shape());
    be.download(t, src);
    return t;
  }

  static double[] doubles(Tensor t) {
    double[] d = new double[(int) t.elementCount()];
    for (int i = 0; i < d.length; i++) {
      d[i] = CpuElements.read(t, i);
    }
    return d;
  }

  static float get(Tensor t, long i) {
    return CpuElements.read(t, i);
  }

  static void set(Tensor t, long i, float v) {
    CpuElements.write(t, i, v);
  }

  /** sum(r * t) in double: the scalar loss whose gradient with respect to t is r. */
  static double dot(Tensor r, Tensor t) {
    double acc = 0;
    for (long i = 0; i < t.elementCount(); i++) {
      acc += (double) get(r, i) * get(t, i);
    }
    return acc;
  }

  static double maxAbsDiff(Tensor a, Tensor b) {
    double m = 0;
    for (long i = 0; i < a.elementCount(); i++) {
      m = Math.max(m, Math.abs((double) get(a, i) - get(b, i)));
    }
    return m;
  }
}
