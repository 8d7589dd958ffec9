package dev.entity.training.train;

import dev.entity.engine.model.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cutting a batch into row pieces for a smaller micro-batch, and counting its real tokens: rows of
 * a batch are independent sequences (attention never crosses rows), so a piece of rows is a valid
 * batch of its own. Training batches are re-cut by their source ({@code
 * BatchSource.withMicroBatchSize}); this cuts the fixed validation batches after an out-of-memory.
 */
final class MicroBatches {

  private MicroBatches() {}

  /** Rows of {@code b} in pieces of at most {@code rows} sequences (b itself when it fits). */
  static List<Batch> split(Batch b, int rows) {
    if (b.batchSize() <= rows) {
      return List.of(b);
    }
    int t = b.seqLen();
    int[] ids = b.inputIds();
    int[] targets = b.targets();
    int[] positions = b.positions();
    int[] segments = b.segments();
    List<Batch> parts = new ArrayList<>();
    for (int from = 0; from < b.batchSize(); from += rows) {
      int n = Math.min(rows, b.batchSize() - from);
      int lo = from * t;
      int hi = lo + n * t;
      parts.add(
          new Batch(
              n,
              t,
              Arrays.copyOfRange(ids, lo, hi),
              Arrays.copyOfRange(targets, lo, hi),
              Arrays.copyOfRange(positions, lo, hi),
              Arrays.copyOfRange(segments, lo, hi)));
    }
    return parts;
  }

  /** Tokens that are not padding (segment 0 is padding in both batch layouts). */
  static long tokenCount(Batch b) {
    long n = 0;
    for (int s : b.segments()) {
      if (s != 0) {
        n++;
      }
    }
    return n;
  }
}
