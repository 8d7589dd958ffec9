package dev.entity.engine.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceInfoTest {

  static final String MEMINFO =
      """
      MemTotal:       16314444 kB
      MemFree:          512000 kB
      MemAvailable:    8000000 kB
      Buffers:          102400 kB
      """;

  @Test
  void readsMeminfoInKibibytes() {
    assertThat(DeviceInfo.meminfoBytes(MEMINFO, "MemTotal")).hasValue(16314444L * 1024);
    assertThat(DeviceInfo.meminfoBytes(MEMINFO, "MemAvailable")).hasValue(8000000L * 1024);
    assertThat(DeviceInfo.meminfoBytes(MEMINFO, "Mem")).isEmpty();
    assertThat(DeviceInfo.meminfoBytes("MemTotal: lots kB", "MemTotal")).isEmpty();
    assertThat(DeviceInfo.meminfoBytes("MemTotal: 99999999999999999999 kB", "MemTotal")).isEmpty();
    assertThat(DeviceInfo.meminfoBytes("MemTotal: 9223372036854775807 kB", "MemTotal")).isEmpty();
    assertThat(DeviceInfo.meminfoBytes("", "MemTotal")).isEmpty();
  }

  @Test
  void parsesNvidiaSmiLinesAndSkipsWhatItCannotRead() {
    List<DeviceInfo.Gpu> gpus =
        DeviceInfo.parseNvidiaSmi(
            """
            NVIDIA H100 80GB HBM3, 81559, 1
            NVIDIA GeForce RTX 3090, 24576, 2048
            Weird, Inc. GPU, 1024, 0
            NVIDIA A100, [N/A], [N/A]
            NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.
            , 100, 0
            """);
    assertThat(gpus).hasSize(3);
    assertThat(gpus.get(0))
        .isEqualTo(new DeviceInfo.Gpu(0, "NVIDIA H100 80GB HBM3", 81559L << 20, 1L << 20));
    assertThat(gpus.get(1).freeBytes()).isEqualTo((24576L - 2048) << 20);
    assertThat(gpus.get(2).name()).isEqualTo("Weird, Inc. GPU");
    assertThat(gpus.get(2).index()).isEqualTo(2);
    assertThat(DeviceInfo.parseNvidiaSmi("")).isEmpty();
  }

  @Test
  void detectsWithAFakeNvidiaSmi(@TempDir Path dir) throws Exception {
    Path meminfo = dir.resolve("meminfo");
    Files.writeString(meminfo, MEMINFO);
    Path smi = script(dir, "smi", "echo 'NVIDIA GeForce RTX 3090, 24576, 1000'");
    DeviceInfo info =
        DeviceInfo.detect(
            meminfo, dir.resolve("no-cgroup"), List.of(smi.toString()), Duration.ofSeconds(5));
    assertThat(info.totalRamBytes()).isEqualTo(16314444L * 1024);
    assertThat(info.availableRamBytes()).isEqualTo(8000000L * 1024);
    assertThat(info.logicalCores()).isPositive();
    assertThat(info.jvmMaxHeapBytes()).isPositive();
    assertThat(info.hasGpu()).isTrue();
    assertThat(info.firstGpu().orElseThrow().totalBytes()).isEqualTo(24576L << 20);
    assertThat(info.summary()).contains("RTX 3090").contains("24.00 GiB").contains("7.63 GiB");
  }

  @Test
  void missingFailingOrHangingNvidiaSmiMeansNoGpu(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("no-such-meminfo");
    DeviceInfo absent =
        DeviceInfo.detect(
            missing, missing, List.of(dir.resolve("nope").toString()), Duration.ofSeconds(1));
    assertThat(absent.hasGpu()).isFalse();
    assertThat(absent.summary()).contains("GPU: none detected");
    // Falls back to the JVM's view of RAM.
    assertThat(absent.totalRamBytes()).isPositive();
    assertThat(absent.availableRamBytes()).isBetween(0L, absent.totalRamBytes());

    Path failing = script(dir, "fail", "echo 'NVIDIA X, 100, 0'; exit 9");
    assertThat(
            DeviceInfo.detect(missing, missing, List.of(failing.toString()), Duration.ofSeconds(5))
                .gpus())
        .isEmpty();

    Path hanging = script(dir, "hang", "echo 'NVIDIA X, 100, 0'; sleep 30");
    long start = System.nanoTime();
    DeviceInfo hung =
        DeviceInfo.detect(missing, missing, List.of(hanging.toString()), Duration.ofMillis(300));
    assertThat(hung.gpus()).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void aContainerLimitCapsTheRam(@TempDir Path dir) throws Exception {
    Path meminfo = dir.resolve("meminfo");
    Files.writeString(meminfo, MEMINFO);
    Path v2 = Files.createDirectories(dir.resolve("v2"));
    Files.writeString(v2.resolve("memory.max"), "4294967296\n");
    Files.writeString(v2.resolve("memory.current"), "1073741824\n");
    DeviceInfo capped = DeviceInfo.detect(meminfo, v2, List.of(), Duration.ofSeconds(1));
    assertThat(capped.totalRamBytes()).isEqualTo(4L << 30);
    assertThat(capped.availableRamBytes()).isEqualTo(3L << 30);

    Path unlimited = Files.createDirectories(dir.resolve("unlimited"));
    Files.writeString(unlimited.resolve("memory.max"), "max\n");
    assertThat(
            DeviceInfo.detect(meminfo, unlimited, List.of(), Duration.ofSeconds(1)).totalRamBytes())
        .isEqualTo(16314444L * 1024);

    Path v1 = Files.createDirectories(dir.resolve("v1/memory"));
    Files.writeString(v1.resolve("memory.limit_in_bytes"), "9223372036854771712\n");
    assertThat(
            DeviceInfo.cgroupBytes(dir.resolve("v1"), "memory.max", "memory/memory.limit_in_bytes"))
        .isEmpty();
    Files.writeString(v1.resolve("memory.limit_in_bytes"), "2147483648");
    assertThat(
            DeviceInfo.cgroupBytes(dir.resolve("v1"), "memory.max", "memory/memory.limit_in_bytes"))
        .hasValue(2L << 30);
    Files.writeString(v1.resolve("memory.limit_in_bytes"), "garbage");
    assertThat(
            DeviceInfo.cgroupBytes(dir.resolve("v1"), "memory.max", "memory/memory.limit_in_bytes"))
        .isEmpty();
  }

  @Test
  void detectsThisHost() {
    DeviceInfo info = DeviceInfo.detect();
    assertThat(info.totalRamBytes()).isPositive();
    assertThat(info.availableRamBytes()).isBetween(0L, info.totalRamBytes());
    assertThat(info.logicalCores()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void formatsBytesInBinaryUnits() {
    assertThat(DeviceInfo.formatBytes(0)).isEqualTo("0 B");
    assertThat(DeviceInfo.formatBytes(1023)).isEqualTo("1023 B");
    assertThat(DeviceInfo.formatBytes(1024)).isEqualTo("1.00 KiB");
    assertThat(DeviceInfo.formatBytes(1536)).isEqualTo("1.50 KiB");
    assertThat(DeviceInfo.formatBytes((long) (1.23 * (1L << 30)))).isEqualTo("1.23 GiB");
    assertThat(DeviceInfo.formatBytes(80L << 30)).isEqualTo("80.00 GiB");
    assertThat(DeviceInfo.formatBytes(3L << 40)).isEqualTo("3.00 TiB");
    assertThat(DeviceInfo.formatBytes(-2048)).isEqualTo("-2.00 KiB");
    assertThat(DeviceInfo.formatBytes(Long.MAX_VALUE)).isEqualTo("8.00 EiB");
    assertThat(DeviceInfo.formatBytes(Long.MIN_VALUE)).isEqualTo("-8.00 EiB");
  }

  private static Path script(Path dir, String name, String body) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    return file;
  }
}
