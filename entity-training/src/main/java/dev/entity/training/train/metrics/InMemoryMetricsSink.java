package dev.entity.training.train.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every call in lists, for tests and for callers that read the history afterwards (the
 * trainer's summary). Not thread-safe; the trainer calls sinks from one thread.
 */
public final class InMemoryMetricsSink implements MetricsSink {

  private RunStart start;
  private final List<MetricRecord> records = new ArrayList<>();
  private final List<CheckpointSaved> checkpoints = new ArrayList<>();
  private RunEnd end;

  @Override
  public void begin(RunStart start) {
    this.start = start;
  }

  @Override
  public void log(MetricRecord record) {
    records.add(record);
  }

  @Override
  public void checkpoint(CheckpointSaved saved) {
    checkpoints.add(saved);
  }

  @Override
  public void end(RunEnd end) {
    this.end = end;
  }

  /** The start of the run, or null before {@link #begin}. */
  public RunStart start() {
    return start;
  }

  public List<MetricRecord> records() {
    return List.copyOf(records);
  }

  /** The records of one kind, in order. */
  public List<MetricRecord> records(MetricRecord.Kind kind) {
    return records.stream().filter(r -> r.kind() == kind).toList();
  }

  public List<CheckpointSaved> checkpoints() {
    return List.copyOf(checkpoints);
  }

  /** The end of the run, or null before {@link #end}. */
  public RunEnd end() {
    return end;
  }
}
