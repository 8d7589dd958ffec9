package dev.entity.training.train.metrics;

import static dev.entity.training.train.metrics.MetricRecords.eval;
import static dev.entity.training.train.metrics.MetricRecords.start;
import static dev.entity.training.train.metrics.MetricRecords.train;
import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.resource.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FanOutAndMemorySinksTest {

  @TempDir Path dir;
  private static final Instant T0 = Instant.parse("2026-11-25T13:00:00Z");

  /** Throws on its second log call. */
  static final class Flaky implements MetricsSink {
    int logs;
    boolean closed;

    @Override
    public void log(MetricRecord record) {
      if (++logs == 2) {
        throw new IllegalStateException("disk full");
      }
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void fanOutSurvivesAFailingSinkAndReportsItOnce() {
    InMemoryMetricsSink before = new InMemoryMetricsSink();
    Flaky flaky = new Flaky();
    InMemoryMetricsSink after = new InMemoryMetricsSink();
    List<String> warnings = new ArrayList<>();
    FanOutMetricsSink fan = new FanOutMetricsSink(List.of(before, flaky, after), warnings::add);
    fan.begin(start(0, 5));
    for (int step = 1; step <= 5; step++) {
      fan.log(train(step, 5, 2.0, T0));
    }
    fan.end(new MetricsSink.RunEnd(MetricsSink.Outcome.COMPLETED, 5, null, -1, null, 1, null));
    fan.close();
    assertThat(before.records()).hasSize(5);
    assertThat(after.records()).hasSize(5);
    assertThat(after.end()).isNotNull();
    assertThat(flaky.logs).isEqualTo(2);
    assertThat(flaky.closed).isTrue();
    assertThat(fan.failed()).containsExactly(flaky);
    assertThat(warnings).singleElement().asString().contains("Flaky", "log step 2", "disk full");
    assertThat(fan.find(InMemoryMetricsSink.class)).containsSame(before);
  }

  @Test
  void memorySinkStoresEveryValueAndCheckpoints() {
    try (Memory memory = Memory.inMemory()) {
      MemoryResourceMetricsSink sink = new MemoryResourceMetricsSink(memory);
      sink.begin(start(0, 4));
      sink.log(train(1, 4, 2.5, T0));
      sink.log(eval(1, 4, 2.0, T0.plusSeconds(1)));
      sink.checkpoint(new MetricsSink.CheckpointSaved(1, Path.of("out/ck-1"), 2.0, List.of()));
      sink.checkpoint(new MetricsSink.CheckpointSaved(2, Path.of("out/ck-2"), null, List.of()));
      List<Memory.Metric> metrics = memory.metrics("run-1");
      assertThat(metrics)
          .extracting(Memory.Metric::name)
          .containsExactlyInAnyOrder(
              "epoch",
              "loss",
              "learning_rate",
              "tokens_per_second",
              "epoch",
              "eval_loss",
              "eval_perplexity");
      assertThat(metrics)
          .filteredOn(m -> m.name().equals("loss"))
          .singleElement()
          .satisfies(m -> assertThat(m.value()).isEqualTo(2.5));
      List<Memory.Checkpoint> checkpoints = memory.checkpoints("run-1");
      assertThat(checkpoints).hasSize(2);
      assertThat(checkpoints.get(0).metricName()).isEqualTo("eval_loss");
      assertThat(checkpoints.get(0).metricValue()).isEqualTo(2.0);
      assertThat(checkpoints.get(1).metricName()).isNull();
    }
  }

  @Test
  void standardSinksWriteTheirFilesIntoTheRunFolder() throws IOException {
    List<String> warnings = new ArrayList<>();
    try (Memory memory = Memory.inMemory();
        FanOutMetricsSink sinks = MetricsSinks.standard(dir, null, memory, warnings::add)) {
      sinks.begin(start(0, 2));
      sinks.log(train(1, 2, 2.0, T0));
      sinks.log(train(2, 2, 1.5, T0.plusSeconds(1)));
      sinks.end(new MetricsSink.RunEnd(MetricsSink.Outcome.COMPLETED, 2, null, -1, null, 1, null));
      assertThat(memory.metrics("run-1")).hasSize(8);
    }
    assertThat(warnings).isEmpty();
    assertThat(Files.readAllLines(dir.resolve(MetricsSinks.METRICS_JSONL))).hasSize(2);
    assertThat(Files.readAllLines(dir.resolve(MetricsSinks.METRICS_CSV))).hasSize(3);
    try (var files = Files.list(dir.resolve(MetricsSinks.TENSORBOARD_DIR))) {
      assertThat(files.toList())
          .singleElement()
          .satisfies(
              f -> assertThat(f.getFileName().toString()).startsWith("events.out.tfevents."));
    }
  }

  @Test
  void standardSinksSurviveAnUnwritableFolder() throws IOException {
    Path blocker = dir.resolve("not-a-folder");
    Files.writeString(blocker, "x");
    List<String> warnings = new ArrayList<>();
    InMemoryMetricsSink seen = new InMemoryMetricsSink();
    try (FanOutMetricsSink sinks =
        MetricsSinks.standard(blocker, null, null, warnings::add, seen)) {
      sinks.begin(start(0, 1));
      sinks.log(train(1, 1, 2.0, T0));
    }
    assertThat(seen.records()).hasSize(1);
    assertThat(warnings).hasSize(3); // JSONL, CSV, TensorBoard: one line each
  }
}
