package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JvmFootprintTest {

  @Test
  void launcherComponentsArePinnedToTheMeasurements() {
    // measured: 88-105 MiB runtime baseline, -Xmn32m, 11-31 MiB old, shallow worker stacks
    JvmFootprint jvm = JvmFootprint.launcher(2);
    assertThat(jvm.baselineBytes()).isEqualTo(90L << 20);
    assertThat(jvm.youngGenBytes()).isEqualTo(32L << 20);
    assertThat(jvm.oldGenBytes()).isEqualTo(16L << 20);
    assertThat(jvm.perThreadBytes()).isEqualTo(256L << 10);
    assertThat(jvm.heapBytes()).isEqualTo(48L << 20);
    assertThat(jvm.totalBytes()).isEqualTo((90L + 48) * (1 << 20) + 2 * (256L << 10));
    assertThat(jvm.describe())
        .isEqualTo(
            "JVM 90.00 MiB + heap 48.00 MiB (young 32.00 MiB, old 16.00 MiB) + 2 threads ×"
                + " 256.00 KiB");
    assertThat(JvmFootprint.launcher(16).totalBytes() - jvm.totalBytes())
        .isEqualTo(14 * (256L << 10));
  }

  @Test
  void theLauncherPassesTheSettingsTheFootprintAssumes() throws IOException {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("entity-train"))) {
      dir = dir.getParent();
    }
    assertThat(dir)
        .as("the entity-train launcher above " + Path.of("").toAbsolutePath())
        .isNotNull();
    String launcher = Files.readString(dir.resolve("entity-train"));
    long young = JvmFootprint.YOUNG_GEN_BYTES >> 20;
    assertThat(launcher).contains("-XX:+UseSerialGC").contains(" -Xmn" + young + "m ");
  }

  @Test
  void thisJvmReadsTheSerialPoolsOrFallsBackToTheLauncher() {
    JvmFootprint jvm = JvmFootprint.thisJvm();
    assertThat(jvm.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(jvm.baselineBytes()).isEqualTo(JvmFootprint.BASELINE_BYTES);
    boolean serial =
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .anyMatch(gc -> gc.getName().equals("MarkSweepCompact"));
    if (serial) {
      assertThat(jvm.youngGenBytes()).isPositive();
      assertThat(jvm.oldGenBytes()).isEqualTo(JvmFootprint.OLD_GEN_BYTES);
    } else {
      assertThat(jvm).isEqualTo(JvmFootprint.launcher(jvm.threads()));
    }
  }

  @Test
  void refusesNegativeComponentsAndNoThreads() {
    assertThatThrownBy(() -> new JvmFootprint(-1, 0, 0, 0, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new JvmFootprint(0, 0, 0, 0, 0))
        .hasMessageContaining("threads must be at least 1");
  }
}
