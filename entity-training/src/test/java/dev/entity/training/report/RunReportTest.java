package dev.entity.training.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.resource.Memory;
import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {

  @TempDir Path dir;
  private static final Instant T0 = Instant.parse("2026-11-25T13:00:00Z");
  private static final String HOSTILE = "<script>alert('x&y')</script> | `tick` *bold* [l](u)";

  static MetricRecord train(long step, double loss, double lr) {
    Map<String, Double> v = new LinkedHashMap<>();
    v.put(MetricRecord.LOSS, loss);
    v.put(MetricRecord.LEARNING_RATE, lr);
    v.put(MetricRecord.RSS_BYTES, 3.0 * (1 << 20));
    return new MetricRecord(
        MetricRecord.Kind.TRAIN, step, 20, step / 10.0, v, T0.plusSeconds(step));
  }

  static MetricRecord eval(long step, double loss) {
    Map<String, Double> v = new LinkedHashMap<>();
    v.put(MetricRecord.EVAL_LOSS, loss);
    v.put(MetricRecord.EVAL_PERPLEXITY, Math.exp(loss));
    return new MetricRecord(MetricRecord.Kind.EVAL, step, 20, step / 10.0, v, T0.plusSeconds(step));
  }

  private RunSummary summary(List<MetricRecord> history) throws IOException {
    Path checkpoint = Files.createDirectories(dir.resolve("checkpoint-10"));
    Files.write(checkpoint.resolve("adapter_model.safetensors"), new byte[2048]);
    Map<String, String> config = new LinkedHashMap<>();
    config.put("model", "tiny");
    config.put("note", HOSTILE);
    return new RunSummary(
        "run-7",
        config,
        "examples: 100\n" + HOSTILE,
        history,
        List.of(new RunSummary.CheckpointEntry(checkpoint, 10, 2.25, 2048)),
        dir.resolve("final-model"),
        new RunSummary.Timing(T0, T0.plusSeconds(3725), 3725),
        new RunSummary.Status(MetricsSink.Outcome.COMPLETED, 20, 20, 2.25, 10, HOSTILE),
        List.of());
  }

  private List<MetricRecord> history() {
    List<MetricRecord> h = new ArrayList<>();
    for (int step = 1; step <= 20; step++) {
      h.add(train(step, 3.0 - step * 0.05, 1e-4 * Math.min(1, step / 5.0)));
      if (step % 10 == 0) {
        h.add(eval(step, 2.5 - step * 0.0125));
      }
    }
    h.add(train(21, Double.NaN, 1e-4)); // a diverged step: in the table, not on the chart
    return h;
  }

  @Test
  void writesMarkdownHtmlChartsAndSummary() throws IOException {
    Files.writeString(dir.resolve("metrics.jsonl"), "{}\n");
    Files.createDirectories(dir.resolve("tensorboard"));
    RunReport.Written written = RunReport.write(summary(history()), dir);

    assertThat(written.chartProblem()).isNull();
    assertThat(written.charts())
        .containsExactly(dir.resolve("loss.png"), dir.resolve("learning_rate.png"));
    for (Path png : written.charts()) {
      byte[] bytes = Files.readAllBytes(png);
      assertThat(bytes).startsWith(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n');
      BufferedImage image = ImageIO.read(png.toFile());
      assertThat(image).isNotNull();
      assertThat(image.getWidth()).isEqualTo(ReportCharts.WIDTH);
      assertThat(image.getHeight()).isEqualTo(ReportCharts.HEIGHT);
    }

    String md = Files.readString(written.markdown());
    assertThat(md)
        .startsWith("# Training report: run-7 (completed)\n")
        .contains("| step | epoch | loss | learning\\_rate | rss\\_bytes |")
        .contains("| 1 | 0.10 | 2.9500 | 2.000e-05 | 3.00 MiB |")
        .contains("| 20 | 2.00 | 2.0000 | 1.000e-04 | 3.00 MiB |")
        .contains("| 21 | 2.10 | NaN | 1.000e-04 | 3.00 MiB |")
        .contains("| step | epoch | eval\\_loss | eval\\_perplexity |")
        .contains("| 10 | 1.00 | 2.3750 | 10.7510 |")
        .contains("| 10 | checkpoint-10 | 2.2500 | 2.00 KiB |")
        .contains("| model | tiny |")
        .contains("**Training time:** 1:02:05")
        .contains("- [metrics.jsonl](metrics.jsonl)")
        .contains("- [tensorboard/](tensorboard)")
        .contains("- [checkpoint 10](checkpoint-10)")
        .contains("- [final model](final-model)")
        .contains("![Loss](loss.png)")
        .contains("![Learning rate](learning_rate.png)")
        .doesNotContain("metrics.csv"); // not there, so not linked
    // Raw markup appears only inside fenced code blocks, where Markdown shows it as text.
    assertThat(md.replaceAll("(?s)```text\n.*?\n```", "")).doesNotContain("<script>");
    assertThat(md).contains("\\<script\\>alert('x\\&y')\\</script\\> \\| \\`tick\\` \\*bold\\*");
    // The dataset summary stands in a fenced block verbatim.
    assertThat(md).contains("```text\nexamples: 100\n" + HOSTILE + "\n```");

    String html = Files.readString(written.html());
    assertThat(html)
        .startsWith("<!DOCTYPE html>")
        .doesNotContain("<script")
        .doesNotContain("src=\"http")
        .contains("&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;")
        .contains("<img src=\"loss.png\" alt=\"Loss\" width=\"800\" height=\"450\">")
        .contains("<a href=\"metrics.jsonl\">metrics.jsonl</a>")
        .contains("<td>10</td><td>checkpoint-10</td><td>2.2500</td><td>2.00 KiB</td>");

    RunSummary back = RunReport.readSummary(dir);
    assertThat(back.history()).hasSize(history().size());
    assertThat(back.history().getLast().value(MetricRecord.LOSS).getAsDouble()).isNaN();
    assertThat(back.config()).containsEntry("note", HOSTILE);
    assertThat(back.checkpoints()).isEqualTo(summary(history()).checkpoints());
    assertThat(back.status()).isEqualTo(summary(history()).status());
  }

  @Test
  void emptyHistoryGivesAReportWithoutCharts() throws IOException {
    RunSummary empty =
        new RunSummary(
            "empty",
            Map.of(),
            "",
            List.of(),
            List.of(),
            null,
            new RunSummary.Timing(T0, null, 0),
            new RunSummary.Status(MetricsSink.Outcome.FAILED, 0, 10, null, -1, null),
            List.of());
    RunReport.Written written = RunReport.write(empty, dir);
    assertThat(written.charts()).isEmpty();
    assertThat(dir.resolve("loss.png")).doesNotExist();
    assertThat(Files.readString(written.markdown()))
        .contains("No curves: no metrics were logged.")
        .contains("No training steps were logged.")
        .contains("No checkpoints were kept.")
        .contains("**Status:** failed at step 0 of 10  \n");
    assertThat(Files.readString(written.html())).contains("<p>No dataset summary recorded.</p>");
  }

  @Test
  void evaluationSectionsAreRenderedWithVerdictsAndSamples() throws IOException {
    RunSummary withEval =
        summary(history())
            .withEvaluations(
                List.of(
                    new EvaluationSection(
                        "Fine-tuned <model>",
                        List.of(
                            new EvaluationSection.MetricRow(
                                "perplexity", 8.5, 10.0, Memory.Verdict.PASS),
                            new EvaluationSection.MetricRow(
                                "bleu", 12.25, null, Memory.Verdict.NONE)),
                        List.of(new EvaluationSection.Sample("Say ```hi```", "<b>hi</b>", "hello")),
                        Memory.Verdict.PASS)));
    RunReport.Written written = RunReport.write(withEval, dir);
    String md = Files.readString(written.markdown());
    assertThat(md)
        .contains("## Evaluation: Fine-tuned \\<model\\> — PASS")
        .contains("| perplexity | 8.5000 | 10.0000 | PASS |")
        .contains("| bleu | 12.2500 |  | NONE |")
        .contains("````text\nSay ```hi```\n````");
    assertThat(Files.readString(written.html()))
        .contains("<h2>Evaluation: Fine-tuned &lt;model&gt; — PASS</h2>")
        .contains("<pre>&lt;b&gt;hi&lt;/b&gt;</pre>");
    assertThat(RunReport.readSummary(dir).evaluations()).isEqualTo(withEval.evaluations());
  }

  @Test
  void linksAreRelativeAndPercentEncoded() {
    assertThat(ReportDocument.href(dir, dir.resolve("check point/a:b#c?d.png")))
        .isEqualTo("check%20point/a%3Ab%23c%3Fd.png");
    assertThat(ReportDocument.href(dir.resolve("run"), Path.of("/elsewhere/x y")))
        .isEqualTo("file:///elsewhere/x%20y");
    assertThat(MarkdownReport.escape("- item")).isEqualTo("\\- item");
    assertThat(MarkdownReport.escape("12. item")).isEqualTo("12\\. item");
    assertThat(MarkdownReport.escape("---")).isEqualTo("\\---");
    assertThat(MarkdownReport.escape("1.5 a-b")).isEqualTo("1.5 a-b");
  }

  @Test
  void longHistoriesAreThinnedKeepingFirstAndLast() {
    List<MetricRecord> many = new ArrayList<>();
    for (int step = 1; step <= 1000; step++) {
      many.add(train(step, 1, 1e-4));
    }
    List<MetricRecord> shown = ReportDocument.thin(many);
    assertThat(shown).hasSize(ReportDocument.MAX_ROWS);
    assertThat(shown.getFirst().step()).isEqualTo(1);
    assertThat(shown.getLast().step()).isEqualTo(1000);
  }

  @Test
  void readSummaryRefusesMalformedAndTruncatedFiles() throws IOException {
    RunReport.write(summary(history()), dir);
    String json = Files.readString(dir.resolve(RunReport.SUMMARY_JSON));
    for (String bad :
        List.of(json.substring(0, json.length() / 2), "[1,2]", "{\"history\": 5}", "")) {
      Files.writeString(dir.resolve(RunReport.SUMMARY_JSON), bad);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> RunReport.readSummary(dir))
          .isInstanceOf(dev.entity.core.EntityException.class)
          .hasMessageContaining("cannot read the run summary");
    }
  }

  @Test
  void readSummaryOfAFolderWithoutOneSaysWhatToDo() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RunReport.readSummary(dir))
        .isInstanceOf(dev.entity.core.EntityException.class)
        .hasMessageContaining("run-summary.json")
        .hasMessageContaining("run training into this folder first");
  }
}
