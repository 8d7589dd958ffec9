package dev.entity.engine.backend.cuda;

/**
 * The GPU ran out of memory (the driver's {@code CUDA_ERROR_OUT_OF_MEMORY}, or cuBLASLt's {@code
 * CUBLAS_STATUS_ALLOC_FAILED}) even after the caching allocator gave its cache back. It is an
 * {@link OutOfMemoryError} on purpose: the trainer already treats any {@code OutOfMemoryError} in a
 * step as "halve the micro-batch and retry", on the GPU exactly as on the CPU.
 */
public final class CudaOutOfMemoryError extends OutOfMemoryError {

  private static final long serialVersionUID = 1L;

  public CudaOutOfMemoryError(String message) {
    super(message);
  }
}
