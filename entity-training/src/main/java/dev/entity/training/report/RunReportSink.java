// Convention: the report is written at end() and, as a fallback, at close() when end() never came;
// a checkpoint's size is measured when it is announced, and deleted checkpoints leave the list.
package dev.entity.training.report;

import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The metrics sink that writes the run report: it keeps the records and checkpoints it is given
 * and, when the run ends, writes {@code report.md}, {@code report.html}, the charts and {@code
 * run-summary.json} into the run folder with {@link RunReport}. Add it last to the trainer's sinks.
 */
public final class RunReportSink implements MetricsSink {

  private final Path runDir;
  private String datasetSummary;
  private final Map<String, String> extraConfig = new LinkedHashMap<>();
  private RunStart start;
  private Instant started;
  private final List<MetricRecord> history = new ArrayList<>();
  private final List<RunSummary.CheckpointEntry> checkpoints = new ArrayList<>();
  private RunSummary summary;
  private RunReport.Written written;

  /**
   * @param runDir the run folder the report goes into
   * @param datasetSummary the dataset statistics as text (may be empty; see {@link
   *     #datasetSummary(String)})
   */
  public RunReportSink(Path runDir, String datasetSummary) {
    this.runDir = runDir;
    this.datasetSummary = datasetSummary;
  }

  /** Replaces the dataset summary (e.g. once tokenization has counted tokens and truncations). */
  public void datasetSummary(String text) {
    this.datasetSummary = text;
  }

  /** Adds a line to the configuration summary (e.g. the device, the memory estimate). */
  public void addConfig(String key, String value) {
    extraConfig.put(key, value);
  }

  @Override
  public void begin(RunStart start) {
    this.start = start;
    this.started = Instant.now();
  }

  @Override
  public void log(MetricRecord record) {
    history.add(record);
  }

  @Override
  public void checkpoint(CheckpointSaved saved) {
    checkpoints.removeIf(c -> saved.deleted().contains(c.path()) || c.path().equals(saved.path()));
    checkpoints.add(
        new RunSummary.CheckpointEntry(
            saved.path(), saved.step(), saved.evalLoss(), sizeOf(saved.path())));
    checkpoints.sort(java.util.Comparator.comparingLong(RunSummary.CheckpointEntry::step));
  }

  @Override
  public void end(RunEnd end) {
    RunSummary.Status status =
        new RunSummary.Status(
            end.outcome(),
            end.step(),
            start == null ? end.step() : start.maxSteps(),
            end.bestEvalLoss(),
            end.bestStep(),
            end.message());
    writeReport(status, end.finalModel(), end.seconds());
  }

  private void writeReport(RunSummary.Status status, Path finalModel, double seconds) {
    summary =
        new RunSummary(
            start == null ? "run" : start.runId(),
            config(),
            datasetSummary,
            history,
            checkpoints,
            finalModel,
            new RunSummary.Timing(started, Instant.now(), seconds),
            status,
            List.of());
    written = RunReport.write(summary, runDir);
  }

  /** The run's facts first, then the extra lines, then the training config by key. */
  private Map<String, String> config() {
    Map<String, String> config = new LinkedHashMap<>();
    if (start != null) {
      config.put("start step", Long.toString(start.startStep()));
      config.put("max steps", Long.toString(start.maxSteps()));
      config.put("training batches per epoch", Long.toString(start.trainBatchesPerEpoch()));
      config.put("validation batches", Long.toString(start.validationBatches()));
      config.put(
          "trainable parameters",
          String.format(
              java.util.Locale.ROOT,
              "%,d of %,d (%.3f%%)",
              start.trainableParameters(),
              start.parameters(),
              start.parameters() == 0
                  ? 0.0
                  : 100.0 * start.trainableParameters() / start.parameters()));
    }
    config.putAll(extraConfig);
    if (start != null) {
      new TreeMap<>(start.config()).forEach((k, v) -> config.put(k, String.valueOf(v)));
    }
    return config;
  }

  private static long sizeOf(Path folder) {
    try (Stream<Path> files = Files.walk(folder)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              f -> {
                try {
                  return Files.size(f);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The summary of the last report written, or null before the run ended. */
  public RunSummary summary() {
    return summary;
  }

  /** The files of the last report written, or null before the run ended. */
  public RunReport.Written written() {
    return written;
  }

  @Override
  public void close() {
    if (written == null && start != null) {
      try {
        long step = history.isEmpty() ? start.startStep() : history.getLast().step();
        writeReport(
            new RunSummary.Status(
                Outcome.FAILED,
                step,
                start.maxSteps(),
                null,
                -1,
                "the run ended without a summary"),
            null,
            Double.NaN);
      } catch (RuntimeException e) {
        // close() never throws
      }
    }
  }
}
