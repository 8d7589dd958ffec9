package dev.entity.training.train;

import dev.entity.engine.model.Batch;

/**
 * The training micro-batches in a fixed, seeded order with an exact position, so a resumed run
 * draws exactly the batches an uninterrupted one would. Each epoch has {@link #batchesPerEpoch()}
 * batches; the order of an epoch depends only on {@link #seed()} and the epoch number. After the
 * last batch of an epoch the position is (epoch + 1, 0). This is what the trainer needs from data
 * preparation (tokenizing, truncation, padding or packing, length grouping happen behind it).
 */
public interface BatchSource {

  /**
   * Where the next batch comes from.
   *
   * @param epoch the epoch, from 0
   * @param index the batch within the epoch, from 0
   */
  record Position(long epoch, long index) {
    public Position {
      if (epoch < 0 || index < 0) {
        throw new IllegalArgumentException("position must be non-negative: " + epoch + "/" + index);
      }
    }
  }

  /** Micro-batches in one epoch (at least 1). */
  long batchesPerEpoch();

  /** The seed of the data order. */
  long seed();

  /** The position of the batch {@link #next()} returns. */
  Position position();

  /** Moves to {@code position} (its index below {@link #batchesPerEpoch()}). */
  void seek(Position position);

  /** The batch at the current position; advances the position. */
  Batch next();
}
