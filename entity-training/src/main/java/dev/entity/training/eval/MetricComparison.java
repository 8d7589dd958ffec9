package dev.entity.training.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * One metric for the base and the tuned model side by side. {@link #delta} is plain {@code tuned -
 * base}; {@link #improvement} is signed so that positive always means the tuned model is better
 * (for perplexity it is {@code base - tuned}).
 */
public record MetricComparison(Metric metric, double base, double tuned) {

  public double delta() {
    return tuned - base;
  }

  public double improvement() {
    return metric.higherIsBetter() ? tuned - base : base - tuned;
  }

  public boolean improved() {
    return improvement() > 0;
  }

  /** Every metric present for both models, in {@link Metric} order. */
  public static List<MetricComparison> compare(EvalMetrics base, EvalMetrics tuned) {
    List<MetricComparison> rows = new ArrayList<>();
    for (Metric m : Metric.values()) {
      if (base.values().containsKey(m) && tuned.values().containsKey(m)) {
        rows.add(new MetricComparison(m, base.values().get(m), tuned.values().get(m)));
      }
    }
    return rows;
  }
}
