// Convention: every figure is in bytes and -1 means "not known here" (never 0, which is a real
// reading); describe() prints with DeviceInfo.formatBytes, the binary units used everywhere else.
package dev.entity.training.train.metrics;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.backend.ProcessMemory;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Measures the memory of this process for the metrics: resident set size and its peak (VmRSS and
 * VmHWM, read through {@link ProcessMemory}), JVM heap in use, and through hooks the off-heap bytes
 * the backend has allocated (the engine does not count them itself yet) and the device memory in
 * use on a GPU ({@link #of(Backend)} wires {@link Backend#deviceBytesInUse()}). Off-heap tensors
 * live in {@code Arena} segments, which the JVM's buffer pool beans do not count, so without a hook
 * that figure is unknown rather than guessed.
 *
 * <p>Where {@code /proc} is missing (not Linux) the RSS is estimated as committed heap + committed
 * non-heap + direct buffers, and the peak is the largest RSS this probe has seen.
 */
public final class MemoryProbe {

  /** Largest resident set size of the process so far. */
  public static final String PEAK_RSS_BYTES = "peak_rss_bytes";

  /** Off-heap bytes allocated by the backend (tensors, parameters, optimizer state). */
  public static final String OFF_HEAP_BYTES = "off_heap_bytes";

  /** Device (GPU) memory in use. */
  public static final String DEVICE_MEMORY_BYTES = "device_memory_bytes";

  /** A hook that has no figure. */
  public static final LongSupplier UNKNOWN = () -> -1;

  /**
   * One reading; -1 where unknown.
   *
   * @param rssBytes resident set size now
   * @param peakRssBytes largest resident set size so far
   * @param heapUsedBytes JVM heap in use
   * @param offHeapBytes off-heap bytes allocated by the backend
   * @param deviceBytes device memory in use
   * @param rssEstimated whether the RSS figures are estimates (no {@code /proc})
   */
  public record Snapshot(
      long rssBytes,
      long peakRssBytes,
      long heapUsedBytes,
      long offHeapBytes,
      long deviceBytes,
      boolean rssEstimated) {

    /** The known figures under their metric names, for a {@link MetricRecord}. */
    public Map<String, Double> values() {
      Map<String, Double> values = new LinkedHashMap<>();
      put(values, MetricRecord.RSS_BYTES, rssBytes);
      put(values, PEAK_RSS_BYTES, peakRssBytes);
      put(values, MetricRecord.HEAP_BYTES, heapUsedBytes);
      put(values, OFF_HEAP_BYTES, offHeapBytes);
      put(values, DEVICE_MEMORY_BYTES, deviceBytes);
      return values;
    }

    private static void put(Map<String, Double> values, String name, long bytes) {
      if (bytes >= 0) {
        values.put(name, (double) bytes);
      }
    }

    /** {@code RSS 1.20 GiB (peak 1.50 GiB), heap 210.00 MiB, off-heap 800.00 MiB}. */
    public String describe() {
      StringBuilder s = new StringBuilder("RSS ");
      s.append(rssEstimated ? "~" : "").append(format(rssBytes));
      s.append(" (peak ").append(format(peakRssBytes)).append(')');
      s.append(", heap ").append(format(heapUsedBytes));
      if (offHeapBytes >= 0) {
        s.append(", off-heap ").append(format(offHeapBytes));
      }
      if (deviceBytes >= 0) {
        s.append(", device ").append(format(deviceBytes));
      }
      return s.toString();
    }

    private static String format(long bytes) {
      return bytes < 0 ? "unknown" : DeviceInfo.formatBytes(bytes);
    }
  }

  private final Path procStatus;
  private final LongSupplier offHeapBytes;
  private final LongSupplier deviceBytes;
  private long largestSeen = -1;

  /** Reads {@link ProcessMemory#STATUS}; off-heap and device memory unknown. */
  public MemoryProbe() {
    this(ProcessMemory.STATUS, UNKNOWN, UNKNOWN);
  }

  /**
   * A probe of this process whose device figure is {@code backend}'s {@link
   * Backend#deviceBytesInUse()} (-1 on the CPU, so the metric is left out there).
   */
  public static MemoryProbe of(Backend backend) {
    return new MemoryProbe().withDevice(backend::deviceBytesInUse);
  }

  /**
   * @param procStatus the {@code status} file to read (tests pass a fake)
   * @param offHeapBytes the hook for the backend's allocated off-heap bytes (-1: unknown)
   * @param deviceBytes the hook for device memory in use (-1: unknown, e.g. on the CPU)
   */
  public MemoryProbe(Path procStatus, LongSupplier offHeapBytes, LongSupplier deviceBytes) {
    this.procStatus = procStatus;
    this.offHeapBytes = offHeapBytes;
    this.deviceBytes = deviceBytes;
  }

  /** A probe like this one with the backend's off-heap figure from {@code offHeapBytes}. */
  public MemoryProbe withOffHeap(LongSupplier offHeapBytes) {
    return new MemoryProbe(procStatus, offHeapBytes, deviceBytes);
  }

  /** A probe like this one with the device memory figure from {@code deviceBytes}. */
  public MemoryProbe withDevice(LongSupplier deviceBytes) {
    return new MemoryProbe(procStatus, offHeapBytes, deviceBytes);
  }

  /** Takes a reading now. */
  public synchronized Snapshot sample() {
    MemoryMXBean jvm = ManagementFactory.getMemoryMXBean();
    long heap = jvm.getHeapMemoryUsage().getUsed();
    ProcessMemory.Reading process = ProcessMemory.read(procStatus);
    boolean estimated = !process.known(); // not Linux: committed JVM memory stands in
    long rssNow =
        estimated
            ? jvm.getHeapMemoryUsage().getCommitted()
                + jvm.getNonHeapMemoryUsage().getCommitted()
                + directBufferBytes()
            : process.residentBytes();
    largestSeen = Math.max(largestSeen, rssNow);
    long peakNow =
        Math.max(
            process.peakResidentBytes() >= 0 ? process.peakResidentBytes() : largestSeen, rssNow);
    return new Snapshot(rssNow, peakNow, heap, hook(offHeapBytes), hook(deviceBytes), estimated);
  }

  private static long hook(LongSupplier supplier) {
    try {
      return Math.max(-1, supplier.getAsLong());
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static long directBufferBytes() {
    long sum = 0;
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      sum += Math.max(0, pool.getMemoryUsed());
    }
    return sum;
  }
}
