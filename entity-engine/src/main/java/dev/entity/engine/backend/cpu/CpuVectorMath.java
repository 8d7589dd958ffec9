// Only IEEE add, multiply, fma, compare and bit moves: these give the same bits in the interpreter,
// C1 and C2, whereas the Vector API's EXP/TANH and float reduceLanes(ADD) may differ between the
// intrinsic and the Java fallback, which would break bit-reproducibility during JIT warm-up.
package dev.entity.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Deterministic vector math for the CPU kernels: exp (about 2 ulp), sigmoid, tanh, and lane sums in
 * a fixed order, each with a scalar twin that gives the same bits lane by lane.
 */
final class CpuVectorMath {

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();

  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  private static final float ROUNDER = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
  private static final float MIN_X = -87.33654f; // below: exp underflows to 0
  // above: +inf (from 88.3763 on, where 2^n would need exponent 128; the true overflow is at
  // 88.7228: no kernel here feeds exp anything that large but sigmoid/tanh, which saturate anyway)
  private static final float MAX_X = 88.3762f;

  private CpuVectorMath() {}

  /** e^x per lane: Cody-Waite reduction to |r| <= ln2/2, a degree-6 polynomial, then 2^n. */
  static FloatVector exp(FloatVector x) {
    VectorMask<Float> under = x.compare(VectorOperators.LT, MIN_X);
    VectorMask<Float> over = x.compare(VectorOperators.GT, MAX_X);
    FloatVector xc = x.max(MIN_X).min(MAX_X);
    FloatVector t = xc.fma(LOG2E, ROUNDER);
    FloatVector n = t.sub(ROUNDER);
    FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), xc);
    r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
    FloatVector p = FloatVector.broadcast(F, 1.3888889e-3f);
    p = p.fma(r, FloatVector.broadcast(F, 8.3333338e-3f));
    p = p.fma(r, FloatVector.broadcast(F, 4.1666668e-2f));
    p = p.fma(r, FloatVector.broadcast(F, 0.16666667f));
    p = p.fma(r, FloatVector.broadcast(F, 0.5f));
    p = p.fma(r, FloatVector.broadcast(F, 1f));
    p = p.fma(r, FloatVector.broadcast(F, 1f));
    IntVector bits =
        ((IntVector) t.reinterpretAsInts())
            .sub(Float.floatToRawIntBits(ROUNDER))
            .add(127)
            .lanewise(VectorOperators.LSHL, 23);
    FloatVector scaled = p.mul((FloatVector) bits.reinterpretAsFloats());
    return scaled.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
  }

  /** The scalar twin of {@link #exp(FloatVector)}: the same operations, the same bits. */
  static float exp(float x) {
    if (x < MIN_X) {
      return 0f;
    }
    if (x > MAX_X) {
      return Float.POSITIVE_INFINITY;
    }
    if (Float.isNaN(x)) {
      return x;
    }
    float t = Math.fma(x, LOG2E, ROUNDER);
    float n = t - ROUNDER;
    float r = Math.fma(n, -LN2_HI, x);
    r = Math.fma(n, -LN2_LO, r);
    float p = 1.3888889e-3f;
    p = Math.fma(p, r, 8.3333338e-3f);
    p = Math.fma(p, r, 4.1666668e-2f);
    p = Math.fma(p, r, 0.16666667f);
    p = Math.fma(p, r, 0.5f);
    p = Math.fma(p, r, 1f);
    p = Math.fma(p, r, 1f);
    int bits = (Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUNDER) + 127) << 23;
    return p * Float.intBitsToFloat(bits);
  }

  /** 1 / (1 + e^-x). */
  static FloatVector sigmoid(FloatVector x) {
    return FloatVector.broadcast(F, 1f).div(exp(x.neg()).add(1f));
  }

  static float sigmoid(float x) {
    return 1f / (1f + exp(-x));
  }

  /** 1 - 2 / (e^2x + 1): saturates to +-1 without overflow trouble. */
  static FloatVector tanh(FloatVector x) {
    return FloatVector.broadcast(F, 1f)
        .sub(FloatVector.broadcast(F, 2f).div(exp(x.add(x)).add(1f)));
  }

  static float tanh(float x) {
    return 1f - 2f / (exp(x + x) + 1f);
  }

  /** The lanes of v added in lane order (scratch holds at least LANES floats). */
  static float sumLanes(FloatVector v, float[] scratch) {
    v.intoArray(scratch, 0);
    float s = 0f;
    for (int i = 0; i < LANES; i++) {
      s += scratch[i];
    }
    return s;
  }
}
