// Convention: charts are drawn off-screen into PNG bytes and written atomically; a point whose
// value is NaN or infinite (a diverged step) is left out rather than drawn at the edge of the plot.
package dev.entity.training.report;

import dev.entity.core.resource.Storage;
import dev.entity.training.train.metrics.MetricRecord;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the curves of the run report as PNG files with XChart: training and validation loss against
 * step on one chart, the learning rate against step on another. A chart with no finite point is not
 * drawn. Works without a display (AWT headless).
 */
public final class ReportCharts {

  /** The loss chart's file name in the run folder. */
  public static final String LOSS_CHART = "loss.png";

  /** The learning-rate chart's file name in the run folder. */
  public static final String LEARNING_RATE_CHART = "learning_rate.png";

  /** Width of every chart, in pixels. */
  public static final int WIDTH = 800;

  /** Height of every chart, in pixels. */
  public static final int HEIGHT = 450;

  private static final int MARKERS_UP_TO = 40;

  /**
   * A chart that was written.
   *
   * @param title what it shows
   * @param file the PNG file
   */
  public record Chart(String title, Path file) {}

  private ReportCharts() {}

  /**
   * Writes the charts that have data into {@code folder} and returns them, loss first.
   *
   * @throws IOException when a chart cannot be drawn or written
   */
  public static List<Chart> write(List<MetricRecord> history, Path folder) throws IOException {
    List<Chart> charts = new ArrayList<>();
    Series train = series(history, MetricRecord.Kind.TRAIN, MetricRecord.LOSS, "training loss");
    Series eval =
        series(history, MetricRecord.Kind.EVAL, MetricRecord.EVAL_LOSS, "validation loss");
    if (!train.isEmpty() || !eval.isEmpty()) {
      charts.add(draw("Loss", "loss", "0.0##", List.of(train, eval), folder.resolve(LOSS_CHART)));
    }
    Series lr =
        series(history, MetricRecord.Kind.TRAIN, MetricRecord.LEARNING_RATE, "learning rate");
    if (!lr.isEmpty()) {
      // XChart's ticks fail on tiny values (1e-4: a label per point), so rates are drawn in units
      // of a power of ten and the axis title names the unit.
      double max = 0;
      for (double v : lr.values()) {
        max = Math.max(max, Math.abs(v));
      }
      int exponent = max > 0 ? (int) Math.floor(Math.log10(max)) : 0;
      String yTitle = "learning rate";
      if (exponent < -1) {
        double unit = Math.pow(10, exponent);
        double[] scaled = new double[lr.values().length];
        for (int i = 0; i < scaled.length; i++) {
          scaled[i] = lr.values()[i] / unit;
        }
        lr = new Series(lr.name(), lr.steps(), scaled);
        yTitle = "learning rate (x 1e" + exponent + ")";
      }
      charts.add(
          draw("Learning rate", yTitle, "0.0##", List.of(lr), folder.resolve(LEARNING_RATE_CHART)));
    }
    return charts;
  }

  private record Series(String name, double[] steps, double[] values) {
    boolean isEmpty() {
      return steps.length == 0;
    }
  }

  private static Series series(
      List<MetricRecord> history, MetricRecord.Kind kind, String metric, String name) {
    List<double[]> points = new ArrayList<>();
    for (MetricRecord r : history) {
      if (r.kind() != kind) {
        continue;
      }
      r.value(metric)
          .ifPresent(
              v -> {
                if (Double.isFinite(v)) {
                  points.add(new double[] {r.step(), v});
                }
              });
    }
    double[] x = new double[points.size()];
    double[] y = new double[points.size()];
    for (int i = 0; i < points.size(); i++) {
      x[i] = points.get(i)[0];
      y[i] = points.get(i)[1];
    }
    return new Series(name, x, y);
  }

  private static Chart draw(
      String title, String yTitle, String yPattern, List<Series> series, Path file)
      throws IOException {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle("step")
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setLegendVisible(series.size() > 1);
    // Explicit patterns: XChart's automatic ones print every digit of tiny values (1e-4 rates).
    chart.getStyler().setXAxisDecimalPattern("#,##0");
    chart.getStyler().setYAxisDecimalPattern(yPattern);
    for (Series s : series) {
      if (!s.isEmpty()) {
        XYSeries drawn = chart.addSeries(s.name(), s.steps(), s.values());
        if (s.steps().length > MARKERS_UP_TO) {
          drawn.setMarker(SeriesMarkers.NONE); // a line reads better than hundreds of dots
        }
      }
    }
    byte[] png;
    try {
      png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (RuntimeException | LinkageError | java.awt.AWTError e) {
      // No fonts or no AWT on this machine: the report goes on without the picture.
      throw new IOException("cannot draw the chart '" + title + "': " + e, e);
    }
    Storage.writeAtomically(file, out -> out.write(png));
    return new Chart(title, file);
  }
}
