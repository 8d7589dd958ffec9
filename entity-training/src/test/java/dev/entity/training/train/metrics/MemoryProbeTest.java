package dev.entity.training.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.backend.cpu.CpuBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryProbeTest {

  @TempDir Path dir;

  @Test
  void readsRssAndPeakFromProcStatus() throws IOException {
    Path status = dir.resolve("status");
    Files.writeString(status, "Name:\tjava\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t9\n");
    MemoryProbe.Snapshot s = new MemoryProbe(status, () -> 5L << 20, MemoryProbe.UNKNOWN).sample();
    assertThat(s.rssBytes()).isEqualTo(1024 * 1024);
    assertThat(s.peakRssBytes()).isEqualTo(2048 * 1024);
    assertThat(s.rssEstimated()).isFalse();
    assertThat(s.heapUsedBytes()).isPositive();
    assertThat(s.offHeapBytes()).isEqualTo(5L << 20);
    assertThat(s.deviceBytes()).isEqualTo(-1);
    assertThat(s.values())
        .containsEntry(MetricRecord.RSS_BYTES, 1048576.0)
        .containsEntry(MemoryProbe.PEAK_RSS_BYTES, 2097152.0)
        .containsEntry(MemoryProbe.OFF_HEAP_BYTES, 5242880.0)
        .containsKey(MetricRecord.HEAP_BYTES)
        .doesNotContainKey(MemoryProbe.DEVICE_MEMORY_BYTES);
    assertThat(s.describe())
        .startsWith("RSS 1.00 MiB (peak 2.00 MiB), heap ")
        .endsWith(", off-heap 5.00 MiB");
  }

  @Test
  void withoutProcItEstimatesAndKeepsTheLargestSeenAsPeak() {
    MemoryProbe probe =
        new MemoryProbe(dir.resolve("missing"), MemoryProbe.UNKNOWN, MemoryProbe.UNKNOWN)
            .withDevice(() -> 3L << 30)
            .withOffHeap(
                () -> {
                  throw new IllegalStateException("backend closed");
                });
    MemoryProbe.Snapshot s = probe.sample();
    assertThat(s.rssEstimated()).isTrue();
    assertThat(s.rssBytes()).isPositive();
    assertThat(s.peakRssBytes()).isGreaterThanOrEqualTo(s.rssBytes());
    assertThat(s.offHeapBytes()).isEqualTo(-1);
    assertThat(s.describe()).startsWith("RSS ~").endsWith(", device 3.00 GiB");
    assertThat(probe.sample().peakRssBytes()).isGreaterThanOrEqualTo(s.peakRssBytes());
  }

  @Test
  void aProbeOfACpuBackendHasNoDeviceFigure() {
    try (CpuBackend backend = new CpuBackend(1)) {
      MemoryProbe.Snapshot s = MemoryProbe.of(backend).sample();
      assertThat(backend.deviceBytesInUse()).isEqualTo(-1);
      assertThat(s.deviceBytes()).isEqualTo(-1);
      assertThat(s.values()).doesNotContainKey(MemoryProbe.DEVICE_MEMORY_BYTES);
      assertThat(s.describe()).doesNotContain("device");
    }
  }

  @Test
  void readsThisProcessOnLinux() {
    MemoryProbe.Snapshot s = new MemoryProbe().sample();
    assertThat(s.rssBytes()).isPositive();
    assertThat(s.peakRssBytes()).isGreaterThanOrEqualTo(s.rssBytes());
  }
}
