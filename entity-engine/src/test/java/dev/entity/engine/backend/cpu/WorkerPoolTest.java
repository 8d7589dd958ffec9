package dev.entity.engine.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {

  @Test
  void runsEveryTaskExactlyOnceAndNestsInline() {
    try (WorkerPool pool = new WorkerPool(3)) {
      AtomicIntegerArray hits = new AtomicIntegerArray(1000);
      pool.run(100, i -> pool.run(10, j -> hits.incrementAndGet(i * 10 + j)));
      for (int i = 0; i < 1000; i++) {
        assertThat(hits.get(i)).isEqualTo(1);
      }
      AtomicIntegerArray covered = new AtomicIntegerArray(1001);
      pool.range(
          1001,
          7,
          (from, to) -> {
            for (long i = from; i < to; i++) {
              covered.incrementAndGet((int) i);
            }
          });
      for (int i = 0; i < 1001; i++) {
        assertThat(covered.get(i)).isEqualTo(1);
      }
    }
  }

  @Test
  void rethrowsTheFirstFailureAndStaysUsable() {
    try (WorkerPool pool = new WorkerPool(2)) {
      assertThatThrownBy(
              () ->
                  pool.run(
                      50,
                      i -> {
                        if (i == 17) {
                          throw new IllegalStateException("task 17 failed");
                        }
                      }))
          .hasMessage("task 17 failed");
      AtomicIntegerArray hits = new AtomicIntegerArray(20);
      pool.run(20, hits::incrementAndGet);
      assertThat(hits.get(19)).isEqualTo(1);
    }
    assertThat(new WorkerPool(0).threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThatThrownBy(() -> new WorkerPool(-1)).hasMessageContaining(">= 0");
  }

  @Test
  void callersFromSeveralThreadsTakeTurnsAndParkedWorkersWakeUp() throws Exception {
    try (WorkerPool pool = new WorkerPool(3)) {
      long[][] sums = new long[4][];
      Thread[] callers = new Thread[4];
      for (int c = 0; c < callers.length; c++) {
        int id = c;
        callers[c] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      long[] partial = new long[8];
                      for (int round = 0; round < 300; round++) {
                        pool.run(8, i -> partial[i] += i + id);
                      }
                      sums[id] = partial;
                    });
      }
      for (Thread t : callers) {
        t.join();
      }
      for (int c = 0; c < callers.length; c++) {
        for (int i = 0; i < 8; i++) {
          assertThat(sums[c][i]).as("caller %d task %d", c, i).isEqualTo(300L * (i + c));
        }
      }
      // idle past the spin: the workers park, and the next loop must wake them
      Thread.sleep(WorkerPool.SPIN_NANOS / 1_000_000 + 50);
      AtomicIntegerArray hits = new AtomicIntegerArray(64);
      pool.run(64, hits::incrementAndGet);
      for (int i = 0; i < 64; i++) {
        assertThat(hits.get(i)).isEqualTo(1);
      }
    }
  }
}
