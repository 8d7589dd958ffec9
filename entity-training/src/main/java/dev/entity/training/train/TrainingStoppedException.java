package dev.entity.training.train;

import dev.entity.core.EntityException;
import dev.entity.training.train.metrics.MetricsSink;
import java.nio.file.Path;

/**
 * A run that stopped before its last step for a reason the user must act on: interrupted (a
 * checkpoint was written; the message holds the command to resume), diverged (NaN or infinite loss
 * or gradient; nothing was written after the last good checkpoint), or out of memory even at
 * micro-batch 1. The CLI prints the message and exits non-zero.
 */
public final class TrainingStoppedException extends EntityException {

  private final MetricsSink.Outcome outcome;
  private final long step;
  private final transient Path lastCheckpoint;

  public TrainingStoppedException(
      MetricsSink.Outcome outcome,
      long step,
      Path lastCheckpoint,
      String message,
      Throwable cause) {
    super(message, cause);
    this.outcome = outcome;
    this.step = step;
    this.lastCheckpoint = lastCheckpoint;
  }

  /** Why the run stopped. */
  public MetricsSink.Outcome outcome() {
    return outcome;
  }

  /** Optimizer steps completed. */
  public long step() {
    return step;
  }

  /** The last complete checkpoint, or null when there is none. */
  public Path lastCheckpoint() {
    return lastCheckpoint;
  }
}
