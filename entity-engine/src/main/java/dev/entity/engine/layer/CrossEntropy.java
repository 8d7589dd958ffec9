// Dimension legend: N rows (B*T), C channels, V vocabulary, K rows per chunk.
// Convention: the (N, V) logits never exist at once: rows go through the LM head K at a time, and
// each chunk's logits buffer is turned into dlogits in place before the next chunk reuses it.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/**
 * The LM head and the token-level cross-entropy in one pass: for each chunk of rows, logits = x W^T
 * (W the tied or untied (V, C) head), per-row losses and dlogits in place (targets are the
 * next-token ids, {@link #IGNORE_INDEX} skipped), then dx += dlogits W and dW += dlogits^T x.
 */
public final class CrossEntropy {

  /** Targets with this value contribute neither loss nor gradient (Hugging Face's -100). */
  public static final int IGNORE_INDEX = -100;

  private final Backend backend;
  private final Tensor head; // (V, C)
  private final Tensor dhead; // (V, C) or null when frozen
  private final Scratch logits; // >= K*V
  private final long chunkRows; // K

  public CrossEntropy(Backend backend, Tensor head, Tensor dhead, Scratch logits, long chunkRows) {
    if (chunkRows <= 0 || logits.flat().elementCount() < chunkRows * head.dim(0)) {
      throw new IllegalArgumentException("logits scratch cannot hold " + chunkRows + " rows");
    }
    this.backend = backend;
    this.head = head;
    this.dhead = dhead;
    this.logits = logits;
    this.chunkRows = chunkRows;
  }

  /**
   * The Decoder's budget for one chunk of logits: 2^24 F32 elements (64 MiB), about 340 rows of a
   * 49K vocabulary. Bigger chunks amortize packing the (V, C) head weight once per chunk: 16 MiB
   * chunks (85 rows) left the lm_head products at half the matmul kernel's speed (smollm2-135m LoRA
   * seq 512 x 4 went from 215 to 235 tokens/s on 2 cores; 128 MiB gained nothing more).
   */
  public static final long DEFAULT_CHUNK_ELEMENTS = 1L << 24;

  /** Rows per chunk so that one chunk's logits take about {@code budgetElements}. */
  public static long chunkRows(long vocab, long rows, long budgetElements) {
    return Math.max(1, Math.min(rows, budgetElements / vocab));
  }

  public long vocab() {
    return head.dim(0);
  }

  /**
   * losses (N) = per-row loss; when {@code dx} is not null, accumulates dx (N, C) and (when
   * trainable) the head's gradient, for a loss whose per-row weight is {@code gradScale}. {@code
   * skipChunk}, when not null, tells which chunks have no target at all (their rows get zero loss
   * without computing logits). x (N, C), targets (N) I32.
   */
  public void forwardBackward(
      Tensor losses, Tensor dx, Tensor x, Tensor targets, float gradScale, boolean[] skipChunk) {
    long n = x.dim(0);
    long v = head.dim(0);
    int chunk = 0;
    for (long r0 = 0; r0 < n; r0 += chunkRows, chunk++) {
      long k = Math.min(chunkRows, n - r0);
      if (skipChunk != null && skipChunk[chunk]) {
        backend.zero(losses.rows(r0, k));
        continue;
      }
      Tensor xr = x.rows(r0, k); // (K, C)
      Tensor lg = logits.view(k, v); // (K, V)
      backend.matmul(lg, xr, head, false, true, 1f, false);
      backend.crossEntropyForwardBackward(
          losses.rows(r0, k), lg, targets.rows(r0, k), IGNORE_INDEX, gradScale);
      if (dx != null) {
        backend.matmul(dx.rows(r0, k), lg, head, false, false, 1f, true);
        if (dhead != null) {
          backend.matmul(dhead, lg, xr, true, false, 1f, true);
        }
      }
    }
  }

  /** Which chunks of {@code targets} (host ids, length N) hold no target at all. */
  public boolean[] emptyChunks(int[] targets) {
    int chunks = (int) ((targets.length + chunkRows - 1) / chunkRows);
    boolean[] empty = new boolean[chunks];
    for (int c = 0; c < chunks; c++) {
      empty[c] = true;
      int end = (int) Math.min(targets.length, (c + 1) * chunkRows);
      for (int i = (int) (c * chunkRows); i < end && empty[c]; i++) {
        empty[c] = targets[i] == IGNORE_INDEX;
      }
    }
    return empty;
  }

  /** out (K, V) = x W^T for rows x (K, C), K at most the chunk size. */
  public void logits(Tensor out, Tensor x) {
    backend.matmul(out, x, head, false, true, 1f, false);
  }
}
