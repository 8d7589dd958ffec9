// Convention: every size is in bytes, and formatBytes prints binary units (1 GiB = 2^30 bytes),
// the units nvidia-smi and /proc/meminfo count in; we never print decimal "GB".
package dev.entity.engine.backend;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the host offers for a training run: logical cores, total and available RAM (from {@code
 * /proc/meminfo}, falling back to the JVM's operating-system bean), the JVM's maximum heap, and the
 * NVIDIA GPUs that {@code nvidia-smi} reports when it is on the PATH — or, where it is missing or
 * hangs, those the CUDA driver reports when the CUDA backend is usable (else none). These are facts
 * for planning — the memory estimate and the device choice; the CUDA backend reports exact figures
 * once it is loaded.
 *
 * @param logicalCores processors available to the JVM
 * @param totalRamBytes physical memory of the host
 * @param availableRamBytes memory the kernel says can be allocated without swapping
 * @param jvmMaxHeapBytes {@code Runtime.maxMemory()}; tensors live off-heap, outside this limit
 * @param gpus detected GPUs, in nvidia-smi's order (empty when none)
 */
public record DeviceInfo(
    int logicalCores,
    long totalRamBytes,
    long availableRamBytes,
    long jvmMaxHeapBytes,
    List<Gpu> gpus) {

  /** The command run to list GPUs; its output is one CSV line per GPU, sizes in MiB. */
  public static final List<String> NVIDIA_SMI =
      List.of(
          "nvidia-smi",
          "--query-gpu=name,memory.total,memory.used",
          "--format=csv,noheader,nounits");

  private static final Duration NVIDIA_SMI_TIMEOUT = Duration.ofSeconds(5);
  private static final long MIB = 1L << 20;

  /**
   * One GPU as nvidia-smi reports it.
   *
   * @param index position in nvidia-smi's list (the CUDA ordinal under default settings)
   * @param name marketing name, e.g. "NVIDIA H100 80GB HBM3"
   * @param totalBytes device memory
   * @param usedBytes memory already in use by any process
   */
  public record Gpu(int index, String name, long totalBytes, long usedBytes) {
    /** Memory not yet in use. */
    public long freeBytes() {
      return Math.max(0, totalBytes - usedBytes);
    }
  }

  public DeviceInfo {
    gpus = List.copyOf(gpus);
  }

  /**
   * Probes this host: {@code /proc/meminfo}, the cgroup memory limit under {@code /sys/fs/cgroup}
   * (a container's limit is what a run may really use), and {@code nvidia-smi} with a 5 s timeout.
   */
  public static DeviceInfo detect() {
    DeviceInfo info =
        detect(Path.of("/proc/meminfo"), Path.of("/sys/fs/cgroup"), NVIDIA_SMI, NVIDIA_SMI_TIMEOUT);
    return info.hasGpu() ? info : info.withGpus(cudaGpus());
  }

  /**
   * The GPUs the CUDA driver reports (total and free memory), for hosts where the driver is usable
   * but nvidia-smi is not installed (slim containers); empty when CUDA is not usable.
   */
  static List<Gpu> cudaGpus() {
    try {
      return dev.entity.engine.backend.cuda.CudaBackendProvider.gpus();
    } catch (RuntimeException | LinkageError e) {
      return List.of(); // a broken driver means no GPU for planning, as a missing nvidia-smi does
    }
  }

  /** The same host facts with another list of GPUs. */
  public DeviceInfo withGpus(List<Gpu> gpus) {
    return new DeviceInfo(logicalCores, totalRamBytes, availableRamBytes, jvmMaxHeapBytes, gpus);
  }

  /**
   * Probes with given files and GPU-listing command (tests pass fakes). RAM figures fall back to
   * the JVM's operating-system bean when {@code meminfo} is missing or lacks the fields; a cgroup
   * limit ({@code memory.max}, or v1's {@code memory/memory.limit_in_bytes}) under {@code
   * cgroupRoot} caps them when present.
   */
  public static DeviceInfo detect(
      Path meminfo, Path cgroupRoot, List<String> gpuCommand, Duration timeout) {
    long total = -1;
    long available = -1;
    try {
      String text = Files.readString(meminfo, StandardCharsets.US_ASCII);
      total = meminfoBytes(text, "MemTotal").orElse(-1);
      available = meminfoBytes(text, "MemAvailable").orElse(-1);
    } catch (IOException | RuntimeException e) {
      // Not Linux, or no procfs: the bean below answers.
    }
    if (total <= 0 || available < 0) {
      var os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof com.sun.management.OperatingSystemMXBean bean) {
        total = bean.getTotalMemorySize();
        available = bean.getFreeMemorySize();
      } else {
        total = Math.max(total, 0);
        available = Math.max(available, 0);
      }
    }
    OptionalLong limit = cgroupBytes(cgroupRoot, "memory.max", "memory/memory.limit_in_bytes");
    if (limit.isPresent()) {
      long used =
          cgroupBytes(cgroupRoot, "memory.current", "memory/memory.usage_in_bytes").orElse(0);
      total = Math.min(total, limit.getAsLong());
      available = Math.min(available, Math.max(0, limit.getAsLong() - used));
    }
    String smi = runQuietly(gpuCommand, timeout).orElse("");
    return new DeviceInfo(
        Runtime.getRuntime().availableProcessors(),
        total,
        Math.min(available, total),
        Runtime.getRuntime().maxMemory(),
        parseNvidiaSmi(smi));
  }

  /**
   * A byte count from the first readable cgroup file (v2 name, then v1); empty when absent, "max",
   * or v1's "unlimited" (a value near 2^63).
   */
  static OptionalLong cgroupBytes(Path root, String... files) {
    for (String file : files) {
      try {
        String text = Files.readString(root.resolve(file), StandardCharsets.US_ASCII).trim();
        if (text.equals("max")) {
          return OptionalLong.empty();
        }
        long value = Long.parseLong(text);
        return value <= 0 || value >= 1L << 60 ? OptionalLong.empty() : OptionalLong.of(value);
      } catch (IOException | RuntimeException e) {
        // try the next name
      }
    }
    return OptionalLong.empty();
  }

  /** The value of a {@code /proc/meminfo} field in bytes (the file counts in kB = 1024 bytes). */
  public static OptionalLong meminfoBytes(String meminfo, String field) {
    for (String line : meminfo.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0 || !line.substring(0, colon).equals(field)) {
        continue;
      }
      String[] parts = line.substring(colon + 1).trim().split("\\s+");
      try {
        long value = Long.parseLong(parts[0]);
        boolean kib = parts.length > 1 && parts[1].equalsIgnoreCase("kB");
        if (value < 0 || value > Long.MAX_VALUE / 1024) {
          return OptionalLong.empty();
        }
        return OptionalLong.of(kib ? value * 1024 : value);
      } catch (NumberFormatException e) {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.empty();
  }

  /**
   * GPUs from nvidia-smi's {@code name,memory.total,memory.used} CSV (MiB, no header, no units).
   * Lines it cannot read — "[N/A]" sizes, error text — are skipped rather than guessed.
   */
  public static List<Gpu> parseNvidiaSmi(String csv) {
    List<Gpu> gpus = new ArrayList<>();
    for (String line : csv.split("\n")) {
      // The name may itself contain commas, so the two sizes are taken from the right.
      int last = line.lastIndexOf(',');
      int middle = last < 0 ? -1 : line.lastIndexOf(',', last - 1);
      if (middle <= 0) {
        continue;
      }
      try {
        long totalMib = Long.parseLong(line.substring(middle + 1, last).trim());
        long usedMib = Long.parseLong(line.substring(last + 1).trim());
        String name = line.substring(0, middle).trim();
        if (totalMib <= 0 || usedMib < 0 || name.isEmpty() || totalMib > Long.MAX_VALUE / MIB) {
          continue;
        }
        gpus.add(new Gpu(gpus.size(), name, totalMib * MIB, Math.min(usedMib, totalMib) * MIB));
      } catch (NumberFormatException e) {
        // skipped: see Javadoc
      }
    }
    return gpus;
  }

  /**
   * Stdout of a command that exited 0 within the timeout; empty if it is absent, failed or hung.
   */
  static Optional<String> runQuietly(List<String> command, Duration timeout) {
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    InputStream out = process.getInputStream();
    try {
      process.getOutputStream().close();
      // Read concurrently so a chatty command cannot block on a full pipe while we wait.
      CompletableFuture<byte[]> bytes =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return out.readNBytes(1 << 20);
                } catch (IOException e) {
                  return new byte[0];
                }
              },
              Thread::startVirtualThread);
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
        return Optional.empty();
      }
      return Optional.of(
          new String(bytes.get(timeout.toMillis(), TimeUnit.MILLISECONDS), StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (IOException | ExecutionException | TimeoutException e) {
      return Optional.empty();
    } finally {
      // Kill first: closing the pipe while the reader blocks on it would wait for the reader.
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      try {
        out.close();
      } catch (IOException e) {
        // nothing left to read
      }
    }
  }

  /** Whether nvidia-smi reported at least one GPU. */
  public boolean hasGpu() {
    return !gpus.isEmpty();
  }

  /** The first GPU (CUDA device 0), if any. */
  public Optional<Gpu> firstGpu() {
    return gpus.stream().findFirst();
  }

  /**
   * Bytes for humans in binary units with two decimals: "512 B", "1.50 KiB", "1.23 GiB". Negative
   * values keep their sign.
   */
  public static String formatBytes(long bytes) {
    if (bytes < 0) {
      return bytes == Long.MIN_VALUE ? "-8.00 EiB" : "-" + formatBytes(-bytes);
    }
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.2f %s", value, units[unit]);
  }

  /** A few lines describing this host, for logs and the CLI. */
  public String summary() {
    StringBuilder s = new StringBuilder();
    s.append("CPU: ")
        .append(logicalCores)
        .append(" logical cores, RAM ")
        .append(formatBytes(availableRamBytes))
        .append(" available of ")
        .append(formatBytes(totalRamBytes))
        .append(", JVM heap max ")
        .append(formatBytes(jvmMaxHeapBytes));
    if (gpus.isEmpty()) {
      s.append("\nGPU: none detected (nvidia-smi not found or reported none)");
    }
    for (Gpu g : gpus) {
      s.append("\nGPU ")
          .append(g.index())
          .append(": ")
          .append(g.name())
          .append(", ")
          .append(formatBytes(g.freeBytes()))
          .append(" free of ")
          .append(formatBytes(g.totalBytes()));
    }
    return s.toString();
  }
}
