package dev.entity.training.eval;

import dev.entity.core.EntityException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The metric values measured for one model (tuned or base). Only the metrics that were computed are
 * present; every value is finite. Build it with {@link #of} or by chaining {@link #with}.
 */
public record EvalMetrics(Map<Metric, Double> values) {

  public EvalMetrics {
    EnumMap<Metric, Double> copy = new EnumMap<>(Metric.class);
    values.forEach(
        (metric, value) -> {
          if (value == null || !Double.isFinite(value)) {
            throw new EntityException(
                "metric " + metric.key() + " has no finite value (" + value + ")");
          }
          copy.put(metric, value);
        });
    values = Collections.unmodifiableMap(copy);
  }

  /** No metrics yet. */
  public static EvalMetrics empty() {
    return new EvalMetrics(Map.of());
  }

  /** From computed results; null arguments are metrics that were not computed. */
  public static EvalMetrics of(Perplexity perplexity, BleuScore bleu, RougeCorpusScore rouge) {
    EvalMetrics m = empty();
    if (perplexity != null) {
      m = m.with(Metric.PERPLEXITY, perplexity.value());
    }
    if (bleu != null) {
      m = m.with(Metric.BLEU, bleu.score());
    }
    if (rouge != null) {
      m =
          m.with(Metric.ROUGE_1, rouge.rouge1())
              .with(Metric.ROUGE_2, rouge.rouge2())
              .with(Metric.ROUGE_L, rouge.rougeL());
    }
    return m;
  }

  /** A copy with {@code metric} set to {@code value}. */
  public EvalMetrics with(Metric metric, double value) {
    EnumMap<Metric, Double> copy = new EnumMap<>(Metric.class);
    copy.putAll(values);
    copy.put(metric, value);
    return new EvalMetrics(copy);
  }

  public OptionalDouble get(Metric metric) {
    Double v = values.get(metric);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }
}
