package dev.entity.training.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The memory this process uses, for the metrics: resident set size from {@code /proc/self/status}
 * (0 where there is no procfs) and the JVM heap in use. Off-heap tensors count in the RSS.
 */
public final class ProcessMemory {

  private static final Path STATUS = Path.of("/proc/self/status");

  private ProcessMemory() {}

  /** Resident set size in bytes, 0 when unknown. */
  public static long rssBytes() {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }

  /** JVM heap in use, in bytes. */
  public static long heapBytes() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }
}
