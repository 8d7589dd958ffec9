// Dimensions: B batch, T time, NH query heads, NKV key/value heads, HS head size.
// The blocked attention kernels against the scalar reference on shapes that cross every tiling
// edge (several forward query blocks and key blocks, partial tiles, head sizes with and without a
// vector remainder, groups of 1 to 6 query heads), with segment ids that repeat after a gap.
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

class CpuBlockedAttentionTest {

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

  /** Operands of one attention call and its gradients. */
  private record Case(Tensor q, Tensor k, Tensor v, Tensor dout, Tensor seg, float scale) {

    static Case random(Random rng, long b, long t, long nh, long nkv, long hs, boolean packed) {
      Tensor seg = null;
      if (packed) {
        int[] ids = new int[(int) (b * t)];
        for (int i = 0; i < ids.length; i++) {
          long p = i % t;
          // row 0: three samples and padding whose id repeats the first sample's after a gap
          ids[i] = i < t ? (p < t / 3 ? 0 : p < t / 2 ? 1 : p < t - 5 ? 2 : 0) : 7;
        }
        seg = HostTensors.ints(fast, ids, b, t);
      }
      return new Case(
          HostTensors.random(fast, rng, 1f, b, t, nh, hs),
          HostTensors.random(fast, rng, 1f, b, t, nkv, hs),
          HostTensors.random(fast, rng, 1f, b, t, nkv, hs),
          HostTensors.random(fast, rng, 1f, b, t, nh, hs),
          seg,
          (float) (1 / Math.sqrt(hs)));
    }

    /** out, lse, dq, dk, dv of the backend, the gradients accumulated onto the given start. */
    Tensor[] run(CpuBackend be, Tensor dq0, Tensor dk0, Tensor dv0) {
      Tensor out = fast.allocate(DType.F32, q.shape());
      Tensor lse = fast.allocate(DType.F32, q.dim(0), q.dim(2), q.dim(1));
      be.attentionForward(out, lse, q, k, v, seg, scale);
      Tensor dq = copy(fast, dq0), dk = copy(fast, dk0), dv = copy(fast, dv0);
      be.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, seg, scale);
      return new Tensor[] {out, lse, dq, dk, dv};
    }
  }

  private static void assertClose(Tensor actual, Tensor expected, double tolerance, String what) {
    assertThat(HostTensors.maxAbsDiff(actual, expected)).as(what).isLessThanOrEqualTo(tolerance);
  }

  @Test
  void matchesReferenceAcrossTileEdgesWithRepeatedSegmentIdsAndGqa() {
    Random rng = new Random(50);
    String[] names = {"out", "lse", "dq", "dk", "dv"};
    // {B, T, NH, NKV, HS}: T past one forward block of queries, HS with and without a remainder
    long[][] shapes = {{2, 150, 6, 2, 64}, {1, 37, 6, 1, 72}, {2, 33, 2, 2, 8}, {1, 5, 4, 4, 3}};
    for (long[] s : shapes) {
      for (boolean packed : new boolean[] {true, false}) {
        Case c = Case.random(rng, s[0], s[1], s[2], s[3], s[4], packed);
        Tensor dq0 = random(fast, rng, 1f, c.q().shape());
        Tensor dk0 = random(fast, rng, 1f, c.k().shape());
        Tensor dv0 = random(fast, rng, 1f, c.v().shape());
        Tensor[] got = c.run(fast, dq0, dk0, dv0);
        Tensor[] want = c.run(reference, dq0, dk0, dv0);
        for (int i = 0; i < got.length; i++) {
          String what = names[i] + " for " + java.util.Arrays.toString(s) + " packed=" + packed;
          assertClose(got[i], want[i], i < 2 ? 2e-5 : 2e-4, what);
        }
      }
    }
  }

  @Test
  void bitsDoNotDependOnTheThreadCountAndScratchFromLargerCallsDoesNotLeak() {
    Random rng = new Random(51);
    Case large = Case.random(rng, 2, 150, 6, 2, 64, true);
    Case small = Case.random(rng, 1, 21, 6, 3, 24, true);
    Tensor[][] results = new Tensor[3][];
    int[] threadCounts = {1, 2, 3};
    for (int run = 0; run < 3; run++) {
      try (CpuBackend be = new CpuBackend(threadCounts[run], false)) {
        large.run(be, zeros(large.q()), zeros(large.k()), zeros(large.v()));
        results[run] = small.run(be, zeros(small.q()), zeros(small.k()), zeros(small.v()));
      }
    }
    for (int run = 1; run < 3; run++) {
      for (int i = 0; i < results[0].length; i++) {
        assertThat(results[run][i].data().mismatch(results[0][i].data()))
            .as("result %d with %d threads", i, threadCounts[run])
            .isEqualTo(-1);
      }
    }
    Tensor[] want = small.run(reference, zeros(small.q()), zeros(small.k()), zeros(small.v()));
    for (int i = 0; i < want.length; i++) {
      assertClose(results[0][i], want[i], 2e-4, "small case after a large one, result " + i);
    }
  }

  private static Tensor zeros(Tensor like) {
    return fast.allocate(DType.F32, like.shape());
  }
}
