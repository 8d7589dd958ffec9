// Dimensions: N rows, V vocabulary. The logits buffer is overwritten with its own gradient, so the
// loss never needs a second (N, V) buffer; ignored rows are zeroed, not skipped.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * Fused softmax cross-entropy forward and backward over the vocabulary on the host, one row at a
 * time: loss = logsumexp(logits) - logits[target]; gradient = (softmax - onehot) * gradScale.
 */
final class CpuLoss {

  private CpuLoss() {}

  static long vocab(Tensor losses, Tensor logits, Tensor targets) {
    OperandChecks.requireF32(losses, logits);
    OperandChecks.requireI32(targets);
    long n = targets.elementCount();
    OperandChecks.requireCount(losses, n, "losses (N)");
    if (n == 0) {
      return 0;
    }
    long v = logits.dim(-1);
    OperandChecks.requireCount(logits, n * v, "logits (N, V)");
    return v;
  }

  static int checkedTarget(Tensor targets, long n, long vocab, int ignoreIndex) {
    int t = getI32(targets.data(), n);
    if (t != ignoreIndex && (t < 0 || t >= vocab)) {
      throw new EngineException(
          "label "
              + t
              + " at row "
              + n
              + " is outside the vocabulary [0, "
              + vocab
              + ") and is not the ignore index "
              + ignoreIndex
              + ": the labels were made with another tokenizer");
    }
    return t;
  }

  /** Rows [rowFrom, rowTo) of logits (N, V), in place; losses (N). */
  static void forwardBackwardScalar(
      Tensor losses,
      Tensor logits,
      Tensor targets,
      int ignoreIndex,
      float gradScale,
      long v,
      long rowFrom,
      long rowTo) {
    MemorySegment ls = logits.data();
    for (long r = rowFrom; r < rowTo; r++) {
      int target = checkedTarget(targets, r, v, ignoreIndex);
      long base = r * v;
      if (target == ignoreIndex) {
        for (long i = 0; i < v; i++) {
          setF32(ls, base + i, 0f);
        }
        setF32(losses.data(), r, 0f);
        continue;
      }
      float max = Float.NEGATIVE_INFINITY;
      for (long i = 0; i < v; i++) {
        max = Math.max(max, getF32(ls, base + i));
      }
      double sum = 0;
      for (long i = 0; i < v; i++) {
        sum += Math.exp(getF32(ls, base + i) - max);
      }
      float targetLogit = getF32(ls, base + target);
      setF32(losses.data(), r, (float) (Math.log(sum) + max - targetLogit));
      float inv = (float) (1.0 / sum);
      for (long i = 0; i < v; i++) {
        float p = (float) Math.exp(getF32(ls, base + i) - max) * inv;
        setF32(ls, base + i, (p - (i == target ? 1f : 0f)) * gradScale);
      }
    }
  }

  /**
   * The vectorized rows: max, then e = exp(x - max) written back in place while summing, then e
   * scaled by gradScale / sum and the target's one subtracted: one exp per logit.
   */
  static void forwardBackwardVector(
      Tensor losses,
      Tensor logits,
      Tensor targets,
      int ignoreIndex,
      float gradScale,
      long v,
      long rowFrom,
      long rowTo) {
    MemorySegment ls = logits.data();
    float[] lanes = new float[CpuVectorMath.LANES];
    int step = CpuVectorMath.LANES;
    for (long r = rowFrom; r < rowTo; r++) {
      int target = checkedTarget(targets, r, v, ignoreIndex);
      long base = r * v;
      long end = base + (v / step) * step;
      if (target == ignoreIndex) {
        ls.asSlice(base * 4, v * 4).fill((byte) 0);
        setF32(losses.data(), r, 0f);
        continue;
      }
      float[][] b = HostChunks.local();
      float max = Float.NEGATIVE_INFINITY;
      for (long c = base; c < end; c += HostChunks.CHUNK) {
        int n = (int) Math.min(HostChunks.CHUNK, end - c);
        HostChunks.load(b[0], ls, c, n);
        max = Math.max(max, CpuAttentionTiles.max(b[0], n));
      }
      for (long i = end; i < base + v; i++) {
        max = Math.max(max, getF32(ls, i));
      }
      float targetLogit = getF32(ls, base + target);
      java.util.Arrays.fill(lanes, 0f);
      for (long c = base; c < end; c += HostChunks.CHUNK) {
        int n = (int) Math.min(HostChunks.CHUNK, end - c);
        HostChunks.load(b[0], ls, c, n);
        expShiftSum(b[0], n, max, lanes);
        HostChunks.store(b[0], ls, c, n);
      }
      float lanesSum = 0f; // the lanes in order
      for (float lane : lanes) {
        lanesSum += lane;
      }
      double sum = lanesSum;
      for (long i = end; i < base + v; i++) {
        float e = CpuVectorMath.exp(getF32(ls, i) - max);
        setF32(ls, i, e);
        sum += e;
      }
      setF32(losses.data(), r, (float) (Math.log(sum) + max - targetLogit));
      float factor = (float) (gradScale / sum);
      for (long c = base; c < end; c += HostChunks.CHUNK) {
        int n = (int) Math.min(HostChunks.CHUNK, end - c);
        HostChunks.load(b[0], ls, c, n);
        CpuAttentionTiles.scaleRow(b[0], 0, n, factor);
        HostChunks.store(b[0], ls, c, n);
      }
      for (long i = end; i < base + v; i++) {
        setF32(ls, i, getF32(ls, i) * factor);
      }
      setF32(ls, base + target, getF32(ls, base + target) - gradScale);
    }
  }

  /**
   * s[i] = exp(s[i] - max) over [0, n) (whole vectors), adding the values into the LANES running
   * sums of lanes. A method of its own: with exp inlined it is about as much as C2 inlines into one
   * compilation without boxing vectors.
   */
  private static void expShiftSum(float[] s, int n, float max, float[] lanes) {
    FloatVector sum = FloatVector.fromArray(CpuVectorMath.F, lanes, 0);
    for (int i = 0; i < n; i += CpuVectorMath.LANES) {
      FloatVector e = CpuVectorMath.exp(FloatVector.fromArray(CpuVectorMath.F, s, i).sub(max));
      e.intoArray(s, i);
      sum = sum.add(e);
    }
    sum.intoArray(lanes, 0);
  }
}
