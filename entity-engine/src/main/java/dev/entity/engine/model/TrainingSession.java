// Convention: the dropout seed of a micro-batch is a function of (LoRA seed, optimizer step,
// micro-batch index since the last zeroGrad), so a resumed run (same step count restored) draws
// the same masks as one never interrupted.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.optim.GradientClipping;
import java.nio.file.Path;

/**
 * What a trainer calls, step by step: {@link #zeroGrad}, {@link #accumulate} for each micro-batch,
 * then {@link #step} (global-norm clipping and AdamW with the scheduled learning rate). Everything
 * is deterministic: the same batches and settings give the same bits.
 */
public final class TrainingSession implements AutoCloseable {

  /** What one optimizer step did: the gradient norm before clipping and the factor applied. */
  public record StepResult(double gradNorm, float clipScale) {}

  private final Decoder decoder;
  private final AdamW optimizer;
  private int microBatch;

  public TrainingSession(Decoder decoder, AdamW.Config adam) {
    this.decoder = decoder;
    this.optimizer = new AdamW(decoder.store(), adam);
  }

  /** Loads a Hugging Face folder for full fine-tuning or LoRA ({@link Decoder.Options}). */
  public static TrainingSession open(
      Backend backend, Path folder, Decoder.Options options, AdamW.Config adam) {
    Decoder d = Decoder.load(backend, folder, options);
    try {
      return new TrainingSession(d, adam);
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  public Decoder decoder() {
    return decoder;
  }

  public AdamW optimizer() {
    return optimizer;
  }

  public void zeroGrad() {
    decoder.store().zeroGrad();
    microBatch = 0;
  }

  /**
   * Forward and backward of one micro-batch, adding {@code lossScale} times its mean loss's
   * gradient (1 / accumulation steps for equal weights). Returns the micro-batch's mean loss.
   */
  public float accumulate(Batch batch, float lossScale) {
    long seed = dropoutSeed(optimizer.stepCount(), microBatch++);
    return decoder.forwardBackward(batch, lossScale, seed);
  }

  /** The global norm of the accumulated gradients. */
  public double gradNorm() {
    return GradientClipping.norm(decoder.store());
  }

  /**
   * Clips to {@code maxGradNorm} (0 = no clipping) and takes one AdamW step with {@code lr}. Leaves
   * the gradients in place; call {@link #zeroGrad} before the next step's micro-batches. A NaN or
   * infinite gradient norm throws an {@link EngineException} and changes nothing.
   */
  public StepResult step(float lr, double maxGradNorm) {
    double norm = gradNorm();
    if (!Double.isFinite(norm)) {
      throw new EngineException(
          "the gradient norm is "
              + norm
              + " before optimizer step "
              + (optimizer.stepCount() + 1)
              + "; the weights were left as they were. Lower the learning rate or resume from the"
              + " last good checkpoint");
    }
    float scale = GradientClipping.scale(norm, maxGradNorm);
    optimizer.step(lr, scale);
    return new StepResult(norm, scale);
  }

  /** Mean loss of a batch without dropout or gradients (validation). */
  public float evalLoss(Batch batch) {
    return decoder.loss(batch);
  }

  private long dropoutSeed(long step, int micro) {
    long base = decoder.options().lora() == null ? 0 : decoder.options().lora().seed();
    return ParameterStore.slotSeed(base, "dropout") + step * 0x100000001b3L + micro;
  }

  @Override
  public void close() {
    decoder.close();
  }
}
