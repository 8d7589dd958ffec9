package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.training.plugins.EvaluationPlugin;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluationReportTest {

  static EvaluationPlugin.Result result(
      String outcome, Map<String, Double> base, List<String> reasons, String tunedAnswer) {
    Map<String, Double> tuned = new LinkedHashMap<>();
    tuned.put("perplexity", 300.5);
    tuned.put("bleu", 1.25);
    return new EvaluationPlugin.Result(
        "m + adapter a",
        10,
        tuned,
        base,
        List.of(),
        outcome,
        reasons,
        outcome.equals("PASS")
            ? List.of("perplexity improvement over base 410 >= min 10")
            : List.of(),
        List.of(new EvaluationPlugin.Sample("Say hi.", "Hi.", tunedAnswer, null)));
  }

  @Test
  void showsTheVerdictEachMetricBesideTheBaseAndTheSamples() {
    String text =
        EvaluationReport.of(
            result("PASS", Map.of("perplexity", 710.5, "bleu", 0.0), List.of(), "Hello."));
    assertThat(text)
        .startsWith("Evaluation (review, evaluation): PASS on 10 conversations\n")
        .contains("  model: m + adapter a\n")
        .contains("perplexity    300.5000   base   710.5000   change -410.0000")
        .contains("bleu            1.2500   base     0.0000   change +1.2500")
        .contains("held: perplexity improvement")
        .contains("prompt: Say hi.\n    tuned: Hello.\n")
        .doesNotContain("base:  ")
        .doesNotContain("FAIL");
  }

  @Test
  void aFailNamesEveryReasonAndLongOrControlCharacterAnswersStayOnOneLine() {
    String answer = "line one\nline two\u0007" + "x".repeat(300);
    String text =
        EvaluationReport.of(
            result(
                "FAIL", Map.of(), List.of("perplexity 300.5 > max 100", "bleu 1.25 < 5"), answer));
    assertThat(text)
        .contains("): FAIL on 10")
        .contains("  FAIL: perplexity 300.5 > max 100\n  FAIL: bleu 1.25 < 5\n")
        .contains("perplexity    300.5000\n")
        .contains("tuned: line one line two " + "x".repeat(100 - 18) + "...\n")
        .doesNotContain("held:");
    assertThat(EvaluationReport.cut(null)).isEmpty();
  }
}
