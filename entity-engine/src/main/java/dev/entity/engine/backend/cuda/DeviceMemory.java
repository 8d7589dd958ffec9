package dev.entity.engine.backend.cuda;

/**
 * Raw device memory, one driver call per block: what {@link CachingAllocator} sits on. An interface
 * so the allocator is tested on the CPU with a fake.
 */
interface DeviceMemory {

  /** A new block of exactly {@code bytes}; {@link CudaOutOfMemoryError} when there is no room. */
  long allocate(long bytes);

  void free(long address);
}
