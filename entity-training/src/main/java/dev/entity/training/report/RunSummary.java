// Convention: paths in a summary are as the trainer gave them (usually inside the run folder); the
// report turns them into links relative to the run folder, and a null field means "not known".
package dev.entity.training.report;

import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the run report shows about one training run: a configuration summary (key/value, in
 * display order), the dataset summary text, the metrics history, the checkpoints kept, timing, the
 * final status, and evaluation sections that a later REVIEW stage may add with {@link
 * #withEvaluations}.
 *
 * @param runId the run's id
 * @param config configuration summary, key to value, in display order
 * @param datasetSummary the dataset statistics as text (may be empty)
 * @param history every training and evaluation record, in order
 * @param checkpoints the checkpoints still on disk, by step
 * @param finalModel the final-model folder, or null when none was written
 * @param timing when the run started and ended
 * @param status how it ended
 * @param evaluations evaluation sections (empty until REVIEW adds them)
 */
public record RunSummary(
    String runId,
    Map<String, String> config,
    String datasetSummary,
    List<MetricRecord> history,
    List<CheckpointEntry> checkpoints,
    Path finalModel,
    Timing timing,
    Status status,
    List<EvaluationSection> evaluations) {

  public RunSummary {
    config = Collections.unmodifiableMap(new LinkedHashMap<>(config));
    datasetSummary = datasetSummary == null ? "" : datasetSummary;
    history = List.copyOf(history);
    checkpoints = List.copyOf(checkpoints);
    evaluations = List.copyOf(evaluations);
  }

  /**
   * A checkpoint folder of the run.
   *
   * @param path its folder
   * @param step the step it holds
   * @param evalLoss validation loss at that step, or null
   * @param sizeBytes bytes of its files
   */
  public record CheckpointEntry(Path path, long step, Double evalLoss, long sizeBytes) {}

  /**
   * When the run ran.
   *
   * @param started when training began in this process
   * @param finished when it ended, or null while running
   * @param trainingSeconds wall time of training in this process
   */
  public record Timing(Instant started, Instant finished, double trainingSeconds) {}

  /**
   * How the run ended.
   *
   * @param outcome completed, early stopped, interrupted, diverged or failed
   * @param step the last step taken
   * @param maxSteps the steps planned
   * @param bestEvalLoss best validation loss, or null
   * @param bestStep its step, or -1
   * @param message a line for people, or null
   */
  public record Status(
      MetricsSink.Outcome outcome,
      long step,
      long maxSteps,
      Double bestEvalLoss,
      long bestStep,
      String message) {}

  /** This summary with {@code sections} in place of its evaluation sections. */
  public RunSummary withEvaluations(List<EvaluationSection> sections) {
    return new RunSummary(
        runId, config, datasetSummary, history, checkpoints, finalModel, timing, status, sections);
  }

  /** The records of one kind, in order. */
  public List<MetricRecord> history(MetricRecord.Kind kind) {
    return history.stream().filter(r -> r.kind() == kind).toList();
  }
}
