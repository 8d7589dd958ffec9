// Convention: targets are already the NEXT-token ids (targets[t] = labels[t + 1]), so row n of the
// final hidden state is scored against targets[n]; -100 marks rows without a target.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import dev.entity.engine.layer.CrossEntropy;

/**
 * One micro-batch on the host, row-major (B, T): input ids, next-token targets (-100 ignored),
 * position ids (restarting per packed sample) and segment ids (a query sees only keys of its own
 * segment; padding gets a segment of its own).
 */
public record Batch(
    int batchSize, int seqLen, int[] inputIds, int[] targets, int[] positions, int[] segments) {

  public Batch {
    long n = (long) batchSize * seqLen;
    if (batchSize <= 0 || seqLen <= 0) {
      throw new EngineException(
          "batch must have positive size and length: " + batchSize + "x" + seqLen);
    }
    for (int[] a : new int[][] {inputIds, targets, positions, segments}) {
      if (a == null || a.length != n) {
        throw new EngineException("every batch array must hold B*T = " + n + " ids");
      }
    }
    inputIds = inputIds.clone();
    targets = targets.clone();
    positions = positions.clone();
    segments = segments.clone();
  }

  @Override
  public int[] inputIds() {
    return inputIds.clone();
  }

  @Override
  public int[] targets() {
    return targets.clone();
  }

  @Override
  public int[] positions() {
    return positions.clone();
  }

  @Override
  public int[] segments() {
    return segments.clone();
  }

  /** Rows that have a target (the loss's denominator). */
  public long targetCount() {
    long count = 0;
    for (int t : targets) {
      if (t != CrossEntropy.IGNORE_INDEX) {
        count++;
      }
    }
    return count;
  }

  /**
   * A right-padded batch in Hugging Face's convention: {@code labels} unshifted (the model shifts
   * them), -100 where no loss is wanted; mask 1 for tokens, 0 for padding. Positions count 0, 1,
   * ... along each row (as transformers does when given no position ids); padding is segment 0,
   * tokens segment 1.
   */
  public static Batch fromHuggingFace(int[][] inputIds, int[][] attentionMask, int[][] labels) {
    int b = inputIds.length;
    int t = inputIds[0].length;
    int[] ids = new int[b * t];
    int[] targets = new int[b * t];
    int[] positions = new int[b * t];
    int[] segments = new int[b * t];
    for (int i = 0; i < b; i++) {
      if (inputIds[i].length != t || attentionMask[i].length != t || labels[i].length != t) {
        throw new EngineException("row " + i + " of the batch is not " + t + " long");
      }
      for (int j = 0; j < t; j++) {
        int n = i * t + j;
        ids[n] = inputIds[i][j];
        targets[n] = j + 1 < t ? labels[i][j + 1] : CrossEntropy.IGNORE_INDEX;
        positions[n] = j;
        segments[n] = attentionMask[i][j] != 0 ? 1 : 0;
      }
    }
    return new Batch(b, t, ids, targets, positions, segments);
  }

  /**
   * Packed sequences: each row holds samples back to back; {@code sampleIds} (B, T) numbers the
   * samples of a row from 1 (0 = padding). Positions restart at each sample.
   */
  public static Batch packed(
      int batchSize, int seqLen, int[] inputIds, int[] targets, int[] sampleIds) {
    int[] positions = new int[inputIds.length];
    for (int i = 0; i < batchSize; i++) {
      int pos = 0;
      for (int j = 0; j < seqLen; j++) {
        int n = i * seqLen + j;
        pos = j > 0 && sampleIds[n] == sampleIds[n - 1] ? pos + 1 : 0;
        positions[n] = pos;
      }
    }
    return new Batch(batchSize, seqLen, inputIds, targets, positions, sampleIds);
  }
}
