package dev.entity.engine.backend;

/**
 * A way to make a {@link Backend}, found through {@link java.util.ServiceLoader} (register in
 * {@code META-INF/services/dev.entity.engine.backend.BackendProvider}). Backends are chosen
 * explicitly by name; {@code auto} picks the first available in order of {@link #priority()} (CUDA
 * before CPU).
 */
public interface BackendProvider {

  /** The name used with {@code --device}: "cpu", "cuda". */
  String name();

  /** Higher is preferred by {@code auto}. */
  int priority();

  /** Null when usable here; otherwise why not (missing driver, no device), shown to the user. */
  String unavailableReason();

  /** A backend using up to {@code threads} worker threads on the host (0 = all cores). */
  Backend create(int threads);
}
