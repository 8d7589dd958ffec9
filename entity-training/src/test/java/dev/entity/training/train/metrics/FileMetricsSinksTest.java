package dev.entity.training.train.metrics;

import static dev.entity.training.train.metrics.MetricRecords.eval;
import static dev.entity.training.train.metrics.MetricRecords.start;
import static dev.entity.training.train.metrics.MetricRecords.train;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileMetricsSinksTest {

  @TempDir Path dir;

  private static final Instant T0 = Instant.parse("2026-11-25T13:00:00Z");

  @Test
  void jsonlRoundTripsRecordsIncludingNonFiniteValues() throws IOException {
    Path file = dir.resolve("sub/metrics.jsonl");
    JsonlMetricsSink sink = new JsonlMetricsSink(file);
    sink.begin(start(0, 8));
    MetricRecord a = train(1, 8, 2.5, T0);
    MetricRecord b = eval(1, 8, 2.25, T0.plusSeconds(1));
    MetricRecord nan = train(2, 8, Double.NaN, T0.plusSeconds(2));
    sink.log(a);
    sink.log(b);
    sink.log(nan);
    // Flushed as written: readable before close.
    assertThat(JsonlMetricsSink.read(file))
        .containsExactly(a, b, nan); // Double.equals: NaN equals NaN
    sink.close();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0))
        .startsWith("{\"kind\":\"train\",\"step\":1,\"max_steps\":8,\"epoch\":0.25,")
        .contains("\"time\":\"2026-11-25T13:00:00Z\"", "\"loss\":2.5");
    assertThat(lines.get(2)).contains("\"loss\":\"NaN\"");
  }

  @Test
  void jsonlOnResumeKeepsLinesUpToTheStartStepAndSkipsACutLine() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    JsonlMetricsSink first = new JsonlMetricsSink(file);
    first.begin(start(0, 8));
    for (int step = 1; step <= 5; step++) {
      first.log(train(step, 8, 3.0 - step * 0.1, T0.plusSeconds(step)));
    }
    first.close();
    Files.writeString(
        file, "{\"kind\":\"train\",\"step\":6,\"ma", java.nio.file.StandardOpenOption.APPEND);

    JsonlMetricsSink resumed = new JsonlMetricsSink(file);
    resumed.begin(start(3, 8));
    resumed.log(train(4, 8, 1.0, T0.plusSeconds(100)));
    resumed.close();
    List<MetricRecord> records = JsonlMetricsSink.read(file);
    assertThat(records).extracting(MetricRecord::step).containsExactly(1L, 2L, 3L, 4L);
    assertThat(records.get(3).value(MetricRecord.LOSS)).hasValue(1.0);
  }

  @Test
  void jsonlReaderSkipsHostileAndMalformedLines() throws IOException {
    Path file = dir.resolve("hostile.jsonl");
    Files.writeString(
        file,
        String.join(
            "\n",
            "[]",
            "null",
            "not json",
            "{\"kind\":\"train\",\"step\":\"x\"}",
            "{\"kind\":\"bogus\",\"step\":1,\"time\":\"2026-11-25T13:00:00Z\"}",
            "{\"kind\":\"train\",\"step\":1,\"time\":\"yesterday\"}",
            "{\"kind\":\"train\",\"step\":2,\"time\":\"2026-11-25T13:00:00Z\",\"loss\":\"abc\"}",
            "{\"kind\":\"eval\",\"step\":3,\"max_steps\":4,\"epoch\":1,"
                + "\"time\":\"2026-11-25T13:00:00Z\",\"eval_loss\":1.5}",
            "\u0000\u0001",
            ""));
    List<MetricRecord> records = JsonlMetricsSink.read(file);
    assertThat(records).singleElement().satisfies(r -> assertThat(r.step()).isEqualTo(3));
  }

  @Test
  void jsonlFreshRunReplacesAnOldFile() throws IOException {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, "old\n");
    JsonlMetricsSink sink = new JsonlMetricsSink(file);
    sink.begin(start(0, 8));
    sink.log(train(1, 8, 2.0, T0));
    sink.close();
    assertThat(Files.readAllLines(file)).hasSize(1).allMatch(l -> l.startsWith("{"));
  }

  @Test
  void csvHeaderFromFirstRecordThenWidensForNewMetrics() throws IOException {
    Path file = dir.resolve("metrics.csv");
    CsvMetricsSink sink = new CsvMetricsSink(file);
    sink.begin(start(0, 8));
    sink.log(train(1, 8, 2.5, T0));
    String afterOne = Files.readString(file);
    assertThat(afterOne)
        .isEqualTo(
            "kind,step,max_steps,epoch,time,loss,learning_rate,tokens_per_second\r\n"
                + "train,1,8,0.25,2026-11-25T13:00:00Z,2.5,2.0E-4,1234.5\r\n");
    sink.log(eval(1, 8, 2.0, T0.plusSeconds(1)));
    sink.log(train(2, 8, 2.25, T0.plusSeconds(2)));
    sink.close();

    List<String> lines = Files.readAllLines(file);
    assertThat(lines.getFirst())
        .isEqualTo(
            "kind,step,max_steps,epoch,time,loss,learning_rate,tokens_per_second,eval_loss,"
                + "eval_perplexity");
    assertThat(lines).hasSize(4);
    assertThat(lines.get(1)).endsWith(",1234.5,,");
    List<Map<String, String>> rows = CsvMetricsSink.read(file);
    assertThat(rows).hasSize(3);
    assertThat(rows.get(1)).containsEntry("kind", "eval").containsEntry("eval_loss", "2.0");
    assertThat(rows.get(1)).doesNotContainKey("loss");
    assertThat(rows.get(2)).containsEntry("step", "2").containsEntry("loss", "2.25");
  }

  @Test
  void csvQuotesPerRfc4180AndReadsItBack() throws IOException {
    assertThat(CsvMetricsSink.quote("plain")).isEqualTo("plain");
    assertThat(CsvMetricsSink.quote("a,b")).isEqualTo("\"a,b\"");
    assertThat(CsvMetricsSink.quote("say \"hi\"")).isEqualTo("\"say \"\"hi\"\"\"");
    assertThat(CsvMetricsSink.quote("two\r\nlines")).isEqualTo("\"two\r\nlines\"");

    Path file = dir.resolve("odd.csv");
    Files.writeString(
        file,
        "name,\"odd, \"\"quoted\"\"\"\r\nx,\"line1\r\nline2\"\r\ny,\"a,b\"\r\nz,\"open",
        StandardCharsets.UTF_8);
    List<Map<String, String>> rows = CsvMetricsSink.read(file);
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).containsEntry("odd, \"quoted\"", "line1\r\nline2");
    assertThat(rows.get(1)).containsEntry("name", "y").containsEntry("odd, \"quoted\"", "a,b");
  }

  @Test
  void csvHostileAndTruncatedInputIsReadWithoutThrowing() throws IOException {
    for (String text :
        List.of("", "\"", "a,b\r\n1", "a,b\r\n1,2,3\r\n", "a\n\"\"\"\n", "\r\n\r\n", ",,,\n,,,")) {
      Path file = dir.resolve("h.csv");
      Files.writeString(file, text);
      assertThat(CsvMetricsSink.read(file)).isNotNull();
    }
    assertThat(CsvMetricsSink.parse("a,b\r\n1,2,3\r\n")).hasSize(2);
  }

  @Test
  void csvOnResumeKeepsRowsUpToTheStartStepAndItsColumns() throws IOException {
    Path file = dir.resolve("metrics.csv");
    CsvMetricsSink first = new CsvMetricsSink(file);
    first.begin(start(0, 8));
    first.log(train(1, 8, 3.0, T0));
    first.log(eval(2, 8, 2.8, T0));
    first.log(train(2, 8, 2.9, T0));
    first.log(train(3, 8, 2.7, T0));
    first.close();

    CsvMetricsSink resumed = new CsvMetricsSink(file);
    resumed.begin(start(2, 8));
    assertThat(resumed.columns()).contains("eval_loss");
    resumed.log(train(3, 8, 1.5, T0));
    resumed.close();
    List<Map<String, String>> rows = CsvMetricsSink.read(file);
    assertThat(rows).extracting(r -> r.get("step")).containsExactly("1", "2", "2", "3");
    assertThat(rows.get(3)).containsEntry("loss", "1.5");
  }
}
