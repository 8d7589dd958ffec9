// Convention: on a terminal the bar is the last line of the screen, redrawn in place with '\r' and
// erased to the end with ESC[K; every other line (evaluations, checkpoints, the end, println) first
// erases the bar, prints, then redraws it, so the bar never overwrites or splits another line.
package dev.entity.training.train.metrics;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * The console progress of a training run: step/total, a bar, loss, learning rate, tokens/s and the
 * ETA. On a terminal ({@link Mode#TERMINAL}) it is one line updated in place; otherwise ({@link
 * Mode#PLAIN}: output piped to a file, or {@code CI=true}) it prints a plain line per training
 * record, at most one per interval (plus the first and last step), because '\r' makes log files
 * unreadable. Evaluation records, checkpoints and the end of the run always get a line of their
 * own.
 */
public final class ProgressBarMetricsSink implements MetricsSink {

  /** How the console is drawn. */
  public enum Mode {
    /** One line redrawn in place. */
    TERMINAL,
    /** Plain lines, throttled. */
    PLAIN
  }

  private static final String ERASE_LINE = "\r\033[K";
  private static final int BAR_CELLS = 20;

  private final PrintStream out;
  private final Mode mode;
  private final Duration plainInterval;
  private final int columns;

  private String bar; // the line on screen now (TERMINAL mode), or null
  private Instant lastPlainLine;
  private MetricRecord first;

  /**
   * @param out where to draw
   * @param mode terminal or plain
   * @param plainInterval the least time between two plain lines (ignored on a terminal)
   * @param columns the terminal width; the bar is cut to one less so it never wraps
   */
  public ProgressBarMetricsSink(PrintStream out, Mode mode, Duration plainInterval, int columns) {
    this.out = out;
    this.mode = mode;
    this.plainInterval = plainInterval;
    this.columns = Math.max(20, columns);
  }

  /** On {@code System.out}, mode and width detected, a plain line at most every 10 seconds. */
  public static ProgressBarMetricsSink onStandardOutput() {
    return new ProgressBarMetricsSink(
        System.out, detectMode(), Duration.ofSeconds(10), terminalColumns());
  }

  /**
   * {@link Mode#TERMINAL} when the JVM has an interactive console and {@code CI} is not {@code
   * true}; {@link Mode#PLAIN} otherwise.
   */
  public static Mode detectMode() {
    java.io.Console console = System.console();
    boolean terminal = console != null && console.isTerminal();
    return terminal && !"true".equalsIgnoreCase(System.getenv("CI")) ? Mode.TERMINAL : Mode.PLAIN;
  }

  /** {@code $COLUMNS} when set to a number, else 100. */
  static int terminalColumns() {
    try {
      return Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100").trim());
    } catch (NumberFormatException e) {
      return 100;
    }
  }

  @Override
  public void log(MetricRecord record) {
    if (record.kind() == MetricRecord.Kind.EVAL) {
      println(evalLine(record));
      return;
    }
    if (first == null) {
      first = record;
    }
    String line = progressLine(record);
    if (mode == Mode.TERMINAL) {
      bar = line.length() >= columns ? line.substring(0, columns - 1) : line;
      out.print(ERASE_LINE + bar);
      out.flush();
      return;
    }
    boolean due =
        lastPlainLine == null
            || record.step() >= record.maxSteps()
            || !record.time().isBefore(lastPlainLine.plus(plainInterval));
    if (due) {
      lastPlainLine = record.time();
      out.println(line);
      out.flush();
    }
  }

  /** Prints a line of its own without disturbing the bar: for the trainer's messages. */
  public void println(String line) {
    if (bar != null) {
      out.print(ERASE_LINE);
    }
    out.println(line);
    if (bar != null) {
      out.print(bar);
    }
    out.flush();
  }

  @Override
  public void checkpoint(CheckpointSaved saved) {
    println("checkpoint " + saved.step() + " saved to " + saved.path());
  }

  @Override
  public void end(RunEnd end) {
    releaseLine();
    out.println(
        "training "
            + end.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' ')
            + " at step "
            + end.step()
            + String.format(Locale.ROOT, " after %s", duration(end.seconds()))
            + (end.message() == null || end.message().isBlank() ? "" : ": " + end.message()));
    out.flush();
  }

  /** Leaves the bar on screen as a finished line, so later output starts on a fresh one. */
  private void releaseLine() {
    if (bar != null) {
      out.println();
      bar = null;
    }
  }

  /** {@code 12/40 [#####...............] 30% loss 2.3456 lr 1.20e-04 1,234 tok/s ETA 1:02}. */
  String progressLine(MetricRecord r) {
    StringBuilder s = new StringBuilder();
    long total = Math.max(1, r.maxSteps());
    double fraction = Math.min(1.0, Math.max(0.0, (double) r.step() / total));
    int filled = (int) Math.round(fraction * BAR_CELLS);
    s.append(r.step()).append('/').append(r.maxSteps()).append(" [");
    s.append("#".repeat(filled)).append(".".repeat(BAR_CELLS - filled)).append("] ");
    s.append(String.format(Locale.ROOT, "%3d%%", Math.round(fraction * 100)));
    r.value(MetricRecord.LOSS)
        .ifPresent(v -> s.append(String.format(Locale.ROOT, " loss %.4f", v)));
    r.value(MetricRecord.LEARNING_RATE)
        .ifPresent(v -> s.append(String.format(Locale.ROOT, " lr %.2e", v)));
    r.value(MetricRecord.TOKENS_PER_SECOND)
        .ifPresent(v -> s.append(String.format(Locale.ROOT, " %,.0f tok/s", v)));
    double eta = eta(r);
    if (eta >= 0) {
      s.append(" ETA ").append(duration(eta));
    }
    return s.toString();
  }

  /** The record's ETA, else the pace since the first record extrapolated; -1 when unknown. */
  private double eta(MetricRecord r) {
    var given = r.value(MetricRecord.ETA_SECONDS);
    if (given.isPresent() && Double.isFinite(given.getAsDouble())) {
      return Math.max(0, given.getAsDouble());
    }
    if (first == null || r.step() <= first.step()) {
      return -1;
    }
    double seconds = Duration.between(first.time(), r.time()).toMillis() / 1000.0;
    return seconds / (r.step() - first.step()) * Math.max(0, r.maxSteps() - r.step());
  }

  private static String evalLine(MetricRecord r) {
    StringBuilder s = new StringBuilder("eval step ").append(r.step());
    r.values()
        .forEach(
            (name, value) ->
                s.append(' ')
                    .append(name)
                    .append(' ')
                    .append(String.format(Locale.ROOT, "%.4f", value)));
    return s.toString();
  }

  /** {@code 0:07}, {@code 12:34}, {@code 1:02:03}. */
  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return "?";
    }
    long s = Math.round(seconds);
    long h = s / 3600;
    long m = (s % 3600) / 60;
    return h > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", m, s % 60);
  }

  @Override
  public void close() {
    releaseLine();
    out.flush();
  }
}
