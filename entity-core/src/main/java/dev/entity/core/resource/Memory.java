// Convention: one DuckDB connection per Memory, used under this object's lock; times are stored as
// TIMESTAMPTZ in UTC and values of the key/value store as JSON text.
package dev.entity.core.resource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.entity.core.EntityException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code memory} resource: an embedded DuckDB database, in memory by default or in a file that
 * persists across runs. It holds a key/value store with JSON values ({@link #put}/{@link #get},
 * what {@code remember}/{@code recall} use) and a small schema that later stages write to and users
 * query with SQL:
 *
 * <pre>
 * runs(run_id, workflow, started, finished, status, message)
 * metrics(run_id, step, name, value, time)
 * checkpoints(run_id, step, path, metric_name, metric_value, time)
 * evaluations(run_id, step, name, value, verdict, time)
 * kv(key, value)
 * </pre>
 */
public final class Memory implements Resource {

  /**
   * A row of {@code runs}; {@code finished}, {@code status} and {@code message} are null while
   * running.
   */
  public record Run(
      String runId,
      String workflow,
      Instant started,
      Instant finished,
      String status,
      String message) {}

  /** A row of {@code metrics}: one measured value at a training step, e.g. {@code train_loss}. */
  public record Metric(String runId, long step, String name, double value, Instant time) {}

  /**
   * A row of {@code checkpoints}; {@code metricName} is null and {@code metricValue} NaN when the
   * checkpoint was saved without a metric.
   */
  public record Checkpoint(
      String runId, long step, String path, String metricName, double metricValue, Instant time) {}

  /** Whether an evaluation result passed its threshold. */
  public enum Verdict {
    /** Met its threshold. */
    PASS,
    /** Missed its threshold. */
    FAIL,
    /** Had no threshold. */
    NONE
  }

  /** A row of {@code evaluations}: one metric of an evaluation, e.g. {@code perplexity}. */
  public record Evaluation(
      String runId, long step, String name, double value, Verdict verdict, Instant time) {}

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
          .build();

  private static final Pattern READ_ONLY_START =
      Pattern.compile(
          "^\\s*(select|with|from|values|describe|show|summarize|table)\\b",
          Pattern.CASE_INSENSITIVE);

  private static final String SCHEMA =
      """
      CREATE TABLE IF NOT EXISTS kv (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
      CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR PRIMARY KEY, workflow VARCHAR,
        started TIMESTAMPTZ NOT NULL, finished TIMESTAMPTZ, status VARCHAR, message VARCHAR);
      CREATE TABLE IF NOT EXISTS metrics (run_id VARCHAR NOT NULL, step BIGINT NOT NULL,
        name VARCHAR NOT NULL, value DOUBLE, time TIMESTAMPTZ NOT NULL);
      CREATE TABLE IF NOT EXISTS checkpoints (run_id VARCHAR NOT NULL, step BIGINT NOT NULL,
        path VARCHAR NOT NULL, metric_name VARCHAR, metric_value DOUBLE, time TIMESTAMPTZ NOT NULL);
      CREATE TABLE IF NOT EXISTS evaluations (run_id VARCHAR NOT NULL, step BIGINT NOT NULL,
        name VARCHAR NOT NULL, value DOUBLE, verdict VARCHAR NOT NULL, time TIMESTAMPTZ NOT NULL);
      """;

  private final Connection connection;
  private final String location;

  private Memory(Connection connection, String location) {
    this.connection = connection;
    this.location = location;
  }

  /** A fresh database in memory; it is gone when closed. */
  public static Memory inMemory() {
    return open("jdbc:duckdb:", "memory");
  }

  /**
   * The database in {@code file}, created with its folder if missing.
   *
   * @throws EntityException when the file cannot be opened (e.g. another process holds it)
   */
  public static Memory file(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    try {
      Files.createDirectories(absolute.getParent());
    } catch (java.io.IOException e) {
      throw new EntityException(
          "cannot create the folder of memory file " + absolute + ": " + e, e);
    }
    return open("jdbc:duckdb:" + absolute, absolute.toString());
  }

  private static Memory open(String url, String location) {
    try {
      Connection connection = DriverManager.getConnection(url);
      try (Statement statement = connection.createStatement()) {
        for (String sql : SCHEMA.split(";")) {
          if (!sql.isBlank()) {
            statement.execute(sql);
          }
        }
      } catch (SQLException e) {
        connection.close();
        throw e;
      }
      return new Memory(connection, location);
    } catch (SQLException e) {
      throw new EntityException(
          "cannot open the memory database "
              + location
              + ": "
              + e.getMessage()
              + "; check the path, and that no other run is using the file",
          e);
    }
  }

  /** Where the database lives: a file path, or {@code memory}. */
  public String location() {
    return location;
  }

  /** Stores {@code value} as JSON under {@code key}, replacing any previous value. */
  public synchronized void put(String key, Object value) {
    String json;
    try {
      json = JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot store the value of '" + key + "' as JSON: " + e.getOriginalMessage(), e);
    }
    update("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", key, json);
  }

  /**
   * The value under {@code key} read from JSON as {@code type}; empty when absent.
   *
   * @throws EntityException when the stored JSON does not fit {@code type}
   */
  public synchronized <T> Optional<T> get(String key, Class<T> type) {
    List<Map<String, Object>> rows = select("SELECT value FROM kv WHERE key = ?", key);
    if (rows.isEmpty()) {
      return Optional.empty();
    }
    String json = (String) rows.getFirst().get("value");
    try {
      return Optional.ofNullable(JSON.readValue(json, type));
    } catch (JsonProcessingException e) {
      throw new EntityException(
          "memory value '"
              + key
              + "' is not a "
              + type.getSimpleName()
              + ": "
              + e.getOriginalMessage(),
          e);
    }
  }

  /** Removes {@code key}; returns whether it was there. */
  public synchronized boolean remove(String key) {
    return update("DELETE FROM kv WHERE key = ?", key) > 0;
  }

  /** All keys, sorted. */
  public synchronized List<String> keys() {
    return select("SELECT key FROM kv ORDER BY key").stream()
        .map(row -> (String) row.get("key"))
        .toList();
  }

  /** Records the start of a run. */
  public synchronized void startRun(String runId, String workflow, Instant started) {
    update(
        "INSERT INTO runs (run_id, workflow, started) VALUES (?, ?, ?)",
        runId,
        workflow,
        utc(started));
  }

  /** Records the end of a run with its status (e.g. {@code completed}, {@code failed}). */
  public synchronized void finishRun(
      String runId, String status, String message, Instant finished) {
    update(
        "UPDATE runs SET finished = ?, status = ?, message = ? WHERE run_id = ?",
        utc(finished),
        status,
        message,
        runId);
  }

  /** The run with this id. */
  public synchronized Optional<Run> run(String runId) {
    return select("SELECT * FROM runs WHERE run_id = ?", runId).stream()
        .map(Memory::toRun)
        .findFirst();
  }

  /** Every recorded run, oldest first. */
  public synchronized List<Run> runs() {
    return select("SELECT * FROM runs ORDER BY started, run_id").stream()
        .map(Memory::toRun)
        .toList();
  }

  private static Run toRun(Map<String, Object> row) {
    return new Run(
        (String) row.get("run_id"),
        (String) row.get("workflow"),
        instant(row.get("started")),
        instant(row.get("finished")),
        (String) row.get("status"),
        (String) row.get("message"));
  }

  /** Appends a metric row. */
  public synchronized void addMetric(Metric metric) {
    update(
        "INSERT INTO metrics VALUES (?, ?, ?, ?, ?)",
        metric.runId(),
        metric.step(),
        metric.name(),
        metric.value(),
        utc(metric.time()));
  }

  /** Appends metric rows in one transaction, e.g. everything logged at one step. */
  public synchronized void addMetrics(List<Metric> metrics) {
    try {
      connection.setAutoCommit(false);
      try (PreparedStatement statement = prepare("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)")) {
        for (Metric metric : metrics) {
          statement.setObject(1, metric.runId());
          statement.setObject(2, metric.step());
          statement.setObject(3, metric.name());
          statement.setObject(4, metric.value());
          statement.setObject(5, utc(metric.time()));
          statement.addBatch();
        }
        statement.executeBatch();
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new EntityException("memory database " + location + ": " + e.getMessage(), e);
    }
  }

  /** The metrics of a run, by step then name. */
  public synchronized List<Metric> metrics(String runId) {
    return select("SELECT * FROM metrics WHERE run_id = ? ORDER BY step, name", runId).stream()
        .map(
            row ->
                new Metric(
                    (String) row.get("run_id"),
                    ((Number) row.get("step")).longValue(),
                    (String) row.get("name"),
                    number(row.get("value")),
                    instant(row.get("time"))))
        .toList();
  }

  /** Appends a checkpoint row. */
  public synchronized void addCheckpoint(Checkpoint checkpoint) {
    update(
        "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)",
        checkpoint.runId(),
        checkpoint.step(),
        checkpoint.path(),
        checkpoint.metricName(),
        Double.isNaN(checkpoint.metricValue()) ? null : checkpoint.metricValue(),
        utc(checkpoint.time()));
  }

  /** The checkpoints of a run, by step. */
  public synchronized List<Checkpoint> checkpoints(String runId) {
    return select("SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step", runId).stream()
        .map(
            row ->
                new Checkpoint(
                    (String) row.get("run_id"),
                    ((Number) row.get("step")).longValue(),
                    (String) row.get("path"),
                    (String) row.get("metric_name"),
                    number(row.get("metric_value")),
                    instant(row.get("time"))))
        .toList();
  }

  /** Appends an evaluation row. */
  public synchronized void addEvaluation(Evaluation evaluation) {
    update(
        "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?)",
        evaluation.runId(),
        evaluation.step(),
        evaluation.name(),
        evaluation.value(),
        evaluation.verdict().name(),
        utc(evaluation.time()));
  }

  /** The evaluations of a run, by step then name. */
  public synchronized List<Evaluation> evaluations(String runId) {
    return select("SELECT * FROM evaluations WHERE run_id = ? ORDER BY step, name", runId).stream()
        .map(
            row ->
                new Evaluation(
                    (String) row.get("run_id"),
                    ((Number) row.get("step")).longValue(),
                    (String) row.get("name"),
                    number(row.get("value")),
                    Verdict.valueOf((String) row.get("verdict")),
                    instant(row.get("time"))))
        .toList();
  }

  /**
   * Runs one read-only SQL query and returns its rows as column-name-to-value maps. The statement
   * must be a query (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, TABLE) and runs in a
   * transaction that is rolled back, so it changes nothing.
   *
   * @throws EntityException when the SQL is not a single query or fails
   */
  public synchronized List<Map<String, Object>> query(String sql, Object... parameters) {
    if (!READ_ONLY_START.matcher(sql).find()) {
      throw new EntityException(
          "only read-only queries are allowed (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW,"
              + " SUMMARIZE, TABLE); got: "
              + sql.strip().lines().findFirst().orElse(""));
    }
    try {
      connection.setAutoCommit(false);
      try {
        return rows(sql, parameters);
      } finally {
        connection.rollback();
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new EntityException("query failed: " + e.getMessage(), e);
    }
  }

  private int update(String sql, Object... parameters) {
    try (PreparedStatement statement = prepare(sql, parameters)) {
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw new EntityException("memory database " + location + ": " + e.getMessage(), e);
    }
  }

  private List<Map<String, Object>> select(String sql, Object... parameters) {
    try {
      return rows(sql, parameters);
    } catch (SQLException e) {
      throw new EntityException("memory database " + location + ": " + e.getMessage(), e);
    }
  }

  private List<Map<String, Object>> rows(String sql, Object... parameters) throws SQLException {
    try (PreparedStatement statement = prepare(sql, parameters);
        ResultSet rows = statement.executeQuery()) {
      ResultSetMetaData meta = rows.getMetaData();
      List<Map<String, Object>> result = new ArrayList<>();
      while (rows.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          row.put(meta.getColumnLabel(i).toLowerCase(Locale.ROOT), rows.getObject(i));
        }
        result.add(row);
      }
      return result;
    }
  }

  private PreparedStatement prepare(String sql, Object... parameters) throws SQLException {
    if (connection.isClosed()) {
      throw new IllegalStateException("memory " + location + " is closed");
    }
    PreparedStatement statement = connection.prepareStatement(sql);
    for (int i = 0; i < parameters.length; i++) {
      statement.setObject(i + 1, parameters[i]);
    }
    return statement;
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(Object value) {
    return switch (value) {
      case null -> null;
      case OffsetDateTime time -> time.toInstant();
      case java.sql.Timestamp time -> time.toInstant();
      case java.time.LocalDateTime time -> time.toInstant(ZoneOffset.UTC);
      default -> throw new IllegalStateException("not a time: " + value.getClass());
    };
  }

  private static double number(Object value) {
    return value == null ? Double.NaN : ((Number) value).doubleValue();
  }

  @Override
  public synchronized void close() {
    try {
      if (!connection.isClosed()) {
        connection.close();
      }
    } catch (SQLException e) {
      throw new EntityException("cannot close the memory database " + location + ": " + e, e);
    }
  }
}
