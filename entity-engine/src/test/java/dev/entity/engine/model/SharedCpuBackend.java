package dev.entity.engine.model;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;

/**
 * One CPU backend (2 threads) shared by the model, layer, LoRA and optimizer tests; tests free what
 * they allocate through the objects they close, and the JVM's exit takes the rest.
 */
public final class SharedCpuBackend {

  private static final Backend BACKEND = new CpuBackend(2);

  private SharedCpuBackend() {}

  public static Backend get() {
    return BACKEND;
  }
}
