package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.training.train.LearningRateSchedule.Kind;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Values as transformers' get_*_schedule_with_warmup LambdaLR gives them (hand-computed). */
class LearningRateScheduleTest {

  private static final Offset<Double> EXACT = Offset.offset(1e-15);

  @Test
  void warmupRampsLinearlyFromZero() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.LINEAR, 1e-3, 4, 10);
    assertThat(s.lr(0)).isEqualTo(0.0);
    assertThat(s.lr(1)).isCloseTo(2.5e-4, EXACT);
    assertThat(s.lr(3)).isCloseTo(7.5e-4, EXACT);
    assertThat(s.lr(4)).isCloseTo(1e-3, EXACT);
  }

  @Test
  void linearDecaysToZeroAtTheLastStep() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.LINEAR, 1e-3, 2, 10);
    // (10 - step) / (10 - 2)
    assertThat(s.lr(2)).isCloseTo(1e-3, EXACT);
    assertThat(s.lr(6)).isCloseTo(1e-3 * 4 / 8, EXACT);
    assertThat(s.lr(10)).isEqualTo(0.0);
    assertThat(s.lr(12)).isEqualTo(0.0);
  }

  @Test
  void cosineIsAHalfCosineAfterWarmup() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.COSINE, 2e-4, 0, 8);
    assertThat(s.lr(0)).isCloseTo(2e-4, EXACT);
    assertThat(s.lr(4)).isCloseTo(1e-4, Offset.offset(1e-18));
    assertThat(s.lr(2)).isCloseTo(2e-4 * 0.5 * (1 + Math.cos(Math.PI / 4)), EXACT);
    assertThat(s.lr(8)).isCloseTo(0.0, Offset.offset(1e-20));
  }

  @Test
  void constantStaysAtThePeakAfterWarmup() {
    LearningRateSchedule s = new LearningRateSchedule(Kind.CONSTANT, 5e-5, 2, 100);
    assertThat(s.lr(1)).isCloseTo(2.5e-5, EXACT);
    assertThat(s.lr(2)).isEqualTo(5e-5);
    assertThat(s.lr(99)).isEqualTo(5e-5);
  }

  @Test
  void warmupRatioIsRoundedUpLikeTheHuggingFaceTrainer() {
    TrainingConfig c =
        TrainingConfig.defaults("m").with("warmup_ratio", 0.1).with("lr_scheduler", "cosine");
    LearningRateSchedule s = LearningRateSchedule.of(c, 25);
    assertThat(s.warmupSteps()).isEqualTo(3);
    assertThat(s.kind()).isEqualTo(Kind.COSINE);
    assertThat(s.peak()).isEqualTo(2e-4);
    assertThat(
            LearningRateSchedule.of(c.with("warmup_ratio", 0.0).with("warmup_steps", 5), 25)
                .warmupSteps())
        .isEqualTo(5);
  }

  @Test
  void badInputIsRefused() {
    assertThatThrownBy(() -> Kind.of("exponential"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("lr_scheduler: must be one of constant, linear, cosine");
    assertThatThrownBy(() -> new LearningRateSchedule(Kind.LINEAR, 0, 0, 10))
        .isInstanceOf(EntityException.class);
    assertThatThrownBy(() -> new LearningRateSchedule(Kind.LINEAR, 1e-3, 0, 0))
        .isInstanceOf(EntityException.class);
  }
}
