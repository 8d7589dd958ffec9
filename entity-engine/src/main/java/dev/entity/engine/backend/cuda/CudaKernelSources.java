package dev.entity.engine.backend.cuda;

import java.util.List;

/**
 * The CUDA C files of our kernels, as class-path resources next to this class (under {@code
 * kernels/}). Each file is self-contained (no {@code #include}: BF16 is handled as {@code unsigned
 * short} bits) so that NVRTC compiles it without a CUDA include folder, and every kernel is {@code
 * extern "C"} so its name is its symbol.
 */
public final class CudaKernelSources {

  private CudaKernelSources() {}

  /** Resource names relative to this class's package, e.g. {@code kernels/norms.cu}. */
  public static List<String> files() {
    return List.of();
  }
}
