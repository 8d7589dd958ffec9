package dev.entity.engine.backend.cuda;

/**
 * One CUDA device as the driver describes it.
 *
 * @param ordinal the CUDA device number ({@code cuda:0})
 * @param name e.g. "NVIDIA GeForce RTX 3090"
 * @param major compute capability, major (8 for Ampere)
 * @param minor compute capability, minor (6 for an RTX 3090)
 * @param multiprocessors streaming multiprocessors
 * @param totalBytes device memory
 */
public record CudaDeviceProperties(
    int ordinal, String name, int major, int minor, int multiprocessors, long totalBytes) {

  /** The exact architecture our kernels are compiled for, e.g. {@code sm_86}. */
  public String arch() {
    return "sm_" + major + minor;
  }

  /** Reads the properties of device {@code ordinal} (no context needed). */
  static CudaDeviceProperties read(CudaDriver driver, int ordinal) {
    int device = driver.device(ordinal);
    return new CudaDeviceProperties(
        ordinal,
        driver.deviceName(device),
        driver.attribute(CudaDriver.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
        driver.attribute(CudaDriver.ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
        driver.attribute(CudaDriver.ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
        driver.totalMemory(device));
  }
}
