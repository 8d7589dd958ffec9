package dev.entity.core;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A run's cancellation flag. Any thread may call {@link #cancel} (a signal handler, a shutdown
 * hook, a UI); the executor checks the flag between plugins and long-running plugins poll it with
 * {@link #isCancelled()} or {@link #throwIfCancelled()} between units of work (a training step, a
 * file). Once set it stays set.
 */
public final class Cancellation {

  private final AtomicReference<String> reason = new AtomicReference<>();

  /** Sets the flag with a reason shown in the result; later calls keep the first reason. */
  public void cancel(String why) {
    reason.compareAndSet(null, why == null || why.isBlank() ? "cancelled" : why);
  }

  /** Whether {@link #cancel} was called. */
  public boolean isCancelled() {
    return reason.get() != null;
  }

  /** The reason given to {@link #cancel}, or {@code null} when not cancelled. */
  public String reason() {
    return reason.get();
  }

  /**
   * Throws when cancelled; the executor reports the run as cancelled, not failed.
   *
   * @throws CancelledException when the flag is set
   */
  public void throwIfCancelled() {
    String why = reason.get();
    if (why != null) {
      throw new CancelledException(why);
    }
  }

  /** Thrown by {@link #throwIfCancelled()}; stops the pipeline as a cancellation. */
  public static final class CancelledException extends EntityException {
    /** An exception carrying the cancellation reason. */
    public CancelledException(String reason) {
      super("cancelled: " + reason);
    }
  }
}
