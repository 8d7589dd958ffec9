// Convention: the host is probed once per plugin instance, lazily, through an injected supplier, so
// tests hand in a fixed DeviceInfo and nothing here ever runs nvidia-smi twice.
package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.Plugin;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.training.train.MemoryEstimator;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What every training plugin shares (the seed plan's {@code base_training.py}): the resources it
 * uses ({@code memory}, {@code logging}, {@code storage}), the host's devices and the choice
 * between CPU and GPU, the output folder, and memory sizes written for people. It is an abstract
 * class because the plan asks for a base the training plugins inherit from, but it holds no
 * behaviour of its own beyond these small facts: the work lives in the library ({@code
 * training.data}, {@code training.train}) and the plugins call it. The device probe is composed in
 * (a {@link Supplier} of {@link DeviceInfo}) rather than inherited, so a test or a caller can give
 * a fixed host.
 *
 * @param <C> the plugin's config record
 */
public abstract class BaseTrainingPlugin<C extends Record> implements Plugin<C> {

  /**
   * The device a run will use.
   *
   * @param target CPU or CUDA
   * @param description what it is, for people (e.g. "CPU, 8 cores, ..." or the GPU's name)
   * @param memoryBytes the memory a run may use on it
   */
  public record ChosenDevice(MemoryEstimator.Target target, String description, long memoryBytes) {

    /** The name used in configs: {@code cpu} or {@code cuda}. */
    public String configName() {
      return target.name().toLowerCase(Locale.ROOT);
    }
  }

  private final Supplier<DeviceInfo> probe;
  private DeviceInfo host;

  /** A plugin that probes this host ({@link DeviceInfo#detect()}) the first time it is asked. */
  protected BaseTrainingPlugin() {
    this(DeviceInfo::detect);
  }

  /** A plugin that gets the host's description from {@code probe} (tests pass a fixed one). */
  protected BaseTrainingPlugin(Supplier<DeviceInfo> probe) {
    this.probe = Objects.requireNonNull(probe, "probe");
  }

  /** Training plugins read and write memory, log, and write into the run folder. */
  @Override
  public Set<String> resources() {
    return Set.of("memory", "logging", "storage");
  }

  /** The host's cores, RAM and GPUs, probed once. */
  protected final synchronized DeviceInfo deviceInfo() {
    if (host == null) {
      host = probe.get();
    }
    return host;
  }

  /** Whether an NVIDIA GPU was detected on this host. */
  protected final boolean gpuAvailable() {
    return deviceInfo().hasGpu();
  }

  /**
   * The device for a config's {@code device} value: {@code auto} picks CUDA when a GPU is detected,
   * else the CPU.
   *
   * @throws EntityException for {@code cuda} on a host without a detected GPU, or an unknown value
   */
  protected final ChosenDevice chooseDevice(String requested) {
    DeviceInfo info = deviceInfo();
    MemoryEstimator.Target target =
        MemoryEstimator.resolveTarget(requested == null ? "auto" : requested, info);
    long bytes = MemoryEstimator.availableBytes(info, target);
    String description =
        switch (target) {
          case CUDA -> {
            DeviceInfo.Gpu gpu = info.firstGpu().orElseThrow();
            yield "GPU " + gpu.index() + " " + gpu.name() + ", " + formatBytes(bytes) + " free";
          }
          case CPU ->
              "CPU, " + info.logicalCores() + " cores, " + formatBytes(bytes) + " RAM available";
        };
    return new ChosenDevice(target, description, bytes);
  }

  /**
   * The output folder as an absolute path; a relative {@code configured} is taken from the working
   * directory, as every path in a workflow is. Nothing is created here: the stage that writes
   * creates it.
   *
   * @throws EntityException when {@code configured} is not a valid path
   */
  protected static Path outputDir(String configured) {
    try {
      return Path.of(configured).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new EntityException(
          "output_dir: '" + configured + "' is not a valid path: " + e.getReason(), e);
    }
  }

  /** Bytes for people in binary units, e.g. {@code 1.50 GiB} (see {@link DeviceInfo}). */
  public static String formatBytes(long bytes) {
    return DeviceInfo.formatBytes(bytes);
  }

  @Override
  public String toString() {
    return "plugin " + name();
  }
}
