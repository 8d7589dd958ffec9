package dev.entity.engine.backend.cuda;

import java.util.List;

/**
 * The CUDA C files of our kernels, as class-path resources next to this class (under {@code
 * kernels/}). Each file is self-contained (no {@code #include}: BF16 and F16 are handled as {@code
 * unsigned short} bits with hand-written round-to-nearest-even conversions) so that NVRTC compiles
 * it without a CUDA include folder, and every kernel is {@code extern "C"} so its name is its
 * symbol. Kernel names are unique across the files: the launcher finds a kernel by name alone.
 *
 * <p>{@code convert.cu}: zero, copy, dtype casts, bias add, embedding, NF4; {@code elementwise.cu}:
 * add, scale, axpy, SwiGLU, GELU, dropout, AdamW, RoPE; {@code reductions.cu}: RMSNorm, LayerNorm,
 * per-column gradient sums, cross-entropy, sums; {@code attention.cu}: causal attention forward and
 * backward, decoding against a cache.
 */
public final class CudaKernelSources {

  private CudaKernelSources() {}

  /** Resource names relative to this class's package, e.g. {@code kernels/reductions.cu}. */
  public static List<String> files() {
    return List.of(
        "kernels/convert.cu",
        "kernels/elementwise.cu",
        "kernels/reductions.cu",
        "kernels/attention.cu");
  }
}
