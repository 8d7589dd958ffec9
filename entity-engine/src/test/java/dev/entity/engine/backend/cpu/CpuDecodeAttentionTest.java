// Dimensions: T sequence, N new query rows, S cache rows, NH query heads, NKV key/value heads, HS
// head size.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.HostTensors.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cache attention against the training kernel's causal attention (the rows it decodes must equal
 * the last rows of full attention), and the vectorized kernel against the scalar reference.
 */
class CpuDecodeAttentionTest {

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

  @Test
  void lastRowsEqualFullCausalAttention() {
    // several key blocks, head sizes that fill whole tiles or leave a remainder, groups above 4
    long[][] shapes = {
      {9, 4, 2, 16}, {5, 2, 2, 8}, {12, 6, 3, 32}, {7, 3, 1, 5}, {70, 9, 3, 64}, {45, 12, 2, 72}
    };
    Random rng = new Random(11);
    for (long[] s : shapes) {
      long t = s[0], nh = s[1], nkv = s[2], hs = s[3];
      float scale = (float) (1 / Math.sqrt(hs));
      Tensor q = random(fast, rng, 1f, 1, t, nh, hs);
      Tensor k = random(fast, rng, 1f, 1, t, nkv, hs);
      Tensor v = random(fast, rng, 1f, 1, t, nkv, hs);
      Tensor full = fast.allocate(DType.F32, 1, t, nh, hs);
      Tensor lse = fast.allocate(DType.F32, 1, nh, t);
      reference.attentionForward(full, lse, q, k, v, null, scale);
      // a cache bigger than the sequence: rows past it must be ignored
      Tensor keys = random(fast, rng, 100f, t + 3, nkv, hs);
      Tensor values = random(fast, rng, 100f, t + 3, nkv, hs);
      fast.download(keys.rows(0, t), k.reshape(t, nkv, hs));
      fast.download(values.rows(0, t), v.reshape(t, nkv, hs));
      for (long n : new long[] {1, 3, t}) {
        long start = t - n;
        Tensor qn = q.reshape(t, nh, hs).rows(start, n);
        for (CpuBackend be : new CpuBackend[] {fast, reference}) {
          Tensor out = be.allocate(DType.F32, n, nh, hs);
          be.attentionDecode(out, qn, keys, values, start, scale);
          Tensor expected = full.reshape(t, nh, hs).rows(start, n);
          assertThat(HostTensors.maxAbsDiff(out, expected))
              .as("T=%d NH=%d NKV=%d HS=%d, %d new rows", t, nh, nkv, hs, n)
              .isLessThan(1e-5);
        }
      }
    }
  }

  @Test
  void refusesRowsPastTheCacheAndMismatchedHeads() {
    Tensor q = fast.allocate(DType.F32, 2, 4, 8);
    Tensor out = fast.allocate(DType.F32, 2, 4, 8);
    Tensor keys = fast.allocate(DType.F32, 5, 2, 8);
    Tensor odd = fast.allocate(DType.F32, 5, 3, 8);
    assertThatThrownBy(() -> fast.attentionDecode(out, q, keys, keys, 4, 1f))
        .hasMessageContaining("exceed the cache");
    assertThatThrownBy(() -> fast.attentionDecode(out, q, odd, odd, 0, 1f))
        .hasMessageContaining("do not fit");
  }
}
