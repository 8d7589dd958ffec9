package dev.entity.engine.optim;

import dev.entity.engine.model.ParameterStore;

/**
 * The global gradient norm over every trainable parameter (one sum of squares over the flat
 * gradient buffer, in slot order) and the factor that clips it, as {@code
 * torch.nn.utils.clip_grad_norm_} computes it: max_norm / (norm + 1e-6), capped at 1.
 */
public final class GradientClipping {

  private GradientClipping() {}

  /** sqrt(sum of g^2) over all trainable gradients; 0 when nothing is trainable. */
  public static double norm(ParameterStore store) {
    if (store.gradients() == null) {
      return 0;
    }
    return Math.sqrt(store.backend().sumOfSquares(store.gradients()));
  }

  /**
   * The factor to multiply gradients by so their norm is at most {@code maxNorm} (1 when it already
   * is, or when {@code maxNorm} is not positive, meaning no clipping).
   */
  public static float scale(double norm, double maxNorm) {
    if (!(maxNorm > 0)) {
      return 1f;
    }
    double coef = maxNorm / (norm + 1e-6);
    return coef < 1 ? (float) coef : 1f;
  }
}
