// Convention: tags follow the Hugging Face Trainer's TensorBoard names — "train/<name>" for a
// training record, "eval/<name without eval_>" for an evaluation record — so curves from both tools
// overlay in one TensorBoard.
package dev.entity.training.train.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes every record as TensorBoard scalars into a new event file in one folder (usually {@code
 * <run>/tensorboard}); a resumed run starts a new file beside the old ones, as TensorFlow does. The
 * file is created at {@link #begin} or at the first record.
 */
public final class TensorBoardMetricsSink implements MetricsSink {

  private final Path folder;
  private final String host;
  private TensorBoardEventWriter writer;

  /** Writes into {@code folder}, naming the file after this machine's host name. */
  public TensorBoardMetricsSink(Path folder) {
    this(folder, localHost());
  }

  /** Writes into {@code folder}, naming the file after {@code host}. */
  public TensorBoardMetricsSink(Path folder, String host) {
    this.folder = folder;
    this.host = host;
  }

  private static String localHost() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      return "localhost";
    }
  }

  /** The event file, or null before the first call. */
  public Path file() {
    return writer == null ? null : writer.file();
  }

  @Override
  public void begin(RunStart start) {
    open(System.currentTimeMillis() / 1000.0);
  }

  @Override
  public void log(MetricRecord record) {
    double wallTime = record.time().toEpochMilli() / 1000.0;
    open(wallTime);
    try {
      writer.writeScalars(record.step(), wallTime, tags(record));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write TensorBoard events to " + writer.file(), e);
    }
  }

  /** The record's values under their TensorBoard tags, in the record's order. */
  static Map<String, Double> tags(MetricRecord record) {
    Map<String, Double> tags = new LinkedHashMap<>();
    boolean eval = record.kind() == MetricRecord.Kind.EVAL;
    record
        .values()
        .forEach(
            (name, value) -> {
              String tag =
                  eval
                      ? "eval/" + (name.startsWith("eval_") ? name.substring(5) : name)
                      : "train/" + name;
              tags.put(tag, value);
            });
    if (!eval) {
      tags.put("train/epoch", record.epoch());
    }
    return tags;
  }

  private void open(double wallTime) {
    if (writer != null) {
      return;
    }
    try {
      writer = TensorBoardEventWriter.create(folder, wallTime, host);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a TensorBoard event file in " + folder, e);
    }
  }

  @Override
  public void close() {
    if (writer != null) {
      try {
        writer.close();
      } catch (IOException e) {
        // close() never throws; the events were flushed as they were written
      }
    }
  }
}
