package dev.entity.training.report;

import dev.entity.core.resource.Memory;
import java.util.List;

/**
 * One evaluation of the trained model for the run report, as the REVIEW stage produces it: a table
 * of metrics with thresholds and verdicts, sample generations, and the overall verdict.
 *
 * @param title e.g. "Fine-tuned model" or "Base model"
 * @param metrics one row per metric
 * @param samples generations for chosen prompts
 * @param verdict PASS when every thresholded metric passed, FAIL when one did, NONE without
 *     thresholds
 */
public record EvaluationSection(
    String title, List<MetricRow> metrics, List<Sample> samples, Memory.Verdict verdict) {

  public EvaluationSection {
    metrics = List.copyOf(metrics);
    samples = List.copyOf(samples);
  }

  /**
   * One metric's result.
   *
   * @param name e.g. "perplexity", "bleu", "rouge_l"
   * @param value the measured value
   * @param threshold the bound it is compared with, or null
   * @param verdict whether it met the bound
   */
  public record MetricRow(String name, double value, Double threshold, Memory.Verdict verdict) {}

  /**
   * A generation for one prompt.
   *
   * @param prompt the input
   * @param output what the model generated
   * @param reference the expected answer, or null
   */
  public record Sample(String prompt, String output, String reference) {}
}
