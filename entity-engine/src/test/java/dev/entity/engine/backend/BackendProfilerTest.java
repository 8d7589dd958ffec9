package dev.entity.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendProfilerTest {

  @Test
  void timesOnlyWhileRecordingKeyedByOpAndShapeAndForwardsEveryCall() {
    BackendProfiler profiler = new BackendProfiler();
    try (Backend backend = profiler.wrap(new CpuBackend(1))) {
      Tensor a = backend.allocate(DType.F32, 8, 4);
      Tensor b = backend.allocate(DType.F32, 6, 4);
      Tensor out = backend.allocate(DType.F32, 8, 6);
      a.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 2f);
      b.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 3f);
      backend.matmul(out, a, b, false, true, 1f, false); // not recorded
      profiler.recording(true);
      backend.matmul(out, a, b, false, true, 1f, false);
      backend.matmul(out, a, b, false, true, 1f, true);
      backend.scale(out, 0.5f);
      profiler.recording(false);
      backend.scale(out, 0.5f);
      // the calls reached the backend: 2 * 3 = 6 at [0, 0], accumulated once, halved twice
      assertThat(out.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0)).isEqualTo(3f);
    }
    List<BackendProfiler.Entry> entries = profiler.entries();
    assertThat(entries)
        .extracting(BackendProfiler.Entry::op)
        .containsExactlyInAnyOrder("matmul 8x4x6 b^T", "matmul 8x4x6 b^T +=", "scale [8, 6]");
    assertThat(entries).allSatisfy(e -> assertThat(e.calls()).isEqualTo(1));
    assertThat(entries).allSatisfy(e -> assertThat(e.seconds()).isPositive());
  }
}
