// Convention: a report is built once as a list of neutral blocks holding raw, unescaped text; each
// renderer (Markdown, HTML) escapes everything it prints, so no content string ever reaches a file
// unescaped and the two reports cannot drift apart.
package dev.entity.training.report;

import dev.entity.engine.backend.DeviceInfo;
import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSinks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The content of the run report as blocks — headings, paragraphs, key/value lists, tables, links,
 * images, preformatted text — built from a {@link RunSummary} and the run folder, and rendered by
 * {@link MarkdownReport} and {@link HtmlReport}. Long histories are thinned to {@value #MAX_ROWS}
 * evenly spaced rows per table (first and last kept); the full history is in the metrics files.
 */
public record ReportDocument(String title, List<Block> blocks) {

  /** The most rows a metrics table shows. */
  public static final int MAX_ROWS = 200;

  /** A piece of the report. */
  public sealed interface Block {}

  /** A section heading (level 2 or 3). */
  public record Heading(int level, String text) implements Block {}

  /** A paragraph of plain text. */
  public record Paragraph(String text) implements Block {}

  /** Bold key, plain value, one per line. */
  public record Facts(Map<String, String> facts) implements Block {}

  /** A table; every row has the header's length. */
  public record Table(List<String> header, List<List<String>> rows) implements Block {}

  /** A list of links; {@code href} is already a relative, percent-encoded URL. */
  public record Links(List<Link> links) implements Block {}

  /** One link. */
  public record Link(String label, String href) {}

  /** An image file next to the report. */
  public record Image(String alt, String href, int width, int height) implements Block {}

  /** Text shown as it is, in a monospaced block. */
  public record Preformatted(String text) implements Block {}

  public ReportDocument {
    blocks = List.copyOf(blocks);
  }

  /**
   * Builds the report of {@code summary} for the run folder {@code runDir}.
   *
   * @param charts the charts drawn for it
   * @param chartProblem why charts are missing, or null
   */
  public static ReportDocument build(
      RunSummary summary, Path runDir, List<ReportCharts.Chart> charts, String chartProblem) {
    List<Block> b = new ArrayList<>();
    RunSummary.Status status = summary.status();
    b.add(new Facts(overview(summary)));

    List<Link> files = files(summary, runDir, charts);
    if (!files.isEmpty()) {
      b.add(new Heading(2, "Files"));
      b.add(new Links(files));
    }

    b.add(new Heading(2, "Configuration"));
    if (summary.config().isEmpty()) {
      b.add(new Paragraph("No configuration recorded."));
    } else {
      List<List<String>> rows = new ArrayList<>();
      summary.config().forEach((k, v) -> rows.add(List.of(k, v == null ? "" : v)));
      b.add(new Table(List.of("key", "value"), rows));
    }

    b.add(new Heading(2, "Dataset"));
    b.add(
        summary.datasetSummary().isBlank()
            ? new Paragraph("No dataset summary recorded.")
            : new Preformatted(summary.datasetSummary()));

    b.add(new Heading(2, "Curves"));
    for (ReportCharts.Chart chart : charts) {
      b.add(
          new Image(
              chart.title(), href(runDir, chart.file()), ReportCharts.WIDTH, ReportCharts.HEIGHT));
    }
    if (chartProblem != null) {
      b.add(new Paragraph("Charts could not be drawn: " + chartProblem));
    } else if (charts.isEmpty()) {
      b.add(new Paragraph("No curves: no metrics were logged."));
    }

    b.add(new Heading(2, "Training metrics"));
    b.add(metricsTable(summary.history(MetricRecord.Kind.TRAIN), "No training steps were logged."));
    List<MetricRecord> evals = summary.history(MetricRecord.Kind.EVAL);
    if (!evals.isEmpty()) {
      b.add(new Heading(2, "Validation metrics"));
      b.add(metricsTable(evals, ""));
    }
    if (summary.history().size() > 0 && rowsShown(summary) < summary.history().size()) {
      b.add(
          new Paragraph(
              "Long history: tables show evenly spaced rows; every record is in "
                  + MetricsSinks.METRICS_CSV
                  + " and "
                  + MetricsSinks.METRICS_JSONL
                  + "."));
    }

    b.add(new Heading(2, "Checkpoints"));
    if (summary.checkpoints().isEmpty()) {
      b.add(new Paragraph("No checkpoints were kept."));
    } else {
      List<List<String>> rows = new ArrayList<>();
      for (RunSummary.CheckpointEntry c : summary.checkpoints()) {
        rows.add(
            List.of(
                Long.toString(c.step()),
                display(runDir, c.path()),
                c.evalLoss() == null ? "" : format(MetricRecord.EVAL_LOSS, c.evalLoss()),
                DeviceInfo.formatBytes(c.sizeBytes())));
      }
      b.add(new Table(List.of("step", "path", "validation loss", "size"), rows));
    }

    for (EvaluationSection section : summary.evaluations()) {
      b.add(new Heading(2, "Evaluation: " + section.title() + " — " + section.verdict()));
      List<List<String>> rows = new ArrayList<>();
      for (EvaluationSection.MetricRow m : section.metrics()) {
        rows.add(
            List.of(
                m.name(),
                format(m.name(), m.value()),
                m.threshold() == null ? "" : format(m.name(), m.threshold()),
                m.verdict().name()));
      }
      b.add(new Table(List.of("metric", "value", "threshold", "verdict"), rows));
      int n = 1;
      for (EvaluationSection.Sample s : section.samples()) {
        b.add(new Heading(3, "Sample " + n++));
        b.add(new Paragraph("Prompt:"));
        b.add(new Preformatted(s.prompt()));
        b.add(new Paragraph("Output:"));
        b.add(new Preformatted(s.output()));
        if (s.reference() != null) {
          b.add(new Paragraph("Reference:"));
          b.add(new Preformatted(s.reference()));
        }
      }
    }
    String title =
        "Training report: "
            + summary.runId()
            + (status == null
                ? ""
                : " (" + status.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' ') + ")");
    return new ReportDocument(title, b);
  }

  private static int rowsShown(RunSummary summary) {
    return Math.min(MAX_ROWS, summary.history(MetricRecord.Kind.TRAIN).size())
        + Math.min(MAX_ROWS, summary.history(MetricRecord.Kind.EVAL).size());
  }

  private static Map<String, String> overview(RunSummary summary) {
    Map<String, String> facts = new java.util.LinkedHashMap<>();
    facts.put("Run", summary.runId());
    RunSummary.Status s = summary.status();
    if (s == null) {
      facts.put("Status", "running");
    } else {
      facts.put(
          "Status",
          s.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' ')
              + " at step "
              + s.step()
              + " of "
              + s.maxSteps()
              + (s.message() == null || s.message().isBlank() ? "" : ": " + s.message()));
      if (s.bestEvalLoss() != null) {
        facts.put(
            "Best validation loss",
            format(MetricRecord.EVAL_LOSS, s.bestEvalLoss()) + " at step " + s.bestStep());
      }
    }
    RunSummary.Timing t = summary.timing();
    if (t != null) {
      facts.put("Started", t.started() == null ? "" : t.started().toString());
      if (t.finished() != null) {
        facts.put("Finished", t.finished().toString());
      }
      facts.put("Training time", duration(t.trainingSeconds()));
    }
    summary.history(MetricRecord.Kind.TRAIN).stream()
        .reduce((a, b) -> b)
        .flatMap(r -> r.value(MetricRecord.LOSS).stream().boxed().findFirst())
        .ifPresent(v -> facts.put("Last training loss", format(MetricRecord.LOSS, v)));
    return facts;
  }

  private static List<Link> files(
      RunSummary summary, Path runDir, List<ReportCharts.Chart> charts) {
    List<Link> links = new ArrayList<>();
    for (String name :
        List.of(
            MetricsSinks.METRICS_JSONL, MetricsSinks.METRICS_CSV, MetricsSinks.TENSORBOARD_DIR)) {
      Path p = runDir.resolve(name);
      if (Files.exists(p)) {
        links.add(new Link(name + (Files.isDirectory(p) ? "/" : ""), href(runDir, p)));
      }
    }
    for (ReportCharts.Chart chart : charts) {
      links.add(new Link(chart.file().getFileName().toString(), href(runDir, chart.file())));
    }
    if (summary.finalModel() != null) {
      links.add(new Link("final model", href(runDir, summary.finalModel())));
    }
    for (RunSummary.CheckpointEntry c : summary.checkpoints()) {
      links.add(new Link("checkpoint " + c.step(), href(runDir, c.path())));
    }
    return links;
  }

  private static Block metricsTable(List<MetricRecord> records, String whenEmpty) {
    if (records.isEmpty()) {
      return new Paragraph(whenEmpty);
    }
    Set<String> names = new LinkedHashSet<>();
    records.forEach(r -> names.addAll(r.values().keySet()));
    List<String> header = new ArrayList<>(List.of("step", "epoch"));
    header.addAll(names);
    List<List<String>> rows = new ArrayList<>();
    for (MetricRecord r : thin(records)) {
      List<String> row = new ArrayList<>();
      row.add(Long.toString(r.step()));
      row.add(String.format(Locale.ROOT, "%.2f", r.epoch()));
      for (String name : names) {
        row.add(r.values().containsKey(name) ? format(name, r.values().get(name)) : "");
      }
      rows.add(row);
    }
    return new Table(header, rows);
  }

  /** At most MAX_ROWS records, evenly spaced, first and last included. */
  static List<MetricRecord> thin(List<MetricRecord> records) {
    int n = records.size();
    if (n <= MAX_ROWS) {
      return records;
    }
    List<MetricRecord> kept = new ArrayList<>();
    for (int i = 0; i < MAX_ROWS; i++) {
      kept.add(records.get((int) Math.round((double) i * (n - 1) / (MAX_ROWS - 1))));
    }
    return kept;
  }

  /**
   * A value as people read it: bytes in binary units, the learning rate in scientific notation,
   * losses with four decimals, counts as integers.
   */
  static String format(String name, double v) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    if (name.endsWith("_bytes")) {
      return DeviceInfo.formatBytes((long) v);
    }
    if (name.equals(MetricRecord.LEARNING_RATE)) {
      return String.format(Locale.ROOT, "%.3e", v);
    }
    if (name.endsWith("_seconds")) {
      return duration(v);
    }
    boolean measured =
        name.contains("loss") || name.contains("perplexity") || name.contains("norm");
    if (!measured && v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6
        ? String.format(Locale.ROOT, "%.3e", v)
        : String.format(Locale.ROOT, "%.4f", v);
  }

  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return "?";
    }
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
  }

  /** {@code path} relative to the run folder when inside it, else absolute; for display. */
  static String display(Path runDir, Path path) {
    Path abs = path.toAbsolutePath().normalize();
    Path root = runDir.toAbsolutePath().normalize();
    return abs.startsWith(root) ? root.relativize(abs).toString() : abs.toString();
  }

  /**
   * A URL for {@code path} from a report in {@code runDir}: relative when inside the folder, a
   * {@code file:} URL otherwise; every character outside {@code [A-Za-z0-9-._~/]} is
   * percent-encoded, so a file name can never become a scheme, a query or markup.
   */
  static String href(Path runDir, Path path) {
    Path abs = path.toAbsolutePath().normalize();
    Path root = runDir.toAbsolutePath().normalize();
    if (abs.startsWith(root)) {
      String relative = root.relativize(abs).toString().replace(java.io.File.separatorChar, '/');
      return relative.isEmpty() ? "." : encode(relative);
    }
    return "file://" + encode(abs.toString().replace(java.io.File.separatorChar, '/'));
  }

  private static String encode(String path) {
    StringBuilder s = new StringBuilder();
    for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xFF);
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || "-._~/".indexOf(c) >= 0) {
        s.append(c);
      } else {
        s.append('%').append(String.format(Locale.ROOT, "%02X", b & 0xFF));
      }
    }
    return s.toString();
  }
}
