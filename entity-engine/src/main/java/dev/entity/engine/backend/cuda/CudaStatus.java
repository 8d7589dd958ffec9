package dev.entity.engine.backend.cuda;

import dev.entity.engine.EngineException;

/**
 * Turns a failed status code of the driver, cuBLASLt or NVRTC into the exception a caller sees:
 * {@link CudaOutOfMemoryError} for out-of-memory codes (so the trainer's retry path takes it),
 * otherwise an {@link EngineException} naming the library function, the error's name and the
 * library's own description.
 */
final class CudaStatus {

  /** The driver's CUDA_ERROR_OUT_OF_MEMORY. */
  static final int DRIVER_OUT_OF_MEMORY = 2;

  /** cuBLAS's CUBLAS_STATUS_ALLOC_FAILED. */
  static final int CUBLAS_ALLOC_FAILED = 3;

  /** NVRTC's NVRTC_ERROR_OUT_OF_MEMORY. */
  static final int NVRTC_OUT_OF_MEMORY = 1;

  private CudaStatus() {}

  /**
   * The exception for {@code function} having returned {@code code}; {@code name} and {@code text}
   * come from the library's own error-name and error-string functions (may be empty).
   */
  static RuntimeException failure(String function, int code, String name, String text) {
    String label = name.isEmpty() ? "error " + code : name + " (" + code + ")";
    return new EngineException(
        "CUDA call " + function + " failed: " + label + (text.isEmpty() ? "" : ": " + text));
  }

  /** The out-of-memory error for {@code function}, with what was being asked for. */
  static CudaOutOfMemoryError outOfMemory(String function, String name, String detail) {
    return new CudaOutOfMemoryError(
        "GPU out of memory in " + function + (name.isEmpty() ? "" : " (" + name + ")") + detail);
  }

  /** Names of cuBLAS statuses, for cuBLASLt versions without cublasLtGetStatusName. */
  static String cublasName(int status) {
    return switch (status) {
      case 0 -> "CUBLAS_STATUS_SUCCESS";
      case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
      case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
      case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
      case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
      case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
      case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
      case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
      case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
      case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
      default -> "";
    };
  }
}
