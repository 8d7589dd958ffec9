// Convention: every figure is in bytes and -1 means "not known here" (not Linux, no procfs), never
// 0, which is a real reading; callers print -1 as "unknown".
package dev.entity.engine.backend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident memory of this process as the Linux kernel counts it: the resident set size now
 * ({@code VmRSS} of {@code /proc/self/status}) and its high-water mark ({@code VmHWM}), plus the
 * reset of that mark through {@code /proc/self/clear_refs}, so a benchmark can measure the peak of
 * one phase (training) apart from an earlier one (building the model). The one place that reads
 * these files: the training metrics' memory probe, the training benchmark and the decode benchmark
 * all go through it.
 */
public final class ProcessMemory {

  /** The kernel's status file of this process. */
  public static final Path STATUS = Path.of("/proc/self/status");

  /** Writing {@code 5} here sets VmHWM to the current RSS (Linux 4.0 and later). */
  public static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

  /**
   * One reading of the status file.
   *
   * @param residentBytes VmRSS, the resident set size now; -1 where unknown
   * @param peakResidentBytes VmHWM, the largest resident set size so far; -1 where unknown
   */
  public record Reading(long residentBytes, long peakResidentBytes) {

    /** A reading where nothing is known. */
    public static final Reading UNKNOWN = new Reading(-1, -1);

    /** Whether the resident set size is known. */
    public boolean known() {
      return residentBytes >= 0;
    }
  }

  private ProcessMemory() {}

  /** Reads {@link #STATUS} now; {@link Reading#UNKNOWN} where there is none. */
  public static Reading read() {
    return read(STATUS);
  }

  /** Reads a status file (tests pass a fake); {@link Reading#UNKNOWN} where it cannot be read. */
  public static Reading read(Path statusFile) {
    try {
      return parse(Files.readString(statusFile, StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return Reading.UNKNOWN; // not Linux, no procfs, or not readable: the caller says unknown
    }
  }

  /** The VmRSS and VmHWM fields of a status file's text; -1 for a field missing or malformed. */
  public static Reading parse(String statusText) {
    return new Reading(
        DeviceInfo.meminfoBytes(statusText, "VmRSS").orElse(-1),
        DeviceInfo.meminfoBytes(statusText, "VmHWM").orElse(-1));
  }

  /** VmHWM now, -1 where unknown. */
  public static long peakResidentBytes() {
    return read().peakResidentBytes();
  }

  /**
   * Sets the high-water mark to the current resident set size, so that a later {@link #read()}
   * reports the peak since now; false where the kernel refuses or there is no procfs.
   */
  public static boolean resetPeak() {
    return resetPeak(CLEAR_REFS);
  }

  /** {@link #resetPeak()} through a given file (tests pass a temporary one). */
  public static boolean resetPeak(Path clearRefs) {
    try {
      Files.writeString(clearRefs, "5", StandardCharsets.US_ASCII);
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
