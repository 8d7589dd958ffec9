package dev.entity.core.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryTest {

  record DatasetInfo(String path, long records, List<String> splits) {}

  record Stamp(Instant at, java.time.Duration took) {}

  private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.123Z");

  @Test
  void putGetRoundTripsRecordsAsJson() {
    try (Memory memory = Memory.inMemory()) {
      memory.put("dataset", new DatasetInfo("data/a.jsonl", 100L, List.of("train", "validation")));
      memory.put("count", 3);
      memory.put("stamp", new Stamp(T0, java.time.Duration.ofSeconds(90)));
      assertThat(memory.get("stamp", Stamp.class))
          .contains(new Stamp(T0, java.time.Duration.ofSeconds(90)));
      assertThat(memory.query("SELECT value FROM kv WHERE key = 'stamp'").getFirst().get("value"))
          .isEqualTo("{\"at\":\"2026-01-02T03:04:05.123Z\",\"took\":\"PT1M30S\"}");
      assertThat(memory.get("dataset", DatasetInfo.class))
          .contains(new DatasetInfo("data/a.jsonl", 100L, List.of("train", "validation")));
      assertThat(memory.get("count", Integer.class)).contains(3);
      assertThat(memory.get("missing", String.class)).isEmpty();
      memory.put("count", 4);
      assertThat(memory.get("count", Integer.class)).contains(4);
      assertThat(memory.keys()).containsExactly("count", "dataset", "stamp");
      assertThat(memory.remove("count")).isTrue();
      assertThat(memory.remove("count")).isFalse();
      assertThat(memory.query("SELECT value FROM kv WHERE key = ?", "dataset"))
          .singleElement()
          .satisfies(row -> assertThat((String) row.get("value")).contains("\"records\":100"));
    }
  }

  @Test
  void recallWithTheWrongTypeNamesTheKey() {
    try (Memory memory = Memory.inMemory()) {
      memory.put("dataset", "just text");
      assertThatThrownBy(() -> memory.get("dataset", DatasetInfo.class))
          .isInstanceOf(EntityException.class)
          .hasMessageContaining("memory value 'dataset' is not a DatasetInfo");
    }
  }

  @Test
  void fileBackedMemoryPersistsAcrossOpens(@TempDir Path folder) {
    Path file = folder.resolve("project/memory.duckdb");
    try (Memory memory = Memory.file(file)) {
      memory.put("best", Map.of("loss", 1.25));
      memory.startRun("r1", "train", T0);
      memory.addMetric(new Memory.Metric("r1", 10, "train_loss", 2.5, T0));
      memory.finishRun("r1", "completed", "ok", T0.plusSeconds(60));
    }
    try (Memory memory = Memory.file(file)) {
      assertThat(memory.location()).isEqualTo(file.toString());
      assertThat(memory.get("best", Map.class)).contains(Map.of("loss", 1.25));
      assertThat(memory.metrics("r1"))
          .containsExactly(new Memory.Metric("r1", 10, "train_loss", 2.5, T0));
      assertThat(memory.run("r1"))
          .contains(new Memory.Run("r1", "train", T0, T0.plusSeconds(60), "completed", "ok"));
      memory.startRun("r2", "train", T0.plusSeconds(120));
      assertThat(memory.runs()).extracting(Memory.Run::runId).containsExactly("r1", "r2");
      assertThat(memory.runs().get(1).finished()).isNull();
      assertThat(memory.run("none")).isEmpty();
    }
  }

  @Test
  void metricsCheckpointsAndEvaluationsRoundTripAndAreQueryable() {
    try (Memory memory = Memory.inMemory()) {
      memory.addMetric(new Memory.Metric("r", 2, "lr", 1e-4, T0));
      memory.addMetric(new Memory.Metric("r", 1, "train_loss", 3.0, T0));
      memory.addMetric(new Memory.Metric("r", 2, "train_loss", 2.0, T0));
      memory.addMetrics(
          List.of(
              new Memory.Metric("other", 1, "train_loss", 9.0, T0),
              new Memory.Metric("other", 1, "grad_norm", 0.5, T0)));
      assertThat(memory.metrics("other")).hasSize(2);
      assertThatThrownBy(
              () ->
                  memory.addMetrics(
                      List.of(
                          new Memory.Metric("other", 2, "x", 1, T0),
                          new Memory.Metric("other", 3, null, 1, T0))))
          .isInstanceOf(EntityException.class);
      assertThat(memory.metrics("other")).as("a failed batch adds nothing").hasSize(2);
      memory.addCheckpoint(new Memory.Checkpoint("r", 2, "checkpoint-2", "val_loss", 2.1, T0));
      memory.addCheckpoint(new Memory.Checkpoint("r", 4, "checkpoint-4", null, Double.NaN, T0));
      memory.addEvaluation(
          new Memory.Evaluation("r", 4, "perplexity", 7.5, Memory.Verdict.PASS, T0));

      assertThat(memory.metrics("r"))
          .extracting(Memory.Metric::step, Memory.Metric::name)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(1L, "train_loss"),
              org.assertj.core.groups.Tuple.tuple(2L, "lr"),
              org.assertj.core.groups.Tuple.tuple(2L, "train_loss"));
      assertThat(memory.checkpoints("r")).hasSize(2);
      assertThat(memory.checkpoints("r").get(1).metricName()).isNull();
      assertThat(memory.checkpoints("r").get(1).metricValue()).isNaN();
      assertThat(memory.checkpoints("r").get(0).metricValue()).isEqualTo(2.1);
      assertThat(memory.evaluations("r"))
          .containsExactly(
              new Memory.Evaluation("r", 4, "perplexity", 7.5, Memory.Verdict.PASS, T0));
      assertThat(
              memory.query(
                  "SELECT name, min(value) AS best FROM metrics WHERE run_id = ? GROUP BY name"
                      + " ORDER BY name",
                  "r"))
          .containsExactly(
              Map.of("name", "lr", "best", 1e-4), Map.of("name", "train_loss", "best", 2.0));
    }
  }

  @Test
  void queryRefusesStatementsThatWriteAndRollsBackAnyChange() {
    try (Memory memory = Memory.inMemory()) {
      memory.put("k", 1);
      assertThatThrownBy(() -> memory.query("DELETE FROM kv"))
          .isInstanceOf(EntityException.class)
          .hasMessageContaining("only read-only queries");
      assertThatThrownBy(() -> memory.query("  drop table kv"))
          .hasMessageContaining("only read-only queries");
      assertThatThrownBy(() -> memory.query("SELECT 1; DELETE FROM kv"))
          .isInstanceOf(EntityException.class);
      assertThatThrownBy(() -> memory.query("SELECT nonsense FROM nowhere"))
          .isInstanceOf(EntityException.class)
          .hasMessageStartingWith("query failed:");
      assertThat(memory.get("k", Integer.class)).contains(1);
    }
  }

  @Test
  void unopenableFileIsAnEntityException(@TempDir Path folder) throws Exception {
    Path notADatabase = folder.resolve("memory.duckdb");
    java.nio.file.Files.writeString(notADatabase, "this is not a database file at all, just text");
    assertThatThrownBy(() -> Memory.file(notADatabase))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("cannot open the memory database");
  }

  @Test
  void closedMemoryRefusesUse() {
    Memory memory = Memory.inMemory();
    memory.close();
    memory.close();
    assertThatThrownBy(() -> memory.put("k", 1)).isInstanceOf(IllegalStateException.class);
  }
}
