// Determinism rule: a task's output depends only on its index, never on which thread runs it or
// when; reductions keep one partial per task and combine the partials in task order.
package dev.entity.engine.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A fixed set of daemon worker threads that run the tasks {@code 0..n-1} of one parallel loop, the
 * calling thread working alongside them. Loops called from inside a task run inline, so kernels may
 * nest without deadlock.
 */
final class WorkerPool implements AutoCloseable {

  /** A body over an element range [from, to). */
  @FunctionalInterface
  interface RangeBody {
    void run(long from, long to);
  }

  private final int threads;
  private final Thread[] workers;
  private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
  private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
  private volatile boolean closed;

  /** {@code threads} workers in all, the caller included; 0 means all available processors. */
  WorkerPool(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("thread count must be >= 0, got " + threads);
    }
    this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    this.workers = new Thread[this.threads - 1];
    for (int i = 0; i < workers.length; i++) {
      workers[i] =
          Thread.ofPlatform()
              .daemon(true)
              .name("entity-cpu-" + (i + 1))
              .start(
                  () -> {
                    INSIDE.set(true);
                    while (!closed) {
                      try {
                        queue.take().run();
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
    }
  }

  int threads() {
    return threads;
  }

  /** Runs {@code body(i)} for every i in [0, tasks), returning when all are done. */
  void run(int tasks, IntConsumer body) {
    if (tasks <= 0) {
      return;
    }
    if (tasks == 1 || workers.length == 0 || INSIDE.get()) {
      for (int i = 0; i < tasks; i++) {
        body.accept(i);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    // Wait for the tasks, not for the helpers: on a busy machine a helper may start only after the
    // caller has done everything, and then finds nothing left to claim.
    CountDownLatch done = new CountDownLatch(tasks);
    Runnable drain =
        () -> {
          int i;
          while ((i = next.getAndIncrement()) < tasks) {
            try {
              if (failure.get() == null) {
                body.accept(i);
              }
            } catch (Throwable t) {
              failure.compareAndSet(null, t);
            } finally {
              done.countDown();
            }
          }
        };
    int helpers = Math.min(workers.length, tasks - 1);
    for (int h = 0; h < helpers; h++) {
      queue.add(drain);
    }
    INSIDE.set(true);
    try {
      drain.run();
    } finally {
      INSIDE.set(false);
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for kernel workers", e);
    }
    Throwable t = failure.get();
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error err) {
      throw err;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  /**
   * Runs {@code body} over [0, n) in pieces of at least {@code grain} elements. Only for bodies
   * whose result does not depend on where the range is cut (pure maps, disjoint writes).
   */
  void range(long n, long grain, RangeBody body) {
    if (n <= 0) {
      return;
    }
    long pieces = Math.max(1, Math.min((long) threads * 4, (n + grain - 1) / grain));
    long size = (n + pieces - 1) / pieces;
    int count = (int) ((n + size - 1) / size);
    run(count, i -> body.run(i * size, Math.min(n, (i + 1) * size)));
  }

  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      w.interrupt();
    }
  }
}
