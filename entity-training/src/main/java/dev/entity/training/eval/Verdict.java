// Convention: limits are inclusive (a perplexity equal to max_perplexity passes), and a threshold
// whose metric was not measured FAILS with a reason rather than being skipped, so a typo in
// metrics_to_calculate cannot turn into a silent PASS.
package dev.entity.training.eval;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * PASS or FAIL for a tuned model against {@link Thresholds}, with one reason per failed threshold
 * naming the metric, the limit and the margin, e.g. {@code perplexity 12.3 > max 10.0 (by 2.3)},
 * and a line per threshold that held.
 */
public record Verdict(Outcome outcome, List<String> reasons, List<String> passedChecks) {

  /** The two outcomes. */
  public enum Outcome {
    PASS,
    FAIL
  }

  public Verdict {
    reasons = List.copyOf(reasons);
    passedChecks = List.copyOf(passedChecks);
  }

  public boolean passed() {
    return outcome == Outcome.PASS;
  }

  /** {@code PASS}, or {@code FAIL: reason; reason}. */
  public String summary() {
    return passed() ? "PASS" : "FAIL: " + String.join("; ", reasons);
  }

  /**
   * Judges {@code tuned} against {@code thresholds}; {@code base} (null when the base model was not
   * evaluated) is needed only by the improvement thresholds.
   */
  public static Verdict judge(Thresholds thresholds, EvalMetrics tuned, EvalMetrics base) {
    var checks = new Checks(tuned, base);
    checks.limit(thresholds.maxPerplexity(), "max_perplexity", Metric.PERPLEXITY, false);
    checks.limit(thresholds.minBleu(), "min_bleu", Metric.BLEU, true);
    checks.limit(thresholds.minRouge1(), "min_rouge_1", Metric.ROUGE_1, true);
    checks.limit(thresholds.minRouge2(), "min_rouge_2", Metric.ROUGE_2, true);
    checks.limit(thresholds.minRougeL(), "min_rouge_l", Metric.ROUGE_L, true);
    checks.improvement(
        thresholds.minPerplexityImprovement(), "min_perplexity_improvement", Metric.PERPLEXITY);
    checks.improvement(thresholds.minBleuImprovement(), "min_bleu_improvement", Metric.BLEU);
    checks.improvement(
        thresholds.minRougeLImprovement(), "min_rouge_l_improvement", Metric.ROUGE_L);
    return new Verdict(
        checks.failed.isEmpty() ? Outcome.PASS : Outcome.FAIL, checks.failed, checks.held);
  }

  // Collects one line per threshold that is set: into failed or into held.
  private static final class Checks {
    final EvalMetrics tuned;
    final EvalMetrics base;
    final List<String> failed = new ArrayList<>();
    final List<String> held = new ArrayList<>();

    Checks(EvalMetrics tuned, EvalMetrics base) {
      this.tuned = tuned;
      this.base = base;
    }

    void limit(Double limit, String field, Metric metric, boolean isMin) {
      if (limit == null) {
        return;
      }
      OptionalDouble measured = tuned.get(metric);
      if (measured.isEmpty()) {
        failed.add(notMeasured(field, metric, "the tuned model's"));
        return;
      }
      double v = measured.getAsDouble();
      String bound = isMin ? "min" : "max";
      if (isMin ? v >= limit : v <= limit) {
        held.add(
            String.format(
                "%s %s %s %s %s",
                metric.key(), number(v), isMin ? ">=" : "<=", bound, number(limit)));
      } else {
        failed.add(
            String.format(
                "%s %s %s %s %s (by %s)",
                metric.key(),
                number(v),
                isMin ? "<" : ">",
                bound,
                number(limit),
                number(Math.abs(v - limit))));
      }
    }

    void improvement(Double min, String field, Metric metric) {
      if (min == null) {
        return;
      }
      if (tuned.get(metric).isEmpty()) {
        failed.add(notMeasured(field, metric, "the tuned model's"));
        return;
      }
      if (base == null || base.get(metric).isEmpty()) {
        failed.add(notMeasured(field, metric, "the base model's"));
        return;
      }
      var row =
          new MetricComparison(
              metric, base.get(metric).getAsDouble(), tuned.get(metric).getAsDouble());
      double gain = row.improvement();
      String context = String.format("base %s, tuned %s", number(row.base()), number(row.tuned()));
      if (gain >= min) {
        held.add(
            String.format(
                "%s improvement over base %s >= min %s (%s)",
                metric.key(), number(gain), number(min), context));
      } else {
        failed.add(
            String.format(
                "%s improvement over base %s < min %s (by %s; %s)",
                metric.key(), number(gain), number(min), number(min - gain), context));
      }
    }
  }

  private static String notMeasured(String field, Metric metric, String whose) {
    return String.format(
        "thresholds.%s is set but %s %s was not measured; add %s to metrics_to_calculate"
            + " (and evaluate the base model for improvement thresholds)",
        field, whose, metric.key(), metric.key());
  }

  // Four decimals, trailing zeros dropped but one kept ("10.0"); tiny nonzero margins keep 3
  // significant digits so "by 0.0" never hides a real difference.
  static String number(double x) {
    if (x != 0 && Math.abs(x) < 1e-4) {
      return String.format("%.3g", x);
    }
    String s =
        BigDecimal.valueOf(x)
            .setScale(4, RoundingMode.HALF_EVEN)
            .stripTrailingZeros()
            .toPlainString();
    return s.contains(".") ? s : s + ".0";
  }
}
