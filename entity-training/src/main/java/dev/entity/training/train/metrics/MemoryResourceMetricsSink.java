// Convention: the metric names in the memory resource are the record's names unchanged (eval
// records already say eval_loss), plus "epoch" for every record, so one SQL query over the metrics
// table reads like the JSONL file.
package dev.entity.training.train.metrics;

import dev.entity.core.resource.Memory;
import java.util.ArrayList;
import java.util.List;

/**
 * Stores every record in the {@code memory} resource's {@code metrics} table (one row per value, in
 * one transaction per record) and every verified checkpoint in its {@code checkpoints} table, under
 * the run id from {@link #begin}, so later stages and users query the run with SQL. The Memory is
 * not closed here: its owner, the pipeline, closes it.
 */
public final class MemoryResourceMetricsSink implements MetricsSink {

  /** The metric name the checkpoints table gets for a checkpoint's validation loss. */
  public static final String CHECKPOINT_METRIC = MetricRecord.EVAL_LOSS;

  private final Memory memory;
  private String runId;

  /** Stores under the run id given to {@link #begin}. */
  public MemoryResourceMetricsSink(Memory memory) {
    this(memory, null);
  }

  /** Stores under {@code runId} (null: the one given to {@link #begin}). */
  public MemoryResourceMetricsSink(Memory memory, String runId) {
    this.memory = memory;
    this.runId = runId;
  }

  @Override
  public void begin(RunStart start) {
    if (runId == null) {
      runId = start.runId();
    }
  }

  @Override
  public void log(MetricRecord record) {
    List<Memory.Metric> rows = new ArrayList<>();
    rows.add(new Memory.Metric(runId(), record.step(), "epoch", record.epoch(), record.time()));
    record
        .values()
        .forEach(
            (name, value) ->
                rows.add(new Memory.Metric(runId(), record.step(), name, value, record.time())));
    memory.addMetrics(rows);
  }

  @Override
  public void checkpoint(CheckpointSaved saved) {
    memory.addCheckpoint(
        new Memory.Checkpoint(
            runId(),
            saved.step(),
            saved.path().toString(),
            saved.evalLoss() == null ? null : CHECKPOINT_METRIC,
            saved.evalLoss() == null ? Double.NaN : saved.evalLoss(),
            java.time.Instant.now()));
  }

  private String runId() {
    if (runId == null) {
      throw new IllegalStateException("no run id: call begin() first or pass one to the sink");
    }
    return runId;
  }
}
