// Convention: step is the number of optimizer steps already taken (0 for the first update), as
// Hugging Face's LambdaLR schedules see it, so lr(0) is 0 whenever there is warmup.
package dev.entity.training.train;

import dev.entity.core.EntityException;
import java.util.Locale;

/**
 * The learning rate of each optimizer step, as Hugging Face's {@code get_constant_schedule_with_
 * warmup}, {@code get_linear_schedule_with_warmup} and {@code get_cosine_schedule_with_warmup}
 * compute it: a linear ramp from 0 over {@code warmupSteps}, then constant, linear decay to 0, or a
 * half cosine to 0 at {@code totalSteps}. It is a pure function of the step, so its whole state is
 * the optimizer's step count.
 *
 * @param kind the shape after warmup
 * @param peak the learning rate reached at the end of warmup
 * @param warmupSteps steps of the linear ramp
 * @param totalSteps steps of the whole run
 */
public record LearningRateSchedule(Kind kind, double peak, long warmupSteps, long totalSteps) {

  /** The shape after warmup. */
  public enum Kind {
    CONSTANT,
    LINEAR,
    COSINE;

    /** The kind named as in YAML (constant, linear, cosine). */
    public static Kind of(String name) {
      try {
        return valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new EntityException(
            "lr_scheduler: must be one of constant, linear, cosine, got '" + name + "'");
      }
    }
  }

  public LearningRateSchedule {
    if (!(peak > 0) || totalSteps <= 0 || warmupSteps < 0) {
      throw new EntityException(
          "learning rate schedule needs a positive peak and step count, got lr "
              + peak
              + ", "
              + totalSteps
              + " steps, "
              + warmupSteps
              + " warmup steps");
    }
  }

  /**
   * The schedule of a config: warmup_steps, or warmup_ratio of all steps rounded up (as the Hugging
   * Face Trainer does).
   */
  public static LearningRateSchedule of(TrainingConfig config, long totalSteps) {
    long warmup =
        config.warmupSteps() > 0
            ? config.warmupSteps()
            : (long) Math.ceil(config.warmupRatio() * totalSteps);
    return new LearningRateSchedule(
        Kind.of(config.lrScheduler()), config.learningRate(), warmup, totalSteps);
  }

  /** The learning rate for the update after {@code step} updates. */
  public double lr(long step) {
    if (step < warmupSteps) {
      return peak * step / Math.max(1, warmupSteps);
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return switch (kind) {
      case CONSTANT -> peak;
      case LINEAR ->
          peak
              * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
      case COSINE -> peak * Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    };
  }
}
