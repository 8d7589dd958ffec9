package dev.entity.training.train.metrics;

import java.io.PrintStream;
import java.util.Locale;

/**
 * One plain line per record on a stream ({@code step 12/40 epoch 0.60 loss 2.3456 lr 1.2e-04 ...}):
 * the simplest console sink, until the progress bar replaces it. Checkpoints and the end of the run
 * get a line each.
 */
public final class ConsoleMetricsSink implements MetricsSink {

  private final PrintStream out;

  public ConsoleMetricsSink(PrintStream out) {
    this.out = out;
  }

  @Override
  public void log(MetricRecord r) {
    StringBuilder s =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%s step %d/%d epoch %.2f",
                r.kind() == MetricRecord.Kind.EVAL ? "eval " : "train",
                r.step(),
                r.maxSteps(),
                r.epoch()));
    r.values().forEach((k, v) -> s.append(' ').append(k).append(' ').append(format(v)));
    out.println(s);
  }

  @Override
  public void checkpoint(CheckpointSaved saved) {
    out.println("checkpoint step " + saved.step() + " -> " + saved.path());
  }

  @Override
  public void end(RunEnd end) {
    out.println(
        "training "
            + end.outcome().name().toLowerCase(Locale.ROOT)
            + " at step "
            + end.step()
            + (end.message() == null ? "" : ": " + end.message()));
  }

  private static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Math.abs(v) < 1e-2 || Math.abs(v) >= 1e5
        ? String.format(Locale.ROOT, "%.3e", v)
        : String.format(Locale.ROOT, "%.4f", v);
  }
}
