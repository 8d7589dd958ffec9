package dev.entity.training.train.metrics;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Records for the sink tests. */
final class MetricRecords {

  private MetricRecords() {}

  static MetricRecord train(long step, long maxSteps, double loss, Instant time) {
    Map<String, Double> v = new LinkedHashMap<>();
    v.put(MetricRecord.LOSS, loss);
    v.put(MetricRecord.LEARNING_RATE, 2e-4 / step);
    v.put(MetricRecord.TOKENS_PER_SECOND, 1234.5);
    return new MetricRecord(MetricRecord.Kind.TRAIN, step, maxSteps, step / 4.0, v, time);
  }

  static MetricRecord eval(long step, long maxSteps, double loss, Instant time) {
    Map<String, Double> v = new LinkedHashMap<>();
    v.put(MetricRecord.EVAL_LOSS, loss);
    v.put(MetricRecord.EVAL_PERPLEXITY, Math.exp(loss));
    return new MetricRecord(MetricRecord.Kind.EVAL, step, maxSteps, step / 4.0, v, time);
  }

  static MetricsSink.RunStart start(long startStep, long maxSteps) {
    return new MetricsSink.RunStart(
        "run-1",
        java.nio.file.Path.of("out"),
        Map.of("seed", 1),
        startStep,
        maxSteps,
        4,
        1,
        10,
        100);
  }
}
