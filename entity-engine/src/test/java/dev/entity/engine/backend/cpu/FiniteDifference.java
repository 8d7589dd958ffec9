package dev.entity.engine.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.tensor.Tensor;
import java.util.function.DoubleSupplier;

/**
 * Central finite differences of a scalar loss computed by an F32 forward, compared with an analytic
 * gradient. With inputs of order one, eps = 1e-2 keeps the truncation error near 1e-4 relative and
 * the F32 rounding of the loss (summed in double) near 1e-4 absolute.
 */
final class FiniteDifference {

  static final float EPS = 1e-2f;

  private FiniteDifference() {}

  /**
   * Checks {@code analytic} (the gradient of {@code loss} with respect to {@code input}) element by
   * element; {@code loss} must recompute the forward from the current contents of {@code input}.
   */
  static void check(String what, Tensor input, double[] analytic, DoubleSupplier loss) {
    double maxGrad = 0;
    for (double g : analytic) {
      maxGrad = Math.max(maxGrad, Math.abs(g));
    }
    double tolerance = 2e-3 + 2e-2 * maxGrad;
    for (long i = 0; i < input.elementCount(); i++) {
      float saved = HostTensors.get(input, i);
      HostTensors.set(input, i, saved + EPS);
      double plus = loss.getAsDouble();
      HostTensors.set(input, i, saved - EPS);
      double minus = loss.getAsDouble();
      HostTensors.set(input, i, saved);
      double numeric = (plus - minus) / (2.0 * EPS);
      assertThat(analytic[(int) i])
          .as("%s: d loss / d %s[%d] (numeric %.6f)", what, what, i, numeric)
          .isCloseTo(numeric, org.assertj.core.data.Offset.offset(tolerance));
    }
    assertThat(maxGrad).as("%s: gradient must not vanish", what).isGreaterThan(1e-4);
  }

  /** analytic = after - before, element by element: the part a backward accumulated. */
  static double[] accumulated(Tensor after, double[] before) {
    double[] a = HostTensors.doubles(after);
    for (int i = 0; i < a.length; i++) {
      a[i] -= before[i];
    }
    return a;
  }
}
