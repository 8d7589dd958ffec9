package dev.entity.core;

import java.util.Map;

/**
 * A structured log bound to one plugin and stage. Each event has a message and key/value fields,
 * given either as a map or as alternating keys and values: {@code log.info("loaded", "records",
 * 100, "format", "alpaca")}. Events go to SLF4J and to the run folder's {@code events.jsonl}.
 */
public interface PluginLog {

  /** The severity of an event. */
  enum Level {
    DEBUG,
    INFO,
    WARN,
    ERROR
  }

  /** Logs one event with its fields. */
  void event(Level level, String message, Map<String, ?> fields);

  /** Logs at DEBUG; {@code keyValues} alternate key (a string) and value. */
  default void debug(String message, Object... keyValues) {
    event(Level.DEBUG, message, PluginLogFields.of(keyValues));
  }

  /** Logs at INFO; {@code keyValues} alternate key (a string) and value. */
  default void info(String message, Object... keyValues) {
    event(Level.INFO, message, PluginLogFields.of(keyValues));
  }

  /** Logs at WARN; {@code keyValues} alternate key (a string) and value. */
  default void warn(String message, Object... keyValues) {
    event(Level.WARN, message, PluginLogFields.of(keyValues));
  }

  /** Logs at ERROR; {@code keyValues} alternate key (a string) and value. */
  default void error(String message, Object... keyValues) {
    event(Level.ERROR, message, PluginLogFields.of(keyValues));
  }
}
