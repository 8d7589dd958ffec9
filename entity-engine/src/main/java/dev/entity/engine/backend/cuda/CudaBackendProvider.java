package dev.entity.engine.backend.cuda;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.BackendProvider;
import dev.entity.engine.backend.DeviceInfo;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Makes the {@link CudaBackend} on CUDA device 0 (the driver honours {@code CUDA_VISIBLE_DEVICES}).
 * Preferred by {@code auto} over the CPU. It is usable when the three libraries are found ({@link
 * CudaLibraries}), bind, and the driver starts and reports at least one device; otherwise {@link
 * #unavailableReason()} says which of these failed and, for missing libraries, every place looked.
 * The probe runs once per process.
 */
public final class CudaBackendProvider implements BackendProvider {

  /** Above the CPU's 0. */
  public static final int PRIORITY = 100;

  private static final Supplier<Probe> SYSTEM =
      memoize(() -> Probe.run(CudaLibraries.Environment.current()));

  private final Supplier<Probe> probe;

  /** The provider {@link java.util.ServiceLoader} makes: probes this machine. */
  public CudaBackendProvider() {
    this(SYSTEM);
  }

  /** A provider that probes {@code environment} (tests pass fake folders). */
  CudaBackendProvider(CudaLibraries.Environment environment) {
    this(memoize(() -> Probe.run(environment)));
  }

  private CudaBackendProvider(Supplier<Probe> probe) {
    this.probe = probe;
  }

  /** What was found: the libraries' bindings and the device count, or why CUDA cannot be used. */
  record Probe(
      CudaLibraries libraries,
      CudaDriver driver,
      CublasLt lt,
      Nvrtc nvrtc,
      int devices,
      String reason) {

    static Probe run(CudaLibraries.Environment env) {
      CudaLibraries libs = CudaLibraries.locate(env);
      if (!libs.complete()) {
        return new Probe(libs, null, null, null, 0, libs.missingReason());
      }
      CudaDriver driver;
      try {
        driver = CudaDriver.load(libs.driver().found());
        driver.init();
      } catch (EngineException | LinkageError | CudaOutOfMemoryError e) {
        return new Probe(
            libs,
            null,
            null,
            null,
            0,
            "the NVIDIA driver (" + libs.driver().found() + ") could not start: " + e.getMessage());
      }
      int count;
      try {
        count = driver.deviceCount();
      } catch (EngineException e) {
        return new Probe(libs, driver, null, null, 0, e.getMessage());
      }
      if (count < 1) {
        return new Probe(
            libs,
            driver,
            null,
            null,
            0,
            "the NVIDIA driver (" + libs.driver().found() + ") reports no CUDA device");
      }
      try {
        CublasLt lt = CublasLt.load(libs.cublasLt().found());
        Nvrtc nvrtc = Nvrtc.load(libs.nvrtc().found());
        return new Probe(libs, driver, lt, nvrtc, count, null);
      } catch (EngineException | LinkageError e) {
        return new Probe(libs, driver, null, null, count, e.getMessage());
      }
    }
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public int priority() {
    return PRIORITY;
  }

  /**
   * Why CUDA cannot be used here: a missing library, a driver that does not start, no device — or a
   * build without our kernels ({@link CudaKernelSources} lists none), where every op but memory and
   * matrix products would fail, so {@code auto} must not pick it.
   */
  @Override
  public String unavailableReason() {
    String reason = probe.get().reason();
    if (reason == null && CudaKernelSources.files().isEmpty()) {
      return "this build has no CUDA kernels (CudaKernelSources lists none), so only memory and"
          + " matrix products could run on the GPU; use --device cpu";
    }
    return reason;
  }

  /** A backend on CUDA device 0; {@code threads} is unused (the GPU does the work). */
  @Override
  public Backend create(int threads) {
    String reason = unavailableReason();
    if (reason != null) {
      throw new EngineException("device cuda is not usable here: " + reason);
    }
    return open(probe.get());
  }

  /** The system's probe: the libraries, their bindings and the device count, or why not. */
  static Probe systemProbe() {
    return SYSTEM.get();
  }

  /**
   * A backend on device 0 of a successful probe, kernels or not (tests of memory and products need
   * none); cubins cached in the user's cache folder.
   */
  static CudaBackend open(Probe p) {
    CubinCache cache =
        new CubinCache(
            CubinCache.defaultFolder(
                System.getenv(), Path.of(System.getProperty("user.home", "."))));
    CudaContext context =
        new CudaContext(p.driver(), 0, p.nvrtc(), cache, KernelModules.bundledSources());
    try {
      return new CudaBackend(context, p.lt());
    } catch (RuntimeException | Error e) {
      context.close();
      throw e;
    }
  }

  /**
   * The GPUs the CUDA driver sees, with free memory, for {@link DeviceInfo} where nvidia-smi is
   * missing; empty when CUDA is not usable here. Briefly retains each device's primary context to
   * read its free memory.
   */
  public static List<DeviceInfo.Gpu> gpus() {
    Probe p = SYSTEM.get();
    List<DeviceInfo.Gpu> out = new ArrayList<>();
    if (p.reason() != null) {
      return out;
    }
    for (int i = 0; i < p.devices(); i++) {
      try {
        CudaDeviceProperties props = CudaDeviceProperties.read(p.driver(), i);
        int device = p.driver().device(i);
        MemorySegment ctx = p.driver().retainPrimaryContext(device);
        try {
          p.driver().setCurrent(ctx);
          long[] info = p.driver().memoryInfo();
          out.add(new DeviceInfo.Gpu(i, props.name(), info[1], info[1] - info[0]));
        } finally {
          p.driver().releasePrimaryContext(device);
        }
      } catch (EngineException | OutOfMemoryError e) {
        // a device we cannot open is not offered
      }
    }
    return out;
  }

  private static <T> Supplier<T> memoize(Supplier<T> supplier) {
    return new Supplier<>() {
      private T value;

      @Override
      public synchronized T get() {
        if (value == null) {
          value = supplier.get();
        }
        return value;
      }
    };
  }
}
