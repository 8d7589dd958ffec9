package dev.entity.training.train.metrics;

import static dev.entity.training.train.metrics.MetricRecords.eval;
import static dev.entity.training.train.metrics.MetricRecords.train;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressBarMetricsSinkTest {

  private static final Instant T0 = Instant.parse("2026-11-25T13:00:00Z");
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private String text() {
    return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
  }

  @Test
  void terminalRedrawsOneLineInPlaceAndKeepsOtherLinesWhole() {
    ProgressBarMetricsSink bar =
        new ProgressBarMetricsSink(out, ProgressBarMetricsSink.Mode.TERMINAL, Duration.ZERO, 200);
    bar.log(train(1, 4, 2.5, T0));
    bar.log(train(2, 4, 2.25, T0.plusSeconds(10)));
    bar.log(eval(2, 4, 2.0, T0.plusSeconds(11)));
    bar.println("a message");
    bar.end(new MetricsSink.RunEnd(MetricsSink.Outcome.COMPLETED, 4, 2.0, 2, null, 75, "done"));
    bar.close();
    String text = text();
    assertThat(text)
        .startsWith("\r\033[K1/4 [#####...............]  25% loss 2.5000 lr 2.00e-04 1,235 tok/s");
    // Step 2 redraws the same line; its ETA comes from the pace since step 1 (10 s/step, 2 left).
    assertThat(text)
        .contains(
            "\r\033[K2/4 [##########..........]  50% loss 2.2500 lr 1.00e-04 1,235 tok/s ETA 0:20");
    // The eval line erases the bar, stands on its own line, then the bar comes back.
    assertThat(text)
        .contains("ETA 0:20\r\033[Keval step 2 eval_loss 2.0000 eval_perplexity 7.3891\n2/4 [")
        .contains("\r\033[Ka message\n2/4 [");
    assertThat(text).endsWith("ETA 0:20\ntraining completed at step 4 after 1:15: done\n");
    // What a terminal shows: every line whole, the bar's last state kept above the end line.
    assertThat(screen(text))
        .containsExactly(
            "eval step 2 eval_loss 2.0000 eval_perplexity 7.3891",
            "a message",
            "2/4 [##########..........]  50% loss 2.2500 lr 1.00e-04 1,235 tok/s ETA 0:20",
            "training completed at step 4 after 1:15: done",
            "");
  }

  /** Renders text as a terminal would: '\r' returns to column 0, ESC[K erases to the end. */
  static java.util.List<String> screen(String text) {
    java.util.List<String> lines = new java.util.ArrayList<>();
    StringBuilder line = new StringBuilder();
    int col = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\r') {
        col = 0;
      } else if (c == '\n') {
        lines.add(line.toString());
        line.setLength(0);
        col = 0;
      } else if (text.startsWith("\033[K", i)) {
        line.setLength(col);
        i += 2;
      } else {
        if (col < line.length()) {
          line.setCharAt(col, c);
        } else {
          line.append(c);
        }
        col++;
      }
    }
    lines.add(line.toString());
    return lines;
  }

  @Test
  void terminalBarIsCutToTheWidthSoItNeverWraps() {
    ProgressBarMetricsSink bar =
        new ProgressBarMetricsSink(out, ProgressBarMetricsSink.Mode.TERMINAL, Duration.ZERO, 30);
    bar.log(train(1, 4, 2.5, T0));
    bar.close();
    String drawn = text().substring("\r\033[K".length()).strip();
    assertThat(drawn).hasSize(29);
  }

  @Test
  void plainModePrintsThrottledLinesWithoutCarriageReturns() {
    ProgressBarMetricsSink bar =
        new ProgressBarMetricsSink(
            out, ProgressBarMetricsSink.Mode.PLAIN, Duration.ofSeconds(30), 100);
    for (int step = 1; step <= 10; step++) {
      bar.log(train(step, 10, 3.0 - step * 0.1, T0.plusSeconds(10L * step)));
    }
    bar.log(eval(10, 10, 1.5, T0.plusSeconds(101)));
    bar.checkpoint(
        new MetricsSink.CheckpointSaved(10, Path.of("out/checkpoint-10"), 1.5, List.of()));
    bar.end(new MetricsSink.RunEnd(MetricsSink.Outcome.COMPLETED, 10, 1.5, 10, null, 100, null));
    bar.close();
    String text = text();
    assertThat(text).doesNotContain("\r").doesNotContain("\033");
    // First step, then every 30 s of record time (steps 4 and 7), and the last step.
    assertThat(text.lines().filter(l -> l.matches("\\d+/10 .*")).map(l -> l.split("/")[0]))
        .containsExactly("1", "4", "7", "10");
    assertThat(text)
        .contains("eval step 10 eval_loss 1.5000")
        .contains(
            "checkpoint 10 saved to out/checkpoint-10".replace('/', java.io.File.separatorChar))
        .endsWith("training completed at step 10 after 1:40\n");
  }

  @Test
  void etaFromTheRecordWinsAndDurationsFormat() {
    ProgressBarMetricsSink bar =
        new ProgressBarMetricsSink(out, ProgressBarMetricsSink.Mode.PLAIN, Duration.ZERO, 100);
    java.util.Map<String, Double> v = new java.util.LinkedHashMap<>();
    v.put(MetricRecord.ETA_SECONDS, 3723.0);
    MetricRecord r = new MetricRecord(MetricRecord.Kind.TRAIN, 1, 0, 0, v, T0);
    assertThat(bar.progressLine(r)).isEqualTo("1/0 [####################] 100% ETA 1:02:03");
    assertThat(ProgressBarMetricsSink.duration(7)).isEqualTo("0:07");
    assertThat(ProgressBarMetricsSink.duration(Double.NaN)).isEqualTo("?");
  }
}
