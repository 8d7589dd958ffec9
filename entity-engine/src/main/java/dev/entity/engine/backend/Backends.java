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
      return openBest(providers, threads);
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

  /**
   * {@code auto}: the usable providers from the highest priority down; one whose libraries were
   * found but that fails to start (a driver too old for the toolkit, say) is skipped with a
   * warning, so a broken GPU setup still leaves the CPU.
   */
  static Backend openBest(List<BackendProvider> providers, int threads) {
    List<BackendProvider> usable =
        providers.stream()
            .filter(p -> p.unavailableReason() == null)
            .sorted(Comparator.comparingInt(BackendProvider::priority).reversed())
            .toList();
    EngineException last = null;
    for (BackendProvider p : usable) {
      try {
        return p.create(threads);
      } catch (EngineException e) {
        System.err.println(
            "device auto: "
                + p.name()
                + " did not start ("
                + e.getMessage()
                + "); trying the next");
        last = e;
      }
    }
    if (last != null) {
      throw last;
    }
    throw new EngineException("device auto: no usable backend in this build");
  }
}
