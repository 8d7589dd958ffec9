package dev.entity.training.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictTest {

  private static final EvalMetrics TUNED =
      EvalMetrics.empty()
          .with(Metric.PERPLEXITY, 12.3)
          .with(Metric.BLEU, 18.25)
          .with(Metric.ROUGE_1, 0.5)
          .with(Metric.ROUGE_2, 0.3)
          .with(Metric.ROUGE_L, 0.45);
  private static final EvalMetrics BASE =
      EvalMetrics.empty()
          .with(Metric.PERPLEXITY, 12.8)
          .with(Metric.BLEU, 15.0)
          .with(Metric.ROUGE_L, 0.5);

  private static Thresholds thresholds(
      Double maxPpl, Double minBleu, Double minRougeL, Double pplGain, Double bleuGain) {
    return new Thresholds(maxPpl, minBleu, null, null, minRougeL, pplGain, bleuGain, null);
  }

  @Test
  void noThresholdsPasses() {
    Verdict v = Verdict.judge(Thresholds.none(), TUNED, null);
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.PASS);
    assertThat(v.reasons()).isEmpty();
    assertThat(v.passedChecks()).isEmpty();
    assertThat(v.summary()).isEqualTo("PASS");
  }

  @Test
  void failedLimitsNameTheThresholdAndTheMargin() {
    Verdict v = Verdict.judge(thresholds(10.0, 20.0, 0.4, null, null), TUNED, null);
    assertThat(v.passed()).isFalse();
    assertThat(v.reasons())
        .containsExactly("perplexity 12.3 > max 10.0 (by 2.3)", "bleu 18.25 < min 20.0 (by 1.75)");
    assertThat(v.passedChecks()).containsExactly("rougeL 0.45 >= min 0.4");
    assertThat(v.summary())
        .isEqualTo("FAIL: perplexity 12.3 > max 10.0 (by 2.3); bleu 18.25 < min 20.0 (by 1.75)");
  }

  @Test
  void limitsAreInclusive() {
    Verdict v = Verdict.judge(thresholds(12.3, 18.25, 0.45, null, null), TUNED, null);
    assertThat(v.passed()).as(v.summary()).isTrue();
    assertThat(v.passedChecks()).hasSize(3);
  }

  @Test
  void improvementIsDirectionAware() {
    // perplexity fell by 0.5 (better), BLEU rose by 3.25 (better)
    Verdict pass = Verdict.judge(thresholds(null, null, null, 0.5, 3.0), TUNED, BASE);
    assertThat(pass.passed()).as(pass.summary()).isTrue();
    assertThat(pass.passedChecks().get(0))
        .isEqualTo("perplexity improvement over base 0.5 >= min 0.5 (base 12.8, tuned 12.3)");

    Verdict fail = Verdict.judge(thresholds(null, null, null, 1.0, 5.0), TUNED, BASE);
    assertThat(fail.reasons())
        .containsExactly(
            "perplexity improvement over base 0.5 < min 1.0 (by 0.5; base 12.8, tuned 12.3)",
            "bleu improvement over base 3.25 < min 5.0 (by 1.75; base 15.0, tuned 18.25)");
  }

  @Test
  void negativeImprovementAllowsABoundedRegression() {
    Thresholds t = new Thresholds(null, null, null, null, null, null, null, -0.1);
    assertThat(Verdict.judge(t, TUNED, BASE).passed()).isTrue(); // ROUGE-L fell by 0.05
    Thresholds strict = new Thresholds(null, null, null, null, null, null, null, 0.0);
    assertThat(Verdict.judge(strict, TUNED, BASE).reasons())
        .containsExactly(
            "rougeL improvement over base -0.05 < min 0.0 (by 0.05; base 0.5, tuned 0.45)");
  }

  @Test
  void aThresholdOnAnUnmeasuredMetricFails() {
    EvalMetrics onlyPpl = EvalMetrics.empty().with(Metric.PERPLEXITY, 5.0);
    Verdict v = Verdict.judge(thresholds(null, 10.0, null, null, 1.0), onlyPpl, null);
    assertThat(v.passed()).isFalse();
    assertThat(v.reasons()).hasSize(2);
    assertThat(v.reasons().get(0))
        .contains(
            "thresholds.min_bleu", "tuned model's bleu was not measured", "metrics_to_calculate");
    Verdict noBase = Verdict.judge(thresholds(null, null, null, 0.1, null), onlyPpl, null);
    assertThat(noBase.reasons())
        .singleElement()
        .asString()
        .contains("min_perplexity_improvement", "base model's perplexity");
  }

  @Test
  void tinyMarginsAreNotRoundedAway() {
    EvalMetrics m = EvalMetrics.empty().with(Metric.PERPLEXITY, 10.00001);
    assertThat(Verdict.judge(thresholds(10.0, null, null, null, null), m, null).reasons())
        .containsExactly("perplexity 10.0 > max 10.0 (by 1.00e-05)");
  }

  @Test
  void thresholdsRejectValuesOffTheMetricsScale() {
    assertThatThrownBy(() -> new Thresholds(null, null, null, null, 40.0, null, null, null))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("thresholds.min_rouge_l = 40.0")
        .hasMessageContaining("0-1 scale");
    assertThatThrownBy(() -> thresholds(null, 101.0, null, null, null))
        .hasMessageContaining("thresholds.min_bleu");
    assertThatThrownBy(() -> thresholds(0.5, null, null, null, null))
        .hasMessageContaining("thresholds.max_perplexity")
        .hasMessageContaining(">= 1");
    assertThatThrownBy(() -> thresholds(Double.NaN, null, null, null, null))
        .hasMessageContaining("max_perplexity");
    assertThatThrownBy(() -> thresholds(null, null, null, Double.POSITIVE_INFINITY, null))
        .hasMessageContaining("min_perplexity_improvement")
        .hasMessageContaining("finite");
  }

  @Test
  void comparisonKnowsWhichDirectionIsBetter() {
    var rows = MetricComparison.compare(BASE, TUNED);
    assertThat(rows)
        .extracting(MetricComparison::metric)
        .containsExactly(Metric.PERPLEXITY, Metric.BLEU, Metric.ROUGE_L);
    MetricComparison ppl = rows.get(0);
    assertThat(ppl.delta()).isCloseTo(-0.5, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(ppl.improvement()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(ppl.improved()).isTrue();
    assertThat(rows.get(1).improved()).isTrue();
    MetricComparison rougeL = rows.get(2);
    assertThat(rougeL.delta()).isNegative();
    assertThat(rougeL.improved()).isFalse();
  }

  @Test
  void metricsCarryOnlyFiniteValues() {
    assertThatThrownBy(() -> EvalMetrics.empty().with(Metric.BLEU, Double.NaN))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("bleu");
    EvalMetrics m =
        EvalMetrics.of(
            new Perplexity(Math.log(4.0), 10),
            Bleu.corpusSingle(java.util.List.of("a b c d"), java.util.List.of("a b c d")),
            null);
    assertThat(m.values()).containsOnlyKeys(Metric.PERPLEXITY, Metric.BLEU);
    assertThat(m.get(Metric.PERPLEXITY).getAsDouble())
        .isCloseTo(4.0, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(m.get(Metric.ROUGE_L)).isEmpty();
    assertThat(new EvalMetrics(Map.of(Metric.BLEU, 1.0)).values()).containsEntry(Metric.BLEU, 1.0);
    assertThat(Metric.forKey("ROUGEL")).isEqualTo(Metric.ROUGE_L);
    assertThat(Metric.forKey("meteor")).isNull();
  }
}
