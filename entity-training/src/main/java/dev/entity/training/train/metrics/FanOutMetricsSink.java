// Convention: a sink that throws once is reported once and then left out of every later call
// except close(), so a full disk under one file cannot stop training or flood the log.
package dev.entity.training.train.metrics;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Sends every call to each of its sinks in order and survives any of them failing: the first
 * exception of a sink is reported through the warning consumer (naming the sink and the call) and
 * that sink is dropped from later calls. Training goes on with the others. {@link #close} closes
 * every sink, failed or not.
 */
public final class FanOutMetricsSink implements MetricsSink {

  private final List<MetricsSink> sinks;
  private final Consumer<String> warnings;
  private final Set<MetricsSink> failed = new LinkedHashSet<>();

  /**
   * @param sinks the sinks, called in this order
   * @param warnings where the one line about a failing sink goes (e.g. the plugin log)
   */
  public FanOutMetricsSink(List<? extends MetricsSink> sinks, Consumer<String> warnings) {
    this.sinks = List.copyOf(sinks);
    this.warnings = warnings;
  }

  /** The sinks, in call order. */
  public List<MetricsSink> sinks() {
    return sinks;
  }

  /** The sinks that failed and are no longer called. */
  public List<MetricsSink> failed() {
    return new ArrayList<>(failed);
  }

  /** The first sink of {@code type}, if any: e.g. the progress bar, to print through it. */
  public <T extends MetricsSink> java.util.Optional<T> find(Class<T> type) {
    return sinks.stream().filter(type::isInstance).map(type::cast).findFirst();
  }

  @Override
  public void begin(RunStart start) {
    each("begin", s -> s.begin(start));
  }

  @Override
  public void log(MetricRecord record) {
    each("log step " + record.step(), s -> s.log(record));
  }

  @Override
  public void checkpoint(CheckpointSaved saved) {
    each("checkpoint " + saved.step(), s -> s.checkpoint(saved));
  }

  @Override
  public void end(RunEnd end) {
    each("end", s -> s.end(end));
  }

  private void each(String call, Consumer<MetricsSink> action) {
    for (MetricsSink sink : sinks) {
      if (failed.contains(sink)) {
        continue;
      }
      try {
        action.accept(sink);
      } catch (RuntimeException e) {
        failed.add(sink);
        warnings.accept(
            "metrics sink "
                + sink.getClass().getSimpleName()
                + " failed at "
                + call
                + " and is switched off for the rest of the run: "
                + e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    for (MetricsSink sink : sinks) {
      try {
        sink.close();
      } catch (RuntimeException e) {
        if (failed.add(sink)) {
          warnings.accept(
              "metrics sink " + sink.getClass().getSimpleName() + " failed to close: " + e);
        }
      }
    }
  }
}
