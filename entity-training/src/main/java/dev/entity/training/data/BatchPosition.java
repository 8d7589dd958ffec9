package dev.entity.training.data;

/**
 * Where a {@link BatchSource} stands: the next micro-batch to read is number {@code batchIndex}
 * (from 0) of epoch {@code epoch} (from 0). Stored in {@code trainer_state.json} for exact resume;
 * it refers to the micro-batch size the source had when the position was taken, so store {@link
 * #rowOffset} along with it (or the micro-batch size) when that size may change.
 *
 * @param epoch the epoch, from 0
 * @param batchIndex the micro-batch within the epoch, from 0
 */
public record BatchPosition(int epoch, long batchIndex) {

  public BatchPosition {
    if (epoch < 0 || batchIndex < 0) {
      throw new IllegalArgumentException(
          "a batch position has a non-negative epoch and batch index, not epoch "
              + epoch
              + ", batch "
              + batchIndex);
    }
  }

  /** The first micro-batch of epoch 0. */
  public static BatchPosition start() {
    return new BatchPosition(0, 0);
  }

  /** The first row this position reads, for micro-batches of {@code microBatchSize} rows. */
  public long rowOffset(int microBatchSize) {
    return batchIndex * microBatchSize;
  }
}
