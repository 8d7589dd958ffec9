package dev.entity.engine.backend;

import dev.entity.engine.EngineException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens a {@link Backend} by the name a user chose ({@code --device cpu|cuda|auto}), among the
 * providers found through {@link ServiceLoader}. {@code auto} takes the available provider of
 * highest priority (CUDA before CPU). The one place where a backend is chosen.
 */
public final class Backends {

  private Backends() {}

  /**
   * The backend named {@code name} ("auto" or null for the best available) with up to {@code
   * threads} host worker threads (0 = all cores).
   *
   * @throws EngineException naming the device and why it cannot be used
   */
  public static Backend open(String name, int threads) {
    List<BackendProvider> providers = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class).forEach(providers::add);
    if (name == null || name.equals("auto")) {
      return providers.stream()
          .filter(p -> p.unavailableReason() == null)
          .max(Comparator.comparingInt(BackendProvider::priority))
          .orElseThrow(() -> new EngineException("device auto: no usable backend in this build"))
          .create(threads);
    }
    for (BackendProvider p : providers) {
      if (p.name().equals(name)) {
        if (p.unavailableReason() != null) {
          throw new EngineException(
              "device " + name + " is not usable here: " + p.unavailableReason());
        }
        return p.create(threads);
      }
    }
    List<String> names = providers.stream().map(BackendProvider::name).toList();
    throw new EngineException(
        "device " + name + ": no such backend in this build; use one of " + names);
  }
}
