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
}
