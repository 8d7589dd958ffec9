// Dimension legend: N rows (B*T), H heads, HS head size.
// Convention: inverse frequencies are computed in float32 in the same order of operations as
// Hugging Face's rope init functions, so angles match theirs bit for bit or within an ulp.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.tensor.Tensor;

/**
 * Rotary position embedding in Hugging Face's rotate-half form, applied in place to queries and
 * keys. Backward is the rotation by the negative angle, applied in place to the gradient.
 */
public final class Rope {

  private final Backend backend;
  private final Tensor invFreq; // (HS/2) F32 on the backend

  /** {@code invFreq} (HS/2) already on the backend, from {@link #inverseFrequencies}. */
  public Rope(Backend backend, Tensor invFreq) {
    this.backend = backend;
    this.invFreq = invFreq;
  }

  /** x (N, H, HS) rotated in place by position; positions (N) I32. */
  public void forward(Tensor x, Tensor positions) {
    backend.rope(x, positions, invFreq, false);
  }

  /** dx (N, H, HS) rotated back in place. */
  public void backward(Tensor dx, Tensor positions) {
    backend.rope(dx, positions, invFreq, true);
  }

  /**
   * Inverse frequencies 1 / theta^(2i/HS) for i in [0, HS/2), with llama3-type scaling applied when
   * {@code scaling} is not null (long wavelengths divided by factor, a smooth band in between).
   */
  public static float[] inverseFrequencies(
      int headDim, double theta, ModelConfig.RopeScaling scaling) {
    float[] inv = new float[headDim / 2];
    for (int i = 0; i < inv.length; i++) {
      float exponent = (float) (2 * i) / (float) headDim;
      inv[i] = 1.0f / (float) Math.pow(theta, exponent);
    }
    if (scaling == null) {
      return inv;
    }
    float factor = (float) scaling.factor();
    float low = (float) scaling.lowFreqFactor();
    float high = (float) scaling.highFreqFactor();
    double oldContext = scaling.originalMaxPositionEmbeddings();
    double lowFreqWavelen = oldContext / scaling.lowFreqFactor();
    double highFreqWavelen = oldContext / scaling.highFreqFactor();
    for (int i = 0; i < inv.length; i++) {
      float wavelen = (float) (2 * Math.PI) / inv[i];
      float scaled = wavelen > lowFreqWavelen ? inv[i] / factor : inv[i];
      boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      if (medium) {
        float smooth = ((float) oldContext / wavelen - low) / (high - low);
        scaled = (1 - smooth) * scaled / factor + smooth * scaled;
      }
      inv[i] = scaled;
    }
    return inv;
  }
}
