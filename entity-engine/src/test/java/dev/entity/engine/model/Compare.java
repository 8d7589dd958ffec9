package dev.entity.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

/** Max-difference comparisons that print what they measured. */
final class Compare {

  private Compare() {}

  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static double maxDiff(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  /** Asserts max |actual - expected| <= rel * max(|expected|) + abs, and prints the difference. */
  static void close(String what, float[] actual, float[] expected, double rel, double abs) {
    double diff = maxDiff(actual, expected);
    double scale = maxAbs(expected);
    System.out.printf("%-70s max|diff| %.3e  (max|ref| %.3e)%n", what, diff, scale);
    assertThat(diff)
        .as(what + " max |diff| (max |ref| " + scale + ")")
        .isLessThanOrEqualTo(rel * scale + abs);
  }

  /**
   * Weights after Adam steps: Adam divides by sqrt(v), so an element whose gradient is near zero
   * turns float rounding into a visible step. Asserts that all but {@code fraction} of the elements
   * are within {@code rel} of the largest value and that every element is within {@code bound}.
   */
  static void closeAfterAdam(
      String what, float[] actual, float[] expected, double rel, double fraction, double bound) {
    double tight = rel * maxAbs(expected) + 1e-6;
    int off = 0;
    for (int i = 0; i < actual.length; i++) {
      if (Math.abs(actual[i] - expected[i]) > tight) {
        off++;
      }
    }
    double diff = maxDiff(actual, expected);
    System.out.printf(
        "%-70s max|diff| %.3e  (max|ref| %.3e, %d of %d beyond %.1e)%n",
        what, diff, maxAbs(expected), off, actual.length, tight);
    assertThat(off)
        .as(what + " elements beyond " + tight)
        .isLessThanOrEqualTo((int) Math.max(1, fraction * actual.length));
    assertThat(diff).as(what + " max |diff|").isLessThanOrEqualTo(bound);
  }
}
