// Convention: one JSON object per line, with the fixed fields kind, step, max_steps, epoch and time
// (ISO-8601 UTC) first and then the record's values; a non-finite value is written as the string
// "NaN", "Infinity" or "-Infinity" (JSON has no such numbers; pandas and Jackson read them back).
package dev.entity.training.train.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.core.resource.Storage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Appends every record to a JSONL file (usually {@code <run>/metrics.jsonl}), one line each,
 * flushed at once so a killed run loses at most the record being written. A fresh run replaces the
 * file; a resumed run (start step above 0) keeps the lines up to its start step and drops the rest,
 * which the resumed run is about to log again.
 */
public final class JsonlMetricsSink implements MetricsSink {

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(JsonWriteFeature.WRITE_NAN_AS_STRINGS).build();

  private final Path file;
  private BufferedWriter out;

  public JsonlMetricsSink(Path file) {
    this.file = file;
  }

  /** The file written. */
  public Path file() {
    return file;
  }

  @Override
  public void begin(RunStart start) {
    open(start.startStep());
  }

  @Override
  public void log(MetricRecord record) {
    open(0);
    try {
      out.write(JSON.writeValueAsString(toJson(record)));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write metrics to " + file, e);
    }
  }

  /** The JSON object of one record. */
  static ObjectNode toJson(MetricRecord record) {
    ObjectNode node = JSON.createObjectNode();
    node.put("kind", record.kind().name().toLowerCase(Locale.ROOT));
    node.put("step", record.step());
    node.put("max_steps", record.maxSteps());
    node.put("epoch", record.epoch());
    node.put("time", record.time().toString());
    record.values().forEach(node::put);
    return node;
  }

  /**
   * Reads a file written by this sink back into records, skipping lines that are not complete
   * records (a line cut short when a run was killed).
   */
  public static List<MetricRecord> read(Path file) throws IOException {
    List<MetricRecord> records = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      MetricRecord record = parse(line);
      if (record != null) {
        records.add(record);
      }
    }
    return records;
  }

  private static MetricRecord parse(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      if (node == null || !node.isObject() || !node.path("step").isIntegralNumber()) {
        return null;
      }
      MetricRecord.Kind kind =
          MetricRecord.Kind.valueOf(node.path("kind").asText().toUpperCase(Locale.ROOT));
      Map<String, Double> values = new LinkedHashMap<>();
      node.properties()
          .forEach(
              field -> {
                switch (field.getKey()) {
                  case "kind", "step", "max_steps", "epoch", "time" -> {}
                  default -> values.put(field.getKey(), number(field.getValue()));
                }
              });
      return new MetricRecord(
          kind,
          node.path("step").asLong(),
          node.path("max_steps").asLong(),
          node.path("epoch").asDouble(),
          values,
          Instant.parse(node.path("time").asText()));
    } catch (JsonProcessingException | RuntimeException e) {
      return null;
    }
  }

  private static double number(JsonNode value) {
    return value.isNumber() ? value.asDouble() : Double.parseDouble(value.asText());
  }

  private void open(long startStep) {
    if (out != null) {
      return;
    }
    try {
      if (startStep > 0 && Files.exists(file)) {
        List<MetricRecord> kept = read(file).stream().filter(r -> r.step() <= startStep).toList();
        Storage.writeAtomically(
            file,
            stream -> {
              for (MetricRecord r : kept) {
                stream.write(
                    (JSON.writeValueAsString(toJson(r)) + "\n").getBytes(StandardCharsets.UTF_8));
              }
            });
      } else if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
      }
      out =
          Files.newBufferedWriter(
              file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the metrics file " + file, e);
    }
  }

  @Override
  public void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // close() never throws; every line was flushed when written
      }
    }
  }
}
