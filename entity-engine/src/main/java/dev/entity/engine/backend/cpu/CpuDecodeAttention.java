// Dimensions: N new query rows, S cache rows, NH query heads, NKV key/value heads, HS head size;
// query head h reads key/value head h / (NH / NKV). Query row i is at position start + i and sees
// cache rows 0 .. start + i.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Inference attention of a few new query rows against a key/value cache, as used by KV-cache
 * decoding: one task per (query row, head), scores over the visible cache rows, a softmax and the
 * weighted sum of values. The scalar reference and the vectorized kernel differ only in how the dot
 * products and the weighted sums are summed.
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
    CpuElements.requireF32(out, q, keys, values);
    if (q.rank() != 3 || keys.rank() != 3) {
      throw new IllegalArgumentException(
          "q must be (N, NH, HS) and keys (S, NKV, HS): q=" + q + " keys=" + keys);
    }
    long n = q.dim(0), nh = q.dim(1), hs = q.dim(2), s = keys.dim(0), nkv = keys.dim(1);
    if (nkv == 0 || nh % nkv != 0 || keys.dim(2) != hs) {
      throw new IllegalArgumentException("keys " + keys + " do not fit queries " + q);
    }
    if (start < 0 || start + n > s) {
      throw new IllegalArgumentException(
          "rows " + start + ".." + (start + n) + " exceed the cache of " + s);
    }
    CpuElements.requireCount(values, s * nkv * hs, "values (S, NKV, HS)");
    CpuElements.requireCount(out, n * nh * hs, "out (N, NH, HS)");
    Dims d = new Dims(nh, nkv, hs, start);
    pool.run(
        Math.toIntExact(n * nh),
        task -> {
          long row = task / nh;
          long head = task % nh;
          float[] scores = new float[Math.toIntExact(start + row + 1)];
          if (scalar || hs % CpuVectorOps.LANES != 0) {
            rowScalar(out, q, keys, values, scale, d, row, head, scores);
          } else {
            rowVector(out, q, keys, values, scale, d, row, head, scores);
          }
        });
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

  /** Vectorized over the head size (a multiple of the vector length). */
  static void rowVector(
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
    int lanes = CpuVectorOps.LANES;
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < scores.length; j++) {
      long ko = d.kvIndex(j, kvHead);
      FloatVector acc = FloatVector.zero(CpuVectorOps.F);
      for (long e = 0; e < d.hs(); e += lanes) {
        acc = CpuVectorOps.load(qs, qo + e).fma(CpuVectorOps.load(ks, ko + e), acc);
      }
      scores[j] = acc.reduceLanes(VectorOperators.ADD) * scale;
      max = Math.max(max, scores[j]);
    }
    float sum = 0f;
    for (int j = 0; j < scores.length; j++) {
      scores[j] = (float) Math.exp(scores[j] - max);
      sum += scores[j];
    }
    float inv = 1f / sum;
    for (long e = 0; e < d.hs(); e += lanes) {
      FloatVector acc = FloatVector.zero(CpuVectorOps.F);
      for (int j = 0; j < scores.length; j++) {
        acc =
            CpuVectorOps.load(vs, d.kvIndex(j, kvHead) + e)
                .fma(FloatVector.broadcast(CpuVectorOps.F, scores[j]), acc);
      }
      CpuVectorOps.store(acc.mul(inv), os, qo + e);
    }
  }
}
