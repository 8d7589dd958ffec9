package dev.entity.engine.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.model.SharedCpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * LoraLinear (with a fused three-part output, bias and dropout) against central finite differences
 * of L = sum(y * r): every gradient the layer accumulates, dx included.
 */
class LoraLinearTest {

  private static final Backend backend = SharedCpuBackend.get();
  private static final int N = 5;
  private static final int C = 6;
  private static final int OC = 9; // three parts of 3, as GPT-2's c_attn
  private static final int R = 2;

  private static Tensor random(SplittableRandom rng, long... shape) {
    Tensor t = backend.allocate(DType.F32, shape);
    for (long i = 0; i < t.elementCount(); i++) {
      t.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextDouble(-1, 1));
    }
    return t;
  }

  private static double dot(Tensor[] ys, Tensor[] rs) {
    double s = 0;
    for (int p = 0; p < ys.length; p++) {
      for (long i = 0; i < ys[p].elementCount(); i++) {
        s +=
            (double) ys[p].data().getAtIndex(ValueLayout.JAVA_FLOAT, i)
                * rs[p].data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
      }
    }
    return s;
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    SplittableRandom rng = new SplittableRandom(5);
    Tensor x = random(rng, N, C);
    Tensor w = random(rng, OC, C);
    Tensor bias = random(rng, OC);
    Tensor a = random(rng, R, C);
    Tensor b = random(rng, OC, R);
    Tensor dw = backend.allocate(DType.F32, OC, C);
    Tensor dbias = backend.allocate(DType.F32, OC);
    Tensor da = backend.allocate(DType.F32, R, C);
    Tensor db = backend.allocate(DType.F32, OC, R);
    Tensor dx = backend.allocate(DType.F32, N, C);
    Tensor h = backend.allocate(DType.F32, N, R);
    Scratch s1 = new Scratch(backend.allocate(DType.F32, N * C));
    Scratch s2 = new Scratch(backend.allocate(DType.F32, N * R));
    Scratch s3 = new Scratch(backend.allocate(DType.F32, N * C));
    LoraLinear layer =
        new LoraLinear(
            backend,
            new Linear(backend, w, bias, dw, dbias),
            a,
            b,
            da,
            db,
            1.5f,
            0.25f,
            s1,
            s2,
            s3);
    Tensor[] ys = {
      backend.allocate(DType.F32, N, 3),
      backend.allocate(DType.F32, N, 3),
      backend.allocate(DType.F32, N, 3)
    };
    Tensor[] rs = {random(rng, N, 3), random(rng, N, 3), random(rng, N, 3)};
    long seed = 1234;
    layer.forward(ys, h, x, seed);
    layer.backward(dx, rs, h, x, seed);

    Tensor[][] checks = {{x, dx}, {w, dw}, {bias, dbias}, {a, da}, {b, db}};
    String[] names = {"dx", "dW", "dbias", "dA", "dB"};
    for (int c = 0; c < checks.length; c++) {
      Tensor p = checks[c][0];
      Tensor g = checks[c][1];
      double worst = 0;
      for (long i = 0; i < p.elementCount(); i++) {
        float orig = p.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        float eps = 1e-2f;
        p.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, orig + eps);
        layer.forward(ys, h, x, seed);
        double plus = dot(ys, rs);
        p.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, orig - eps);
        layer.forward(ys, h, x, seed);
        double minus = dot(ys, rs);
        p.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, orig);
        double numeric = (plus - minus) / (2 * eps);
        double analytic = g.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        worst = Math.max(worst, Math.abs(numeric - analytic) / Math.max(1, Math.abs(numeric)));
      }
      System.out.printf("LoraLinear %s worst relative error %.2e%n", names[c], worst);
      assertThat(worst).as(names[c]).isLessThan(2e-3);
    }
  }

  @Test
  void disabledAdapterIsTheBaseLayerAndEvaluationSkipsDropout() {
    SplittableRandom rng = new SplittableRandom(6);
    Tensor x = random(rng, N, C);
    Tensor w = random(rng, OC, C);
    Tensor a = random(rng, R, C);
    Tensor b = random(rng, OC, R);
    Scratch s1 = new Scratch(backend.allocate(DType.F32, N * C));
    Scratch s2 = new Scratch(backend.allocate(DType.F32, N * R));
    Scratch s3 = new Scratch(backend.allocate(DType.F32, N * C));
    Linear base = new Linear(backend, w, null, null, null);
    LoraLinear lora = new LoraLinear(backend, base, a, b, null, null, 2f, 0.5f, s1, s2, s3);
    Tensor h = backend.allocate(DType.F32, N, R);
    Tensor yBase = backend.allocate(DType.F32, N, OC);
    Tensor y = backend.allocate(DType.F32, N, OC);
    base.forward(yBase, null, x, 0);
    lora.setDisabled(true);
    lora.forward(y, h, x, 7);
    assertThat(floats(y)).containsExactly(floats(yBase));
    lora.setDisabled(false);
    lora.setTraining(false);
    lora.forward(y, h, x, 7);
    float[] eval1 = floats(y);
    lora.forward(y, h, x, 8);
    assertThat(floats(y)).containsExactly(eval1); // no dropout: the seed does not matter
    lora.setTraining(true);
    lora.forward(y, h, x, 7);
    float[] train7 = floats(y);
    lora.forward(y, h, x, 8);
    assertThat(floats(y)).isNotEqualTo(train7);
    assertThat(train7).isNotEqualTo(eval1);
  }

  private static float[] floats(Tensor t) {
    return t.data().toArray(ValueLayout.JAVA_FLOAT);
  }
}
