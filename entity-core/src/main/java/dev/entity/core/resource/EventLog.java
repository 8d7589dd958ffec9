// Convention: the JSON-lines file is the record of the run; the SLF4J line is for people watching,
// so it carries the fields as key=value text after the message.
package dev.entity.core.resource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.entity.core.EntityException;
import dev.entity.core.PluginLog;
import dev.entity.core.Stage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code logging} resource: structured events to SLF4J (the console) and, one JSON object per
 * line, to a file in the run folder. Each line holds {@code time} (ISO-8601 UTC), {@code level},
 * {@code plugin}, {@code stage}, {@code message} and {@code fields}; plugin and stage are null for
 * the executor's own events. Safe to use from several threads.
 */
public final class EventLog implements Resource {

  /** The file name of the event log inside the run folder. */
  public static final String FILE_NAME = "events.jsonl";

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
          .build();

  private final Path file;
  private final BufferedWriter writer;
  private final Clock clock;
  private boolean closed;

  private EventLog(Path file, BufferedWriter writer, Clock clock) {
    this.file = file;
    this.writer = writer;
    this.clock = clock;
  }

  /**
   * An event log appending to {@code file}, created with its folder if missing.
   *
   * @throws EntityException when the file cannot be opened
   */
  public static EventLog open(Path file) {
    return open(file, Clock.systemUTC());
  }

  /** Like {@link #open(Path)} with a clock for the event times. */
  public static EventLog open(Path file, Clock clock) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      BufferedWriter writer =
          Files.newBufferedWriter(
              file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      return new EventLog(file, writer, clock);
    } catch (IOException e) {
      throw new EntityException("cannot open the event log " + file + ": " + e, e);
    }
  }

  /** The JSON-lines file. */
  public Path file() {
    return file;
  }

  /**
   * Records one event. Field values are written as JSON (records, lists and maps nest); a value
   * that cannot be written as JSON is written as its {@code toString()}.
   */
  public void event(
      PluginLog.Level level, String plugin, Stage stage, String message, Map<String, ?> fields) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("time", clock.instant().toString());
    line.put("level", level.name());
    line.put("plugin", plugin);
    line.put("stage", stage == null ? null : stage.name());
    line.put("message", message);
    line.put("fields", jsonSafe(fields));
    String json;
    try {
      json = JSON.writeValueAsString(line);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write event as JSON", e);
    }
    console(level, plugin, stage, message, fields);
    synchronized (this) {
      if (closed) {
        return;
      }
      try {
        writer.write(json);
        writer.newLine();
        writer.flush();
      } catch (IOException e) {
        throw new EntityException("cannot write the event log " + file + ": " + e, e);
      }
    }
  }

  /** A {@link PluginLog} writing events for {@code plugin} in {@code stage}. */
  public PluginLog forPlugin(String plugin, Stage stage) {
    return (level, message, fields) -> event(level, plugin, stage, message, fields);
  }

  private static Map<String, Object> jsonSafe(Map<String, ?> fields) {
    Map<String, Object> safe = new LinkedHashMap<>();
    if (fields == null) {
      return safe;
    }
    fields.forEach(
        (key, value) -> {
          try {
            safe.put(key, JSON.valueToTree(value));
          } catch (IllegalArgumentException e) {
            safe.put(key, String.valueOf(value));
          }
        });
    return safe;
  }

  private static void console(
      PluginLog.Level level, String plugin, Stage stage, String message, Map<String, ?> fields) {
    Logger logger = LoggerFactory.getLogger(plugin == null ? "entity" : "entity." + plugin);
    StringBuilder text = new StringBuilder();
    if (stage != null) {
      text.append('[').append(stage.yamlName()).append("] ");
    }
    text.append(message);
    if (fields != null) {
      fields.forEach((key, value) -> text.append(' ').append(key).append('=').append(value));
    }
    String line = text.toString();
    switch (level) {
      case DEBUG -> logger.debug(line);
      case INFO -> logger.info(line);
      case WARN -> logger.warn(line);
      case ERROR -> logger.error(line);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      writer.close();
    } catch (IOException e) {
      LoggerFactory.getLogger("entity")
          .warn("cannot close the event log {}: {}", file, e.toString());
    }
  }
}
