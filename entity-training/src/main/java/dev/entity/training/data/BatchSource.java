// Convention: the stream of one epoch is a pure function of (seed, epoch, sample lengths); the
// micro-batch size only cuts that stream into pieces, so halving it never changes which samples
// an optimizer step sees.
package dev.entity.training.data;

import dev.entity.engine.model.Batch;

/**
 * An endless, seekable stream of training micro-batches over prepared (tokenized) rows: epoch 0,
 * then epoch 1, and so on. Every epoch visits each row exactly once, in an order fixed by the seed
 * and the epoch number alone, so a resumed run that {@link #seek seeks} to a saved {@link
 * BatchPosition} continues with exactly the batches an uninterrupted run would have seen.
 *
 * <p>The order is fixed per row, not per batch: micro-batch {@code i} of size {@code m} holds rows
 * {@code [i*m, (i+1)*m)} of the epoch's order (the last micro-batch of an epoch may be smaller: it
 * is kept, not dropped). So {@link #withMicroBatchSize} with {@code m/2} (the trainer's answer to
 * out-of-memory, together with doubling gradient accumulation) maps position {@code i} to {@code
 * 2i}, and an optimizer step of {@code accumulation} micro-batches covers the same rows before and
 * after — provided an optimizer step never spans two epochs: the last step of an epoch takes only
 * the micro-batches left in it ({@link #microBatchesInNextStep}), so steps start at batch indices
 * that are multiples of the accumulation, and {@link #stepsPerEpoch} is the same before and after
 * halving. Implementations are not thread-safe.
 */
public interface BatchSource {

  /** Rows (samples, or packed rows when packing) per micro-batch, before the epoch's tail. */
  int microBatchSize();

  /** Micro-batches in every epoch, the smaller last one included: ceil(rows / micro-batch size). */
  long batchesPerEpoch();

  /**
   * Optimizer steps per epoch with {@code accumulation} micro-batches per step: ceil(batches /
   * accumulation), i.e. ceil(rows / (micro-batch size * accumulation)) whatever the split.
   */
  default long stepsPerEpoch(int accumulation) {
    return (batchesPerEpoch() + accumulation - 1) / accumulation;
  }

  /**
   * Micro-batches the optimizer step starting at {@link #position()} takes: {@code accumulation},
   * or fewer for the last step of an epoch (a step never spans two epochs). Scale each
   * micro-batch's loss by its share of the step's targets, or by 1 / this count.
   */
  default int microBatchesInNextStep(int accumulation) {
    return (int) Math.min(accumulation, batchesPerEpoch() - position().batchIndex());
  }

  /** The seed of the epoch order (0 for the unshuffled evaluation stream). */
  long seed();

  /** Rows in every epoch. */
  long rowsPerEpoch();

  /** Where the next call to {@link #next} reads: the epoch and the micro-batch index within it. */
  BatchPosition position();

  /**
   * Moves to a position so that the next {@link #next} returns the batch that a fresh source would
   * return after consuming exactly that many batches.
   *
   * @throws IllegalArgumentException when the batch index is not in {@code [0, batchesPerEpoch())}
   *     or the epoch is negative
   */
  void seek(BatchPosition position);

  /** The micro-batch at {@link #position()}; then advances (rolling over to the next epoch). */
  Batch next();

  /**
   * The same rows and order cut into micro-batches of {@code size} rows, positioned at the same
   * row: the new batch index is {@code position().batchIndex() * microBatchSize() / size}.
   *
   * @throws IllegalArgumentException when the current row offset is not a multiple of {@code size}
   *     (it always is when {@code size} divides the old size)
   */
  BatchSource withMicroBatchSize(int size);
}
