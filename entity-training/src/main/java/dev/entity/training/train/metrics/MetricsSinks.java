// Convention: the names of the files in the run folder live here and nowhere else; the report
// links them by these names.
package dev.entity.training.train.metrics;

import dev.entity.core.resource.Memory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The standard set of metrics sinks of a training run and where their files go in the run folder:
 * {@value #METRICS_JSONL}, {@value #METRICS_CSV}, the TensorBoard folder {@value #TENSORBOARD_DIR},
 * the console progress bar and the memory resource, behind one {@link FanOutMetricsSink}.
 */
public final class MetricsSinks {

  /** One JSON object per record. */
  public static final String METRICS_JSONL = "metrics.jsonl";

  /** One CSV row per record. */
  public static final String METRICS_CSV = "metrics.csv";

  /** TensorBoard event files ({@code tensorboard --logdir <run>/tensorboard}). */
  public static final String TENSORBOARD_DIR = "tensorboard";

  private MetricsSinks() {}

  /**
   * Every standard sink for the run folder {@code runDir}, in this order: {@code console} (null:
   * none), JSONL, CSV, TensorBoard, the memory resource (null: none), then {@code extra} (e.g. the
   * run report sink, last so it sees what the others wrote).
   *
   * @param warnings where a failing sink is reported, once
   */
  public static FanOutMetricsSink standard(
      Path runDir,
      ProgressBarMetricsSink console,
      Memory memory,
      Consumer<String> warnings,
      MetricsSink... extra) {
    List<MetricsSink> sinks = new ArrayList<>();
    if (console != null) {
      sinks.add(console);
    }
    sinks.add(new JsonlMetricsSink(runDir.resolve(METRICS_JSONL)));
    sinks.add(new CsvMetricsSink(runDir.resolve(METRICS_CSV)));
    sinks.add(new TensorBoardMetricsSink(runDir.resolve(TENSORBOARD_DIR)));
    if (memory != null) {
      sinks.add(new MemoryResourceMetricsSink(memory));
    }
    sinks.addAll(List.of(extra));
    return new FanOutMetricsSink(sinks, warnings);
  }
}
