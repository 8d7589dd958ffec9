package dev.entity.training.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.training.train.metrics.MetricsSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportSinkTest {

  @TempDir Path dir;

  private MetricsSink.RunStart start() {
    return new MetricsSink.RunStart(
        "run-3", dir, Map.of("learning_rate", 2e-4, "lora_r", 8), 0, 20, 10, 2, 1000, 100000);
  }

  @Test
  void collectsTheRunAndWritesTheReportAtTheEnd() throws IOException {
    RunReportSink sink = new RunReportSink(dir, "100 conversations");
    sink.addConfig("device", "cpu, 2 threads");
    sink.begin(start());
    sink.log(RunReportTest.train(10, 2.0, 1e-4));
    sink.log(RunReportTest.eval(10, 1.9));
    Path c10 = Files.createDirectories(dir.resolve("checkpoint-10"));
    Files.write(c10.resolve("w"), new byte[100]);
    sink.checkpoint(new MetricsSink.CheckpointSaved(10, c10, 1.9, List.of()));
    Path c20 = Files.createDirectories(dir.resolve("checkpoint-20"));
    Files.write(c20.resolve("w"), new byte[300]);
    sink.checkpoint(new MetricsSink.CheckpointSaved(20, c20, null, List.of(c10)));
    assertThat(dir.resolve("report.md")).doesNotExist();
    sink.end(
        new MetricsSink.RunEnd(
            MetricsSink.Outcome.EARLY_STOPPED, 20, 1.9, 10, dir.resolve("final-model"), 42, "ok"));
    sink.close();

    RunSummary s = sink.summary();
    assertThat(s.runId()).isEqualTo("run-3");
    assertThat(s.checkpoints())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.step()).isEqualTo(20);
              assertThat(c.sizeBytes()).isEqualTo(300);
            });
    assertThat(s.config().keySet())
        .containsSubsequence(
            "max steps", "trainable parameters", "device", "learning_rate", "lora_r");
    assertThat(s.config()).containsEntry("trainable parameters", "1,000 of 100,000 (1.000%)");
    String md = Files.readString(dir.resolve("report.md"));
    assertThat(md)
        .contains("(early stopped)")
        .contains("**Best validation loss:** 1.9000 at step 10")
        .contains("100 conversations");
    assertThat(dir.resolve("report.html")).exists();
    assertThat(dir.resolve("loss.png")).exists();
  }

  @Test
  void closeWithoutEndStillLeavesAReport() throws IOException {
    RunReportSink sink = new RunReportSink(dir, "");
    sink.begin(start());
    sink.log(RunReportTest.train(3, 2.0, 1e-4));
    sink.close();
    assertThat(Files.readString(dir.resolve("report.md")))
        .contains("failed at step 3 of 20: the run ended without a summary");
  }
}
