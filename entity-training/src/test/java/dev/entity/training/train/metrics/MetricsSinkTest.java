package dev.entity.training.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsSinkTest {

  private static MetricRecord train(long step, double loss) {
    Map<String, Double> v = new LinkedHashMap<>();
    v.put(MetricRecord.LOSS, loss);
    v.put(MetricRecord.LEARNING_RATE, 1.5e-4);
    v.put(MetricRecord.MICRO_BATCH_SIZE, 4.0);
    return new MetricRecord(MetricRecord.Kind.TRAIN, step, 10, 0.25, v, Instant.EPOCH);
  }

  @Test
  void compositeForwardsEveryCallInOrderToEachSink() {
    InMemoryMetricsSink a = new InMemoryMetricsSink();
    InMemoryMetricsSink b = new InMemoryMetricsSink();
    MetricsSink both = MetricsSink.of(List.of(a, b));
    MetricsSink.RunStart start =
        new MetricsSink.RunStart("r", Path.of("out"), Map.of("seed", 1), 0, 10, 5, 0, 3, 9);
    both.begin(start);
    both.log(train(1, 2.5));
    both.log(train(2, 2.0));
    both.checkpoint(
        new MetricsSink.CheckpointSaved(2, Path.of("out/checkpoint-2"), null, List.of()));
    both.end(new MetricsSink.RunEnd(MetricsSink.Outcome.COMPLETED, 2, null, -1, null, 1.0, "done"));
    both.close();
    for (InMemoryMetricsSink s : List.of(a, b)) {
      assertThat(s.start()).isEqualTo(start);
      assertThat(s.records(MetricRecord.Kind.TRAIN))
          .extracting(MetricRecord::step)
          .containsExactly(1L, 2L);
      assertThat(s.records(MetricRecord.Kind.EVAL)).isEmpty();
      assertThat(s.checkpoints()).hasSize(1);
      assertThat(s.end().outcome()).isEqualTo(MetricsSink.Outcome.COMPLETED);
    }
  }

  @Test
  void recordKeepsInsertionOrderAndIsImmutable() {
    MetricRecord r = train(3, 1.25);
    assertThat(r.values().keySet())
        .containsExactly(
            MetricRecord.LOSS, MetricRecord.LEARNING_RATE, MetricRecord.MICRO_BATCH_SIZE);
    assertThat(r.value(MetricRecord.LOSS)).hasValue(1.25);
    assertThat(r.value(MetricRecord.EVAL_LOSS)).isEmpty();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.values().put("x", 1.0))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void consoleSinkPrintsOneLinePerRecord() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ConsoleMetricsSink console =
        new ConsoleMetricsSink(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    console.log(train(3, 1.25));
    console.end(
        new MetricsSink.RunEnd(MetricsSink.Outcome.INTERRUPTED, 3, null, -1, null, 1, "stopped"));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("train step 3/10 epoch 0.25 loss 1.2500 learning_rate 1.500e-04")
        .contains("micro_batch_size 4")
        .contains("training interrupted at step 3: stopped");
  }
}
