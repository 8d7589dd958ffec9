// Dimensions: N new query rows, S cache rows, NH query heads, NKV key/value heads, HS head size;
// query head h reads key/value head h / (NH / NKV). Query row i is at position start + i and sees
// cache rows 0 .. start + i.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Inference attention of a few new query rows against a key/value cache, as used by KV-cache
 * decoding. The blocked kernel runs one task per (query row, key/value head), the group's query
 * heads sharing each key and value block as the rows of the training kernel's tiles, with an online
 * softmax and no per-call arrays; the scalar reference runs one (query row, head) at a time.
 */
final class CpuDecodeAttention {

  private CpuDecodeAttention() {}

  static void forward(
      WorkerPool pool,
      boolean scalar,
      Tensor out,
      Tensor q,
      Tensor keys,
      Tensor values,
      long start,
      float scale) {
    OperandChecks.DecodeShape shape = OperandChecks.decode(out, q, keys, values, start);
    long n = shape.n(), nh = shape.nh(), hs = shape.hs(), nkv = shape.nkv(), s = shape.cacheRows();
    Dims d = new Dims(nh, nkv, hs, start);
    if (scalar) {
      pool.run(
          Math.toIntExact(n * nh),
          task -> {
            long row = task / nh;
            float[] scores = new float[Math.toIntExact(start + row + 1)];
            rowScalar(out, q, keys, values, scale, d, row, task % nh, scores);
          });
      return;
    }
    CpuAttention.Dims cache = new CpuAttention.Dims(1, s, nh, nkv, hs);
    pool.run(
        Math.toIntExact(n * nkv),
        task ->
            blockedTask(
                out, q, keys, values, scale, cache, start + task / nkv, task / nkv, task % nkv));
  }

  /**
   * The query heads of one key/value head at one position as the rows of the training kernel's
   * tiles (padded to 4), attending to the cache in blocks of KB keys with an online softmax.
   */
  private static void blockedTask(
      Tensor out,
      Tensor q,
      Tensor keys,
      Tensor values,
      float scale,
      CpuAttention.Dims d,
      long position,
      long row,
      long kh) {
    MemorySegment qs = q.data(), ks = keys.data(), vs = values.data(), os = out.data();
    int kb = CpuAttentionTiles.KB, lanes = CpuAttentionTiles.LANES;
    int hs = (int) d.hs(), hsp = CpuAttention.padded(hs);
    int group = (int) (d.nh() / d.nkv()), rows = CpuAttention.roundUp4(group);
    AttentionScratch sc = AttentionScratch.local();
    sc.startForward(rows, hs, hsp, kb, lanes);
    float[] qRows = sc.rows, acc = sc.acc, s = sc.scores, kT = sc.keysT;
    float[] kRows = sc.keys, vRows = sc.values, sums = sc.sum;
    for (int g = 0; g < group; g++) {
      CpuAttention.loadScaled(qRows, g * hsp, qs, d.qIndex(0, row, kh * group + g), hs, hsp, scale);
    }
    for (int s0 = 0; s0 <= position; s0 += kb) {
      int cols = (int) Math.min(kb, position + 1 - s0);
      CpuAttention.loadRows(kRows, ks, d, 0, kh, s0, cols, hsp);
      CpuAttention.transpose(kT, kRows, hs, hsp);
      CpuAttention.loadRows(vRows, vs, d, 0, kh, s0, cols, hsp);
      for (int r0 = 0; r0 < rows; r0 += 4) {
        CpuAttentionTiles.scores4(qRows, r0 * hsp, hsp, hs, kT, 0, s, 0);
        for (int i = 0; i < 4; i++) {
          int from = r0 + i < group ? cols : 0; // padding rows and keys past the position
          java.util.Arrays.fill(s, i * kb + from, (i + 1) * kb, Float.NEGATIVE_INFINITY);
          CpuAttention.onlineSoftmax(sc, s, i * kb, r0 + i, hsp);
        }
        CpuAttentionTiles.accumulate4(acc, r0 * hsp, hsp, s, 0, kb, 1, vRows, 0, hsp, kb, hsp);
      }
    }
    for (int g = 0; g < group; g++) {
      float sum = 0f;
      for (int l = 0; l < lanes; l++) {
        sum += sums[g * lanes + l];
      }
      CpuAttentionTiles.scaleRow(acc, g * hsp, hsp, 1f / sum);
      MemorySegment.copy(
          acc, g * hsp, os, CpuElements.F32, d.qIndex(0, row, kh * group + g) * 4, hs);
    }
  }

  private record Dims(long nh, long nkv, long hs, long start) {
    long qIndex(long row, long head) {
      return (row * nh + head) * hs;
    }

    long kvIndex(long row, long kvHead) {
      return (row * nkv + kvHead) * hs;
    }
  }

  /** Reference: one query row and head, plain loops. */
  static void rowScalar(
      Tensor out,
      Tensor q,
      Tensor keys,
      Tensor values,
      float scale,
      Dims d,
      long row,
      long head,
      float[] scores) {
    MemorySegment qs = q.data(), ks = keys.data(), vs = values.data(), os = out.data();
    long kvHead = head / (d.nh() / d.nkv());
    long qo = d.qIndex(row, head);
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < scores.length; j++) {
      long ko = d.kvIndex(j, kvHead);
      float dot = 0f;
      for (long e = 0; e < d.hs(); e++) {
        dot += getF32(qs, qo + e) * getF32(ks, ko + e);
      }
      scores[j] = dot * scale;
      max = Math.max(max, scores[j]);
    }
    float sum = 0f;
    for (int j = 0; j < scores.length; j++) {
      scores[j] = (float) Math.exp(scores[j] - max);
      sum += scores[j];
    }
    for (long e = 0; e < d.hs(); e++) {
      float acc = 0f;
      for (int j = 0; j < scores.length; j++) {
        acc += scores[j] * getF32(vs, d.kvIndex(j, kvHead) + e);
      }
      setF32(os, qo + e, acc / sum);
    }
  }
}
