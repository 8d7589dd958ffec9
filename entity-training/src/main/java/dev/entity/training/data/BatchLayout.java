package dev.entity.training.data;

import dev.entity.core.EntityException;
import dev.entity.engine.tokenizer.Tokenizer;

/**
 * How samples become rows of a batch. Padded (the default): one sample per row, rows padded on the
 * right to the longest row of the micro-batch rounded up to {@code padMultiple} (never past {@code
 * maxSeqLength}), optionally with length-grouped ordering so a micro-batch holds similar lengths.
 * Packed: several samples back to back in rows of up to {@code maxSeqLength} tokens, positions
 * restarting and attention kept inside each sample by segment ids. Padding uses {@code padId},
 * segment 0 and no target.
 *
 * @param maxSeqLength the longest row
 * @param packing pack samples into rows
 * @param groupByLength group similar lengths into micro-batches (padded mode only)
 * @param padMultiple pad row length up to a multiple of this (1: exactly the longest row); fewer
 *     distinct lengths mean fewer activation re-plans in the engine
 * @param padId the token id written into padding (never a target, never attended by a token)
 */
public record BatchLayout(
    int maxSeqLength, boolean packing, boolean groupByLength, int padMultiple, int padId) {

  /** The default pad multiple. */
  public static final int DEFAULT_PAD_MULTIPLE = 8;

  public BatchLayout {
    if (maxSeqLength < 2) {
      throw new EntityException("max_seq_length must be at least 2, got " + maxSeqLength);
    }
    if (padMultiple < 1) {
      throw new EntityException("pad multiple must be at least 1, got " + padMultiple);
    }
    if (padId < 0) {
      throw new EntityException("pad id must be a token id (>= 0), got " + padId);
    }
  }

  /**
   * The default layout for a tokenizer: length-grouped when padded, pad multiple 8, and the
   * tokenizer's pad token as padding (else EOS, else id 0; the value never reaches the loss).
   */
  public static BatchLayout of(int maxSeqLength, boolean packing, Tokenizer tokenizer) {
    int pad = tokenizer.padId().orElse(tokenizer.eosId().orElse(0));
    return new BatchLayout(maxSeqLength, packing, true, DEFAULT_PAD_MULTIPLE, pad);
  }

  /** The row length for a micro-batch whose longest row has {@code longest} tokens. */
  int rowLength(int longest) {
    long rounded = ((long) longest + padMultiple - 1) / padMultiple * padMultiple;
    return (int) Math.min(Math.max(rounded, longest), Math.max(maxSeqLength, longest));
  }
}
