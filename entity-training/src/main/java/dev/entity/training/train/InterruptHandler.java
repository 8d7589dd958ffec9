// Convention: the first SIGINT/SIGTERM only sets the run's cancellation flag (the trainer then
// writes a checkpoint and stops); the second halts the JVM at once with status 130, which is safe
// because a checkpoint folder only ever appears complete (see CheckpointStore).
package dev.entity.training.train;

import dev.entity.core.Cancellation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns Ctrl-C and SIGTERM into a clean stop of a training run: the first signal cancels the run,
 * so the trainer finishes or abandons its step, writes a checkpoint and prints how to resume; a
 * second signal exits at once. Where signal handlers cannot be installed (a JVM run with {@code
 * -Xrs}), a shutdown hook cancels the run and waits for it to finish. {@link #close()} restores the
 * previous handlers; call it when training ends, however it ends.
 */
public final class InterruptHandler implements AutoCloseable {

  /** Exit status of the second signal (128 + SIGINT). */
  public static final int EXIT_NOW = 130;

  private static final long SHUTDOWN_WAIT_SECONDS = 120;

  private final Cancellation cancellation;
  private final Consumer<String> notices;
  private final AtomicInteger signals = new AtomicInteger();
  private final List<Signal> installed = new ArrayList<>();
  private final List<SignalHandler> previous = new ArrayList<>();
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Thread hook;

  private InterruptHandler(Cancellation cancellation, Consumer<String> notices) {
    this.cancellation = cancellation;
    this.notices = notices;
    this.hook = new Thread(this::onShutdown, "entity-train-shutdown");
  }

  /** Installs the handlers for {@code cancellation}; notices go to {@code notices}. */
  public static InterruptHandler install(Cancellation cancellation, Consumer<String> notices) {
    InterruptHandler h = new InterruptHandler(cancellation, notices);
    for (String name : List.of("INT", "TERM")) {
      try {
        Signal s = new Signal(name);
        h.previous.add(Signal.handle(s, h::onSignal));
        h.installed.add(s);
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        // the signal is reserved by the VM (-Xrs) or unknown here; the shutdown hook covers it
      }
    }
    Runtime.getRuntime().addShutdownHook(h.hook);
    return h;
  }

  /** How many signals arrived. */
  public int signalCount() {
    return signals.get();
  }

  void onSignal(Signal signal) {
    if (signals.incrementAndGet() == 1) {
      notices.accept(
          "SIG"
              + signal.getName()
              + " received: stopping after the current step and writing a checkpoint (press"
              + " Ctrl-C again to exit at once; the last complete checkpoint stays intact)");
      cancellation.cancel("SIG" + signal.getName());
    } else {
      notices.accept("second signal: exiting now without a new checkpoint");
      Runtime.getRuntime().halt(EXIT_NOW);
    }
  }

  private void onShutdown() {
    if (finished.getCount() == 0) {
      return;
    }
    cancellation.cancel("shutdown");
    try {
      finished.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    finished.countDown();
    for (int i = 0; i < installed.size(); i++) {
      try {
        Signal.handle(installed.get(i), previous.get(i));
      } catch (IllegalArgumentException ignored) {
        // nothing to restore
      }
    }
    installed.clear();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // the JVM is already shutting down; the hook sees finished and returns
    }
  }
}
