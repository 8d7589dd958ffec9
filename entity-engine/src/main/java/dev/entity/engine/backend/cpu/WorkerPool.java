// Determinism rule: a task's output depends only on its index, never on which thread runs it or
// when; reductions keep one partial per task and combine the partials in task order.
package dev.entity.engine.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed set of daemon worker threads that run the tasks {@code 0..n-1} of one parallel loop, the
 * calling thread working alongside them. Loops called from inside a task run inline, so kernels may
 * nest without deadlock; loops from different threads take turns.
 *
 * <p>A training step runs about 6,000 loops, many of them a few hundred microseconds long. Waking a
 * parked thread takes tens of microseconds, during which only the caller works: with a queue and a
 * latch that cost about 50 us of one core per loop. So the workers and the waiting caller spin for
 * a while ({@link #SPIN_NANOS}) before they park, and the next loop usually finds them awake.
 */
final class WorkerPool implements AutoCloseable {

  /** A body over an element range [from, to). */
  @FunctionalInterface
  interface RangeBody {
    void run(long from, long to);
  }

  /** How long an idle worker, or a caller waiting for the last task, spins before parking. */
  static final long SPIN_NANOS = 200_000;

  private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);

  private final int threads;
  private final Thread[] workers;
  private final boolean[] parked; // written and read under the volatile job/waiter handshakes
  private volatile Loop loop; // the latest loop; workers run each generation at most once
  private volatile Thread waiter; // the caller parked for the last task, or null
  private volatile boolean closed;

  /** One parallel loop: tasks are claimed in order and counted down as they finish. */
  private static final class Loop {
    final long generation;
    final int tasks;
    final IntConsumer body;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger unfinished;
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Loop(long generation, int tasks, IntConsumer body) {
      this.generation = generation;
      this.tasks = tasks;
      this.body = body;
      this.unfinished = new AtomicInteger(tasks);
    }

    /** Claims and runs tasks until none is left; true when this thread finished the last one. */
    boolean drain() {
      boolean last = false;
      int i;
      while ((i = next.getAndIncrement()) < tasks) {
        try {
          if (failure.get() == null) {
            body.accept(i);
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        } finally {
          last = unfinished.decrementAndGet() == 0;
        }
      }
      return last;
    }
  }

  /** {@code threads} workers in all, the caller included; 0 means all available processors. */
  WorkerPool(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("thread count must be >= 0, got " + threads);
    }
    this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    this.workers = new Thread[this.threads - 1];
    this.parked = new boolean[workers.length];
    this.loop = new Loop(0, 0, i -> {});
    for (int w = 0; w < workers.length; w++) {
      int index = w;
      workers[w] =
          Thread.ofPlatform().daemon(true).name("entity-cpu-" + (w + 1)).start(() -> work(index));
    }
  }

  int threads() {
    return threads;
  }

  private void work(int index) {
    INSIDE.set(true);
    long seen = 0;
    while (!closed) {
      Loop current = awaitLoop(index, seen);
      if (current == null) {
        return;
      }
      seen = current.generation;
      if (current.drain()) {
        Thread w = waiter;
        if (w != null) {
          LockSupport.unpark(w);
        }
      }
    }
  }

  /** The first loop newer than {@code seen}: spinning, then parked; null once closed. */
  private Loop awaitLoop(int index, long seen) {
    long start = System.nanoTime();
    while (true) {
      Loop current = loop;
      if (current.generation != seen) {
        return current;
      }
      if (closed) {
        return null;
      }
      if (System.nanoTime() - start < SPIN_NANOS) {
        Thread.onSpinWait();
        continue;
      }
      synchronized (parked) {
        parked[index] = true;
      }
      if (loop.generation == seen && !closed) {
        LockSupport.park(this);
      }
      synchronized (parked) {
        parked[index] = false;
      }
      start = System.nanoTime();
    }
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
    Throwable t;
    synchronized (this) {
      Loop current = new Loop(loop.generation + 1, tasks, body);
      loop = current;
      synchronized (parked) {
        for (int w = 0; w < workers.length; w++) {
          if (parked[w]) {
            LockSupport.unpark(workers[w]);
          }
        }
      }
      INSIDE.set(true);
      try {
        current.drain();
      } finally {
        INSIDE.set(false);
      }
      awaitUnfinished(current);
      t = current.failure.get();
    }
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
   * Waits for the tasks, not for the workers: on a busy machine a worker may start only after the
   * caller has done everything, and then finds nothing left to claim.
   */
  private void awaitUnfinished(Loop current) {
    long start = System.nanoTime();
    while (current.unfinished.get() > 0) {
      if (System.nanoTime() - start < SPIN_NANOS) {
        Thread.onSpinWait();
        continue;
      }
      waiter = Thread.currentThread();
      if (current.unfinished.get() > 0) {
        LockSupport.park(this);
      }
      waiter = null;
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for kernel workers");
      }
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
      LockSupport.unpark(w);
    }
  }
}
