// Convention: values are keyed by the names in MetricRecord's constants (Hugging Face's log keys
// where one exists: loss, learning_rate, grad_norm, eval_loss), in insertion order; a record holds
// only what was measured at that step, so a sink never sees a made-up zero.
package dev.entity.training.train.metrics;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * One logged line of a training run: a training record every {@code logging_steps} optimizer steps
 * (loss, learning rate, grad norm, tokens/s, ETA, memory) or an evaluation record every {@code
 * evaluation_steps} (validation loss and perplexity). Sinks turn it into a progress bar, a JSONL or
 * CSV row, TensorBoard scalars or memory rows.
 *
 * @param kind whether this is a training or an evaluation record
 * @param step optimizer steps taken so far (1 after the first step)
 * @param maxSteps optimizer steps the run will take in total
 * @param epoch fractional epoch reached (1.5 = half-way through the second epoch)
 * @param values metric name to value, in the order they were measured
 * @param time when it was measured
 */
public record MetricRecord(
    Kind kind, long step, long maxSteps, double epoch, Map<String, Double> values, Instant time) {

  /** Mean training loss over the tokens of the steps since the last training record. */
  public static final String LOSS = "loss";

  /** Learning rate used by the last step. */
  public static final String LEARNING_RATE = "learning_rate";

  /** Global gradient norm of the last step, before clipping. */
  public static final String GRAD_NORM = "grad_norm";

  /** Training tokens (with a target) per second since the last training record. */
  public static final String TOKENS_PER_SECOND = "tokens_per_second";

  /** Training tokens (with a target) seen since the run (not the resume) began. */
  public static final String TOKENS_SEEN = "tokens_seen";

  /** Seconds since this process started training. */
  public static final String ELAPSED_SECONDS = "elapsed_seconds";

  /** Estimated seconds to the last step at the recent pace. */
  public static final String ETA_SECONDS = "eta_seconds";

  /** Resident set size of the process. */
  public static final String RSS_BYTES = "rss_bytes";

  /** JVM heap in use. */
  public static final String HEAP_BYTES = "heap_bytes";

  /** Micro-batch size in use (it drops after an out-of-memory retry). */
  public static final String MICRO_BATCH_SIZE = "micro_batch_size";

  /** Mean validation loss over the validation tokens. */
  public static final String EVAL_LOSS = "eval_loss";

  /** exp(eval_loss). */
  public static final String EVAL_PERPLEXITY = "eval_perplexity";

  /** Training or evaluation. */
  public enum Kind {
    TRAIN,
    EVAL
  }

  public MetricRecord {
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** The value named {@code name}, if this record has it. */
  public OptionalDouble value(String name) {
    Double v = values.get(name);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }
}
