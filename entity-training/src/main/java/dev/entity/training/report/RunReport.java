// Convention: everything is written atomically into the run folder — charts first, then
// run-summary.json, report.md and report.html — so a report never links a file that is not there.
package dev.entity.training.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.entity.core.EntityException;
import dev.entity.core.resource.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the run report into a run folder: {@value #REPORT_MD} and {@value #REPORT_HTML} (the same
 * content; the HTML is self-contained apart from the chart PNGs beside it), the charts ({@link
 * ReportCharts}), and {@value #SUMMARY_JSON}, the summary itself, which the REVIEW stage reads back
 * with {@link #readSummary} to add its evaluation sections and write the report again.
 */
public final class RunReport {

  /** The Markdown report. */
  public static final String REPORT_MD = "report.md";

  /** The HTML report. */
  public static final String REPORT_HTML = "report.html";

  /** The summary the report was made from, as JSON. */
  public static final String SUMMARY_JSON = "run-summary.json";

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  /**
   * What was written.
   *
   * @param markdown {@code report.md}
   * @param html {@code report.html}
   * @param summary {@code run-summary.json}
   * @param charts the chart PNGs (empty when there was nothing to draw or drawing failed)
   * @param chartProblem why charts are missing, or null
   */
  public record Written(
      Path markdown, Path html, Path summary, List<Path> charts, String chartProblem) {}

  private RunReport() {}

  /**
   * Writes the report of {@code summary} into {@code runDir}. A chart that cannot be drawn (no
   * fonts, no AWT) does not stop the report; it says so instead.
   *
   * @throws EntityException when a report file cannot be written
   */
  public static Written write(RunSummary summary, Path runDir) {
    List<ReportCharts.Chart> charts = List.of();
    String chartProblem = null;
    try {
      charts = ReportCharts.write(summary.history(), runDir);
    } catch (IOException | RuntimeException e) {
      chartProblem = e.getMessage();
    }
    ReportDocument document = ReportDocument.build(summary, runDir, charts, chartProblem);
    Path json = runDir.resolve(SUMMARY_JSON);
    Path md = runDir.resolve(REPORT_MD);
    Path html = runDir.resolve(REPORT_HTML);
    Storage.writeAtomically(json, out -> JSON.writeValue(nonClosing(out), summary));
    writeText(md, MarkdownReport.render(document));
    writeText(html, HtmlReport.render(document));
    return new Written(
        md, html, json, charts.stream().map(ReportCharts.Chart::file).toList(), chartProblem);
  }

  /**
   * The summary saved in {@code runDir} by {@link #write}.
   *
   * @throws EntityException when it is missing or not a run summary
   */
  public static RunSummary readSummary(Path runDir) {
    Path json = runDir.resolve(SUMMARY_JSON);
    try {
      return JSON.readValue(Files.readString(json, StandardCharsets.UTF_8), RunSummary.class);
    } catch (IOException e) {
      throw new EntityException(
          "cannot read the run summary "
              + json
              + ": "
              + e.getMessage()
              + "; run training into this folder first, or pass the right run folder",
          e);
    }
  }

  private static void writeText(Path file, String text) {
    Storage.writeAtomically(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static java.io.OutputStream nonClosing(java.io.OutputStream out) {
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }
}
