// Convention: a source file is compiled and loaded the first time one of its kernels is launched,
// so a backend that never runs, say, attention never compiles it.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Our kernels as loaded modules: each file of {@link CudaKernelSources} is compiled by NVRTC for
 * the device's exact architecture (or taken from the {@link CubinCache}), loaded with {@code
 * cuModuleLoadData}, and its kernels looked up by their {@code extern "C"} names. Which file holds
 * which kernel is read from the sources ({@code __global__} declarations) up front.
 */
final class KernelModules implements AutoCloseable {

  private static final Pattern KERNEL =
      Pattern.compile(
          "__global__\\s+(?:__launch_bounds__\\s*\\([^)]*\\)\\s*)?void\\s+"
              + "(?:__launch_bounds__\\s*\\([^)]*\\)\\s*)?([A-Za-z_]\\w*)\\s*\\(");

  private final CudaDriver driver;
  private final Nvrtc nvrtc;
  private final CubinCache cache;
  private final String arch;
  private final Map<String, String> sources;
  private final Map<String, String> fileOfKernel;
  private final Map<String, MemorySegment> modules = new HashMap<>();
  private final Map<String, MemorySegment> functions = new HashMap<>();
  private String nvrtcVersion;

  /**
   * @param sources file name to CUDA C source
   * @param arch e.g. {@code sm_86}
   */
  KernelModules(
      CudaDriver driver, Nvrtc nvrtc, CubinCache cache, String arch, Map<String, String> sources) {
    this.driver = driver;
    this.nvrtc = nvrtc;
    this.cache = cache;
    this.arch = arch;
    this.sources = Map.copyOf(sources);
    this.fileOfKernel = kernelIndex(sources);
  }

  /** The sources listed by {@link CudaKernelSources}, read from the class path. */
  static Map<String, String> bundledSources() {
    return readSources(CudaKernelSources.files(), CudaKernelSources.class::getResourceAsStream);
  }

  static Map<String, String> readSources(
      List<String> files, Function<String, InputStream> resources) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String file : files) {
      try (InputStream in = resources.apply(file)) {
        if (in == null) {
          throw new EngineException(
              "kernel source " + file + " is listed in CudaKernelSources but not packaged");
        }
        out.put(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new EngineException("cannot read kernel source " + file + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /** Kernel name to the file that defines it; a name defined twice is an error. */
  static Map<String, String> kernelIndex(Map<String, String> sources) {
    Map<String, String> index = new HashMap<>();
    sources.forEach(
        (file, text) -> {
          Matcher m = KERNEL.matcher(stripComments(text));
          while (m.find()) {
            String previous = index.put(m.group(1), file);
            if (previous != null && !previous.equals(file)) {
              throw new EngineException(
                  "kernel " + m.group(1) + " is defined in both " + previous + " and " + file);
            }
          }
        });
    return index;
  }

  private static String stripComments(String text) {
    return text.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
  }

  /** The loaded function {@code kernel}, compiling and loading its file on first use. */
  synchronized MemorySegment function(String kernel) {
    MemorySegment f = functions.get(kernel);
    if (f != null) {
      return f;
    }
    String file = fileOfKernel.get(kernel);
    if (file == null) {
      throw new EngineException(
          "no CUDA kernel named " + kernel + " in the kernel sources " + sources.keySet());
    }
    MemorySegment module = modules.get(file);
    if (module == null) {
      module = load(file);
      modules.put(file, module);
    }
    f = driver.function(module, kernel);
    functions.put(kernel, f);
    return f;
  }

  private MemorySegment load(String file) {
    if (nvrtcVersion == null) {
      nvrtcVersion = nvrtc.version();
    }
    String source = sources.get(file);
    List<String> options = Nvrtc.options(arch);
    String key = CubinCache.key(source, options, nvrtcVersion, arch);
    Optional<byte[]> cached = cache.read(key);
    if (cached.isPresent()) {
      try {
        return loadImage(cached.get());
      } catch (EngineException e) {
        // a damaged cache entry (a disk error, a driver update): compile afresh and replace it
      }
    }
    byte[] compiled = nvrtc.compile(file, source, options);
    cache.write(key, compiled);
    return loadImage(compiled);
  }

  private MemorySegment loadImage(byte[] cubin) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment image = arena.allocate(cubin.length + 1L, 16);
      MemorySegment.copy(cubin, 0, image, ValueLayout.JAVA_BYTE, 0, cubin.length);
      return driver.loadModule(image);
    }
  }

  @Override
  public synchronized void close() {
    for (MemorySegment module : modules.values()) {
      driver.unloadModule(module);
    }
    modules.clear();
    functions.clear();
  }
}
