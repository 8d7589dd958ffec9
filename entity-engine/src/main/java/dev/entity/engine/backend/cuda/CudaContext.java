// Convention: every entry point makes the context current on the calling thread first (the driver
// keeps the current context per thread), and all work goes to one non-blocking stream, so the
// order of calls is the order of execution and the allocator may reuse a freed block at once.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * One GPU in use: the device's primary context, a stream, the caching allocator, the kernel modules
 * and a scratch buffer. It is the runtime's {@link KernelLauncher} for {@link CudaKernelOps}, and
 * what {@link CudaBackend} moves memory with.
 */
final class CudaContext implements KernelLauncher, AutoCloseable {

  private final CudaDriver driver;
  private final CudaDeviceProperties properties;
  private final int device;
  private final MemorySegment context;
  private final MemorySegment stream;
  private final CachingAllocator allocator;
  private final KernelModules modules;
  private long scratch;
  private long scratchBytes;
  private boolean closed;

  /**
   * Opens device {@code ordinal}: retains its primary context and makes a stream.
   *
   * @param sources our kernels, file name to CUDA C source (see {@link
   *     KernelModules#bundledSources()})
   */
  CudaContext(
      CudaDriver driver, int ordinal, Nvrtc nvrtc, CubinCache cache, Map<String, String> sources) {
    this.driver = driver;
    this.properties = CudaDeviceProperties.read(driver, ordinal);
    this.device = driver.device(ordinal);
    this.context = driver.retainPrimaryContext(device);
    try {
      makeCurrent();
      this.stream = driver.createStream();
    } catch (RuntimeException | Error e) {
      driver.releasePrimaryContext(device);
      throw e;
    }
    this.allocator =
        new CachingAllocator(
            new DeviceMemory() {
              @Override
              public long allocate(long bytes) {
                return driver.malloc(bytes);
              }

              @Override
              public void free(long address) {
                driver.free(address);
              }
            });
    this.modules = new KernelModules(driver, nvrtc, cache, properties.arch(), sources);
  }

  CudaDriver driver() {
    return driver;
  }

  CudaDeviceProperties properties() {
    return properties;
  }

  MemorySegment stream() {
    return stream;
  }

  CachingAllocator allocator() {
    return allocator;
  }

  /**
   * Makes this context current on the calling thread. Done on every entry rather than remembered
   * per thread: another user of the driver on this thread (a device probe) may have switched it,
   * and the call costs far less than the launch it precedes.
   */
  void makeCurrent() {
    if (closed) {
      throw new IllegalStateException("the CUDA backend is closed");
    }
    driver.setCurrent(context);
  }

  @Override
  public void launch(String kernel, LaunchShape shape, KernelArgs args) {
    makeCurrent();
    MemorySegment function = modules.function(kernel);
    try (Arena arena = Arena.ofConfined()) {
      driver.launch(function, shape, stream, KernelParams.layout(args, arena), kernel);
    }
  }

  @Override
  public synchronized long scratch(long bytes) {
    makeCurrent();
    if (bytes > scratchBytes) {
      if (scratch != 0) {
        allocator.free(scratch); // stream order keeps earlier kernels' reads before any reuse
      }
      scratch = 0;
      scratchBytes = 0;
      scratch = allocator.allocate(bytes);
      scratchBytes = CachingAllocator.sizeClass(bytes);
    }
    return scratch;
  }

  @Override
  public void copyToHost(MemorySegment host, long deviceAddress, long bytes) {
    makeCurrent();
    if (bytes == 0) {
      return;
    }
    if (host.byteSize() < bytes) {
      throw new IllegalArgumentException(
          "host buffer of " + host.byteSize() + " bytes cannot take " + bytes);
    }
    if (host.isNative()) {
      driver.copyDeviceToHost(host, deviceAddress, bytes, stream);
      synchronize();
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment staging = arena.allocate(bytes, 64);
      driver.copyDeviceToHost(staging, deviceAddress, bytes, stream);
      synchronize();
      MemorySegment.copy(staging, 0, host, 0, bytes);
    }
  }

  /** Enqueues a copy of {@code bytes} of host memory to the device. */
  void copyToDevice(long deviceAddress, MemorySegment host, long bytes) {
    makeCurrent();
    if (bytes == 0) {
      return;
    }
    if (host.isNative()) {
      // From pageable memory the driver returns once the bytes are staged: the host may reuse them.
      driver.copyHostToDevice(deviceAddress, host, bytes, stream);
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment staging = arena.allocate(bytes, 64);
      MemorySegment.copy(host, 0, staging, 0, bytes);
      driver.copyHostToDevice(deviceAddress, staging, bytes, stream);
      synchronize(); // the staging copy dies with the arena
    }
  }

  void copyOnDevice(long dst, long src, long bytes) {
    makeCurrent();
    if (bytes > 0 && dst != src) {
      driver.copyDeviceToDevice(dst, src, bytes, stream);
    }
  }

  void fill(long address, long bytes) {
    makeCurrent();
    if (bytes > 0) {
      driver.fill(address, (byte) 0, bytes, stream);
    }
  }

  void synchronize() {
    makeCurrent();
    driver.synchronize(stream);
  }

  float timeMillis(Runnable work) {
    makeCurrent();
    MemorySegment start = driver.createEvent();
    try {
      MemorySegment end = driver.createEvent();
      try {
        driver.record(start, stream);
        work.run();
        makeCurrent();
        driver.record(end, stream);
        return driver.elapsedMillis(start, end);
      } finally {
        driver.destroyEvent(end);
      }
    } finally {
      driver.destroyEvent(start);
    }
  }

  /** {free, total} device memory as the driver sees it (other processes included). */
  long[] memoryInfo() {
    makeCurrent();
    return driver.memoryInfo();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    try {
      synchronize();
    } catch (EngineException e) {
      // a failed kernel poisons the stream; still give the memory and context back below
    }
    try {
      modules.close();
      allocator.close();
      driver.destroyStream(stream);
    } finally {
      closed = true;
      driver.releasePrimaryContext(device);
    }
  }
}
