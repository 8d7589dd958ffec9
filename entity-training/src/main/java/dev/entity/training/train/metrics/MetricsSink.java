package dev.entity.training.train.metrics;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the trainer sends what it measures. The trainer calls, in order: {@link #begin} once,
 * {@link #log} for every training and evaluation record, {@link #checkpoint} after each verified
 * checkpoint, {@link #end} once (also when the run fails or is interrupted), then {@link #close}.
 * Implementations are the console progress bar, JSONL, CSV, TensorBoard, the memory resource and
 * the run report; a sink must not throw for a record it cannot use (skip it instead), and sinks are
 * called from the training thread only.
 */
public interface MetricsSink extends AutoCloseable {

  /**
   * What is known when training starts.
   *
   * @param runId the pipeline run's id (or a generated one outside a pipeline)
   * @param outputDir where checkpoints, the final model and metric files go
   * @param config the training config as YAML key to value (values may be null)
   * @param startStep the step training starts from (0, or the resumed checkpoint's step)
   * @param maxSteps optimizer steps in total
   * @param trainBatchesPerEpoch micro-batches of the training set per epoch
   * @param validationBatches batches of the validation set (0: no evaluation)
   * @param trainableParameters parameters being trained
   * @param parameters all parameters of the model
   */
  record RunStart(
      String runId,
      Path outputDir,
      Map<String, Object> config,
      long startStep,
      long maxSteps,
      long trainBatchesPerEpoch,
      long validationBatches,
      long trainableParameters,
      long parameters) {
    public RunStart {
      // null values are meaningful (load_in_4bit: null follows training_method)
      config = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(config));
    }
  }

  /**
   * A checkpoint that was written and verified.
   *
   * @param step the step it holds
   * @param path its folder
   * @param evalLoss the validation loss at that step, or null when none was measured
   * @param deleted checkpoints deleted after it by save_total_limit
   */
  record CheckpointSaved(long step, Path path, Double evalLoss, List<Path> deleted) {
    public CheckpointSaved {
      deleted = List.copyOf(deleted);
    }
  }

  /** How a run ended. */
  enum Outcome {
    COMPLETED,
    EARLY_STOPPED,
    INTERRUPTED,
    DIVERGED,
    FAILED
  }

  /**
   * The end of a run.
   *
   * @param outcome how it ended
   * @param step the last step taken
   * @param bestEvalLoss the best validation loss, or null when none was measured
   * @param bestStep the step of the best validation loss, or -1
   * @param finalModel the final-model folder, or null when none was written
   * @param seconds wall time of this process's training
   * @param message a line for people (the error, or what was done)
   */
  record RunEnd(
      Outcome outcome,
      long step,
      Double bestEvalLoss,
      long bestStep,
      Path finalModel,
      double seconds,
      String message) {}

  /** Called once before the first step. */
  default void begin(RunStart start) {}

  /** Called for every training and evaluation record. */
  void log(MetricRecord record);

  /** Called after a checkpoint was written, verified and old ones pruned. */
  default void checkpoint(CheckpointSaved saved) {}

  /** Called once when the run ends, however it ends. */
  default void end(RunEnd end) {}

  /** Flushes and releases files; never throws. */
  @Override
  default void close() {}

  /** A sink that forwards every call to each of {@code sinks} in order. */
  static MetricsSink of(List<? extends MetricsSink> sinks) {
    List<MetricsSink> all = List.copyOf(sinks);
    return new MetricsSink() {
      @Override
      public void begin(RunStart start) {
        all.forEach(s -> s.begin(start));
      }

      @Override
      public void log(MetricRecord record) {
        all.forEach(s -> s.log(record));
      }

      @Override
      public void checkpoint(CheckpointSaved saved) {
        all.forEach(s -> s.checkpoint(saved));
      }

      @Override
      public void end(RunEnd end) {
        all.forEach(s -> s.end(end));
      }

      @Override
      public void close() {
        all.forEach(MetricsSink::close);
      }
    };
  }
}
