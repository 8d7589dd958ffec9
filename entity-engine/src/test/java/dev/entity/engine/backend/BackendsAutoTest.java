package dev.entity.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.cpu.CpuBackendProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendsAutoTest {

  /** A GPU provider whose libraries were found but which cannot start. */
  record BrokenGpu(String reason) implements BackendProvider {
    @Override
    public String name() {
      return "cuda";
    }

    @Override
    public int priority() {
      return 100;
    }

    @Override
    public String unavailableReason() {
      return null;
    }

    @Override
    public Backend create(int threads) {
      throw new EngineException(reason);
    }
  }

  @Test
  void autoSkipsAProviderThatFailsToStartAndTakesTheNext() {
    try (Backend b =
        Backends.openBest(List.of(new CpuBackendProvider(), new BrokenGpu("driver too old")), 1)) {
      assertThat(b.name()).isEqualTo("cpu");
    }
  }

  @Test
  void autoReportsTheFailureWhenNothingStarts() {
    assertThatThrownBy(() -> Backends.openBest(List.of(new BrokenGpu("driver too old")), 1))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("driver too old");
    assertThatThrownBy(() -> Backends.openBest(List.of(), 1))
        .hasMessageContaining("no usable backend");
  }
}
