package dev.entity.engine.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * What our CUDA C kernels need from the runtime: launch a kernel by its {@code extern "C"} name on
 * the backend's stream, a reusable device scratch buffer, and a copy back to the host for the few
 * scalars an op returns (a loss sum, a grad norm). Implemented by the runtime (driver, modules,
 * allocator); used by {@link CudaKernelOps}. Device addresses are plain {@code long}s: a device
 * tensor's {@code data().address()}.
 */
public interface KernelLauncher {

  /** Enqueues {@code kernel} (compiled from the sources in {@link CudaKernelSources}). */
  void launch(String kernel, LaunchShape shape, KernelArgs args);

  /**
   * A device buffer of at least {@code bytes}, owned by the launcher and reused: valid until the
   * next call to this method, never to be freed by the caller.
   */
  long scratch(long bytes);

  /** Waits for the stream, then copies {@code bytes} from a device address into host memory. */
  void copyToHost(MemorySegment host, long deviceAddress, long bytes);
}
