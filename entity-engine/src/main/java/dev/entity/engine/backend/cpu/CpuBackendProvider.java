package dev.entity.engine.backend.cpu;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.BackendProvider;

/** Makes the {@link CpuBackend}; always available, and the last choice of {@code auto}. */
public final class CpuBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int priority() {
    return 0;
  }

  @Override
  public String unavailableReason() {
    return null;
  }

  @Override
  public Backend create(int threads) {
    return new CpuBackend(threads);
  }
}
