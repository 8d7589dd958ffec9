package dev.entity.training.cli;

import dev.entity.training.plugins.EvaluationPlugin;
import java.util.Locale;
import java.util.Map;

/**
 * What a run shows after REVIEW: the evaluation's PASS or FAIL, each metric of the tuned model
 * beside the base model's, the thresholds that held or the reasons it failed, and the sample
 * answers. Text only, from the {@link EvaluationPlugin.Result} the evaluation stored in memory;
 * {@link TrainingJob} decides when to print it.
 */
final class EvaluationReport {

  /** Longest sample answer shown, in characters; the rest is cut with an ellipsis. */
  static final int SAMPLE_CHARS = 100;

  private EvaluationReport() {}

  static String of(EvaluationPlugin.Result r) {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "Evaluation (review, evaluation): %s on %d conversations%n",
            r.outcome(),
            r.conversations()));
    s.append("  model: ").append(r.model()).append('\n');
    for (Map.Entry<String, Double> e : r.tuned().entrySet()) {
      Double base = r.base().get(e.getKey());
      s.append(String.format(Locale.ROOT, "  %-11s %10.4f", e.getKey(), e.getValue()));
      if (base != null) {
        s.append(
            String.format(Locale.ROOT, "   base %10.4f   change %+.4f", base, e.getValue() - base));
      }
      s.append('\n');
    }
    for (String check : r.passedChecks()) {
      s.append("  held: ").append(check).append('\n');
    }
    for (String reason : r.reasons()) {
      s.append("  FAIL: ").append(reason).append('\n');
    }
    for (EvaluationPlugin.Sample sample : r.samples()) {
      s.append("  prompt: ").append(cut(sample.prompt())).append('\n');
      s.append("    tuned: ").append(cut(sample.tuned())).append('\n');
      if (sample.base() != null) {
        s.append("    base:  ").append(cut(sample.base())).append('\n');
      }
    }
    return s.toString();
  }

  /** One line, control characters shown as spaces, at most {@value #SAMPLE_CHARS} characters. */
  static String cut(String text) {
    if (text == null) {
      return "";
    }
    String line = text.replaceAll("\\p{Cntrl}", " ").strip();
    return line.length() <= SAMPLE_CHARS ? line : line.substring(0, SAMPLE_CHARS) + "...";
  }
}
