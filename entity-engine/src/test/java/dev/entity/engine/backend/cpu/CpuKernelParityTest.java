// Dimensions: M/K/N of a matrix product; B, T, NH, NKV, HS of attention; N rows, V vocabulary.
// The optimized kernels against their scalar references on odd shapes that do not tile, plus the
// determinism promise: the same thread count gives the same bits.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.HostTensors.copy;
import static dev.entity.engine.backend.cpu.HostTensors.ints;
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
      {1, 1, 1},
      {7, 3, 5},
      {70, 40, 16},
      {37, 50, 45},
      {13, 257, 33},
      {6, 16, 32},
      {5, 1600, 7},
      {3, 20, 3100}
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

  @Test
  void lowRankTermFusedIntoTheProductGivesTheComposedBits() {
    Random rng = new Random(39);
    // {M, K, N, R}: rows that do not tile by 6, a K of two passes, columns that do not tile by 32
    long[][] shapes = {{37, 50, 45, 5}, {64, 1600, 96, 16}, {13, 40, 33, 64}};
    for (long[] s : shapes) {
      long m = s[0], k = s[1], n = s[2], r = s[3];
      for (int combo = 0; combo < 8; combo++) {
        boolean transB = (combo & 1) != 0, transW = (combo & 2) != 0, acc = (combo & 4) != 0;
        for (float p : new float[] {0f, 0.3f}) {
          Tensor a = random(fast, rng, 1f, m, k);
          Tensor b = random(fast, rng, 1f, transB ? n : k, transB ? k : n);
          Tensor h = random(fast, rng, 1f, m, r);
          Tensor w = random(fast, rng, 1f, transW ? n : r, transW ? r : n);
          Tensor out = random(fast, rng, 1f, m, n);
          Tensor composed = copy(fast, out);
          Tensor expected = copy(fast, out);
          Tensor work = fast.allocate(DType.F32, m, n);
          String what = m + "x" + k + "x" + n + " r=" + r + " combo " + combo + " p=" + p;
          fast.matmulPlusLowRank(out, a, b, transB, acc, h, w, transW, 0.5f, p, 77 + m, work);
          // the composition the fused kernel replaces, on the same backend: the same bits
          fast.matmul(composed, a, b, false, transB, 1f, acc);
          if (p == 0f) {
            fast.matmul(composed, h, w, false, transW, 0.5f, true);
          } else {
            fast.matmul(work, h, w, false, transW, 0.5f, false);
            fast.dropout(work, work, p, 77 + m);
            fast.add(composed, composed, work);
          }
          assertThat(sameBits(out, composed)).as("fused against composed, %s", what).isTrue();
          reference.matmulPlusLowRank(
              expected, a, b, transB, acc, h, w, transW, 0.5f, p, 77 + m, work);
          assertClose(out, expected, 1e-5 * Math.sqrt(k + r), "against the reference, " + what);
        }
      }
    }
  }

  @Test
  void ropeFromTheAngleTableGivesTheReferenceBits() {
    Random rng = new Random(36);
    // half = 40: two full vectors of 16 and a scalar tail; 3 heads; positions that grow the table
    // past its first size, packed rows restarting at 0, and the inverse rotation
    long n = 9, heads = 3, half = 40;
    Tensor invFreq = fast.allocate(DType.F32, half);
    for (long i = 0; i < half; i++) {
      invFreq.data().setAtIndex(CpuElements.F32, i, (float) Math.pow(10000, -2.0 * i / (2 * half)));
    }
    int[][] positionSets = {{0, 1, 2, 3, 4, 5, 6, 7, 8}, {0, 1, 2, 0, 1, 700, 701, 3, 4096}};
    for (int[] ps : positionSets) {
      Tensor positions = ints(fast, ps, n);
      for (boolean inverse : new boolean[] {false, true}) {
        Tensor x = random(fast, rng, 1f, n, heads, 2 * half);
        Tensor expected = copy(fast, x);
        fast.rope(x, positions, invFreq, inverse);
        reference.rope(expected, positions, invFreq, inverse);
        assertThat(sameBits(x, expected)).as("rope inverse=%s positions %s", inverse, ps).isTrue();
      }
    }
  }

  @Test
  void attentionMatchesReferenceAcrossKeyTilesWithPackingAndGqa() {
    Random rng = new Random(32);
    long b = 2, t = 70, nh = 4, nkv = 2, hs = 20;
    int[] segIds = new int[(int) (b * t)];
    for (int i = 0; i < segIds.length; i++) {
      segIds[i] = i < t ? (i < 30 ? 0 : i < 66 ? 1 : 2) : 0; // row 0 packed, row 1 one sample
    }
    for (boolean packed : new boolean[] {true, false}) {
      Tensor q = random(fast, rng, 1f, b, t, nh, hs);
      Tensor k = random(fast, rng, 1f, b, t, nkv, hs);
      Tensor v = random(fast, rng, 1f, b, t, nkv, hs);
      Tensor seg = packed ? HostTensors.ints(fast, segIds, b, t) : null;
      Tensor out = fast.allocate(DType.F32, b, t, nh, hs);
      Tensor lse = fast.allocate(DType.F32, b, nh, t);
      Tensor refOut = fast.allocate(DType.F32, b, t, nh, hs);
      Tensor refLse = fast.allocate(DType.F32, b, nh, t);
      float scale = 0.2f;
      fast.attentionForward(out, lse, q, k, v, seg, scale);
      reference.attentionForward(refOut, refLse, q, k, v, seg, scale);
      assertClose(out, refOut, 1e-5, "attention out, packed=" + packed);
      assertClose(lse, refLse, 1e-5, "attention lse, packed=" + packed);
      Tensor dout = random(fast, rng, 1f, b, t, nh, hs);
      Tensor dq = random(fast, rng, 1f, b, t, nh, hs);
      Tensor dk = random(fast, rng, 1f, b, t, nkv, hs);
      Tensor dv = random(fast, rng, 1f, b, t, nkv, hs);
      Tensor rdq = copy(fast, dq), rdk = copy(fast, dk), rdv = copy(fast, dv);
      fast.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, seg, scale);
      reference.attentionBackward(rdq, rdk, rdv, dout, q, k, v, refOut, refLse, seg, scale);
      assertClose(dq, rdq, 1e-4, "attention dq, packed=" + packed);
      assertClose(dk, rdk, 1e-4, "attention dk, packed=" + packed);
      assertClose(dv, rdv, 1e-4, "attention dv, packed=" + packed);
      Tensor again = copy(fast, out);
      fast.attentionForward(again, lse, q, k, v, seg, scale);
      assertThat(sameBits(again, out)).as("forward is repeatable bit for bit").isTrue();
    }
  }

  @Test
  void crossEntropyMatchesReferenceOverAnOddVocabulary() {
    Random rng = new Random(33);
    long n = 9, v = 1007;
    Tensor logits = random(fast, rng, 4f, n, v);
    Tensor expected = copy(fast, logits);
    int[] t = {0, 1006, -100, 5, 500, 500, -100, 17, 1000};
    Tensor targets = HostTensors.ints(fast, t, n);
    Tensor losses = fast.allocate(DType.F32, n);
    Tensor refLosses = fast.allocate(DType.F32, n);
    fast.crossEntropyForwardBackward(losses, logits, targets, -100, 0.125f);
    reference.crossEntropyForwardBackward(refLosses, expected, targets, -100, 0.125f);
    assertClose(losses, refLosses, 1e-6, "cross-entropy losses");
    assertClose(logits, expected, 1e-6, "cross-entropy gradient");
  }

  @Test
  void adamwIsBitIdenticalToReference() {
    Random rng = new Random(34);
    long n = 4099;
    Tensor p = random(fast, rng, 1f, n), g = random(fast, rng, 1f, n);
    Tensor m = random(fast, rng, 0.1f, n), v = random(fast, rng, 0.1f, n);
    for (long i = 0; i < n; i++) {
      HostTensors.set(v, i, Math.abs(HostTensors.get(v, i)));
    }
    Tensor rp = copy(fast, p), rm = copy(fast, m), rv = copy(fast, v);
    fast.adamw(p, g, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, 7);
    reference.adamw(rp, g, rm, rv, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, 7);
    assertThat(sameBits(p, rp)).isTrue();
    assertThat(sameBits(m, rm)).isTrue();
    assertThat(sameBits(v, rv)).isTrue();
  }

  @Test
  void sumsMatchReferenceAndDoNotDependOnThreads() {
    Random rng = new Random(35);
    Tensor x = random(fast, rng, 1f, 3 * CpuReductions.CHUNK + 13);
    assertThat(fast.sum(x)).isCloseTo(reference.sum(x), org.assertj.core.data.Offset.offset(1e-2));
    double sq = reference.sumOfSquares(x);
    assertThat(fast.sumOfSquares(x)).isCloseTo(sq, org.assertj.core.data.Offset.offset(1e-5 * sq));
    try (CpuBackend three = new CpuBackend(3, false)) {
      assertThat(three.sumOfSquares(x)).isEqualTo(fast.sumOfSquares(x));
      assertThat(three.sum(x)).isEqualTo(fast.sum(x));
    }
  }

  @Test
  void rmsNormMatchesReference() {
    Random rng = new Random(36);
    long n = 33, c = 77;
    Tensor x = random(fast, rng, 2f, n, c), w = random(fast, rng, 1f, c);
    Tensor out = fast.allocate(DType.F32, n, c), rstd = fast.allocate(DType.F32, n);
    Tensor refOut = fast.allocate(DType.F32, n, c), refRstd = fast.allocate(DType.F32, n);
    fast.rmsNormForward(out, rstd, x, w, 1e-5f);
    reference.rmsNormForward(refOut, refRstd, x, w, 1e-5f);
    assertClose(out, refOut, 1e-6, "rms out");
    assertClose(rstd, refRstd, 1e-6, "rms rstd");
    Tensor g = random(fast, rng, 1f, n, c);
    Tensor dx = random(fast, rng, 1f, n, c), dw = random(fast, rng, 1f, c);
    Tensor rdx = copy(fast, dx), rdw = copy(fast, dw);
    fast.rmsNormBackward(dx, dw, g, x, w, rstd);
    reference.rmsNormBackward(rdx, rdw, g, x, w, rstd);
    assertClose(dx, rdx, 1e-5, "rms dx");
    assertClose(dw, rdw, 1e-5, "rms dweight");
  }

  @Test
  void activationsMatchReference() {
    Random rng = new Random(37);
    // the second size runs several scratch passes per range piece, then a scalar tail
    for (long n : new long[] {1003, 8 * 1024 + 3 * CpuVectorMath.LANES + 5}) {
      activationsMatchReference(rng, n);
    }
  }

  private static void activationsMatchReference(Random rng, long n) {
    Tensor a = random(fast, rng, 3f, n), b = random(fast, rng, 1f, n), g = random(fast, rng, 1f, n);
    Tensor out = fast.allocate(DType.F32, n), ref = fast.allocate(DType.F32, n);
    fast.swigluForward(out, a, b);
    reference.swigluForward(ref, a, b);
    assertClose(out, ref, 1e-6, "swiglu");
    fast.geluForward(out, a);
    reference.geluForward(ref, a);
    assertClose(out, ref, 1e-6, "gelu");
    Tensor da = random(fast, rng, 1f, n), db = random(fast, rng, 1f, n);
    Tensor rda = copy(fast, da), rdb = copy(fast, db);
    fast.swigluBackward(da, db, g, a, b);
    reference.swigluBackward(rda, rdb, g, a, b);
    assertClose(da, rda, 1e-5, "swiglu dgate");
    assertClose(db, rdb, 1e-5, "swiglu dup");
    fast.geluBackward(da, g, a);
    reference.geluBackward(rda, g, a);
    assertClose(da, rda, 1e-5, "gelu dx");
  }

  @Test
  void vectorExpIsAccurateAndItsScalarTwinGivesTheSameBits() {
    float[] xs = new float[CpuVectorMath.LANES * 64];
    Random rng = new Random(38);
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) (rng.nextDouble() * 180 - 90);
    }
    xs[0] = Float.NEGATIVE_INFINITY;
    xs[1] = 0f;
    xs[2] = -87.5f;
    xs[3] = 88.7f;
    float[] ys = new float[xs.length];
    for (int i = 0; i < xs.length; i += CpuVectorMath.LANES) {
      CpuVectorMath.exp(jdk.incubator.vector.FloatVector.fromArray(CpuVectorMath.F, xs, i))
          .intoArray(ys, i);
    }
    for (int i = 0; i < xs.length; i++) {
      assertThat(ys[i]).as("twin at %s", xs[i]).isEqualTo(CpuVectorMath.exp(xs[i]));
      double exact = Math.exp(xs[i]);
      if (xs[i] > -87.3f && xs[i] < 88.37f) {
        assertThat(Math.abs(ys[i] - exact) / exact).as("exp(%s)", xs[i]).isLessThan(3e-7);
      }
    }
    assertThat(ys[0]).isZero();
    assertThat(ys[1]).isEqualTo(1f);
  }

  @Test
  void layerNormAndBiasesAreBitIdenticalToReference() {
    Random rng = new Random(39);
    long n = 29, c = 83;
    Tensor x = random(fast, rng, 2f, n, c), w = random(fast, rng, 1f, c);
    Tensor bias = random(fast, rng, 1f, c), g = random(fast, rng, 1f, n, c);
    Tensor out = fast.allocate(DType.F32, n, c);
    Tensor mean = fast.allocate(DType.F32, n), rstd = fast.allocate(DType.F32, n);
    fast.layerNormForward(out, mean, rstd, x, w, bias, 1e-5f);
    Tensor dx = random(fast, rng, 1f, n, c), dw = random(fast, rng, 1f, c);
    Tensor db = random(fast, rng, 1f, c);
    Tensor rdx = copy(fast, dx), rdw = copy(fast, dw), rdb = copy(fast, db);
    fast.layerNormBackward(dx, dw, db, g, x, w, mean, rstd);
    reference.layerNormBackward(rdx, rdw, rdb, g, x, w, mean, rstd);
    assertThat(sameBits(dx, rdx) && sameBits(dw, rdw) && sameBits(db, rdb)).isTrue();
    Tensor y = copy(fast, g), ry = copy(fast, g);
    fast.addBias(y, bias);
    reference.addBias(ry, bias);
    assertThat(sameBits(y, ry)).isTrue();
    fast.biasBackward(db, g);
    reference.biasBackward(rdb, g);
    assertThat(sameBits(db, rdb)).isTrue();
  }

  @Test
  void attentionAndCrossEntropyBitsDoNotDependOnTheThreadCount() {
    Random rng = new Random(40);
    long b = 2, t = 40, nh = 4, nkv = 2, hs = 16;
    Tensor q = random(fast, rng, 1f, b, t, nh, hs);
    Tensor k = random(fast, rng, 1f, b, t, nkv, hs);
    Tensor v = random(fast, rng, 1f, b, t, nkv, hs);
    Tensor g = random(fast, rng, 1f, b, t, nh, hs);
    Tensor logits = random(fast, rng, 3f, 12, 333);
    Tensor targets = HostTensors.ints(fast, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 12);
    Tensor[][] results = new Tensor[2][];
    int[] threadCounts = {1, 3};
    for (int run = 0; run < 2; run++) {
      try (CpuBackend be = new CpuBackend(threadCounts[run], false)) {
        Tensor out = fast.allocate(DType.F32, b, t, nh, hs);
        Tensor lse = fast.allocate(DType.F32, b, nh, t);
        Tensor dq = fast.allocate(DType.F32, b, t, nh, hs);
        Tensor dk = fast.allocate(DType.F32, b, t, nkv, hs);
        Tensor dv = fast.allocate(DType.F32, b, t, nkv, hs);
        Tensor grad = copy(fast, logits);
        Tensor losses = fast.allocate(DType.F32, 12);
        be.attentionForward(out, lse, q, k, v, null, 0.25f);
        be.attentionBackward(dq, dk, dv, g, q, k, v, out, lse, null, 0.25f);
        be.crossEntropyForwardBackward(losses, grad, targets, -100, 1f);
        results[run] = new Tensor[] {out, lse, dq, dk, dv, grad, losses};
      }
    }
    for (int i = 0; i < results[0].length; i++) {
      assertThat(sameBits(results[0][i], results[1][i])).as("result %d", i).isTrue();
    }
  }

  @Test
  void matmulWithAHalfPrecisionLeftOperandMatchesReference() {
    Random rng = new Random(41);
    for (long[] s : new long[][] {{25, 19, 9}, {25, 19, 40}}) {
      long m = s[0], k = s[1], n = s[2];
      for (boolean ta : new boolean[] {false, true}) {
        Tensor a32 = random(fast, rng, 1f, ta ? k : m, ta ? m : k);
        Tensor a = fast.allocate(DType.BF16, a32.shape());
        fast.convert(a, a32);
        Tensor b = random(fast, rng, 1f, k, n);
        Tensor out = fast.allocate(DType.F32, m, n), expected = fast.allocate(DType.F32, m, n);
        fast.matmul(out, a, b, ta, false, 1f, false);
        reference.matmul(expected, a, b, ta, false, 1f, false);
        assertClose(out, expected, 1e-5 * Math.sqrt(k), "bf16 a, ta=" + ta + " n=" + n);
      }
    }
  }

  @Test
  void dropoutMaskIsBitIdenticalToReference() {
    Random rng = new Random(42);
    Tensor x = random(fast, rng, 1f, 10_007);
    Tensor out = fast.allocate(DType.F32, 10_007), ref = fast.allocate(DType.F32, 10_007);
    for (long seed : new long[] {0, 7, -3L << 40}) {
      fast.dropout(out, x, 0.1f, seed);
      reference.dropout(ref, x, 0.1f, seed);
      assertThat(sameBits(out, ref)).as("seed %d", seed).isTrue();
    }
  }
}
