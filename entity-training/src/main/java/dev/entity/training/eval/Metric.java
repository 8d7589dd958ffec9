package dev.entity.training.eval;

import java.util.Locale;

/**
 * The evaluation metrics a run can report, each with its configuration key, its scale and the
 * direction in which it is better: perplexity falls as a model improves, BLEU (0-100, sacrebleu's
 * scale) and the ROUGE F-measures (0-1, rouge-score's scale) rise.
 */
public enum Metric {
  PERPLEXITY("perplexity", false),
  BLEU("bleu", true),
  ROUGE_1("rouge1", true),
  ROUGE_2("rouge2", true),
  ROUGE_L("rougeL", true);

  private final String key;
  private final boolean higherIsBetter;

  Metric(String key, boolean higherIsBetter) {
    this.key = key;
    this.higherIsBetter = higherIsBetter;
  }

  /**
   * The name used in config, memory and reports: {@code perplexity, bleu, rouge1, rouge2, rougeL}.
   */
  public String key() {
    return key;
  }

  public boolean higherIsBetter() {
    return higherIsBetter;
  }

  /** The metric for a key, ignoring case ("ROUGEL" and "rougeL" both work), or null if unknown. */
  public static Metric forKey(String key) {
    if (key == null) {
      return null;
    }
    for (Metric m : values()) {
      if (m.key.toLowerCase(Locale.ROOT).equals(key.toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    return null;
  }
}
