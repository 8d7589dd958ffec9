package dev.entity.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class ProcessMemoryTest {

  @TempDir Path dir;

  @Test
  void readsRssAndPeakInKibFromAStatusFile() throws IOException {
    Path status = dir.resolve("status");
    Files.writeString(status, "Name:\tjava\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t9\n");
    ProcessMemory.Reading r = ProcessMemory.read(status);
    assertThat(r.residentBytes()).isEqualTo(1024L * 1024);
    assertThat(r.peakResidentBytes()).isEqualTo(2048L * 1024);
    assertThat(r.known()).isTrue();
  }

  @Test
  void aMissingFileIsUnknownNotZero() {
    ProcessMemory.Reading r = ProcessMemory.read(dir.resolve("missing"));
    assertThat(r).isEqualTo(ProcessMemory.Reading.UNKNOWN);
    assertThat(r.known()).isFalse();
    assertThat(r.peakResidentBytes()).isEqualTo(-1);
  }

  @Test
  void truncatedMalformedAndHostileFieldsAreUnknown() {
    assertThat(ProcessMemory.parse("")).isEqualTo(ProcessMemory.Reading.UNKNOWN);
    assertThat(ProcessMemory.parse("VmRSS:")).isEqualTo(ProcessMemory.Reading.UNKNOWN);
    assertThat(ProcessMemory.parse("VmRSS:\t12ab kB\nVmHWM:\t-5 kB\n"))
        .isEqualTo(ProcessMemory.Reading.UNKNOWN);
    assertThat(ProcessMemory.parse("VmRSS:\t99999999999999999999999 kB\n").residentBytes())
        .isEqualTo(-1);
    assertThat(ProcessMemory.parse("VmRSS:\t" + Long.MAX_VALUE + " kB\n").residentBytes())
        .isEqualTo(-1); // would overflow in bytes
    // a field name only as a prefix of another is not that field
    assertThat(ProcessMemory.parse("VmRSSx:\t7 kB\nVmHWM:\t8 kB").residentBytes()).isEqualTo(-1);
    assertThat(ProcessMemory.parse("VmRSSx:\t7 kB\nVmHWM:\t8 kB").peakResidentBytes())
        .isEqualTo(8 * 1024);
  }

  @Test
  void resetPeakWritesFiveAndSaysWhenItCannot() throws IOException {
    Path clearRefs = dir.resolve("clear_refs");
    assertThat(ProcessMemory.resetPeak(clearRefs)).isTrue();
    assertThat(Files.readString(clearRefs)).isEqualTo("5");
    assertThat(ProcessMemory.resetPeak(dir.resolve("no/such/dir/clear_refs"))).isFalse();
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void readsThisProcess() {
    ProcessMemory.Reading r = ProcessMemory.read();
    assertThat(r.residentBytes()).isPositive();
    assertThat(r.peakResidentBytes()).isGreaterThanOrEqualTo(r.residentBytes());
    assertThat(ProcessMemory.peakResidentBytes()).isGreaterThanOrEqualTo(r.peakResidentBytes());
  }
}
