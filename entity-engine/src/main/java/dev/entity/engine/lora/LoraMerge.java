// Dimension legend: C input features, OC output features, R LoRA rank.
package dev.entity.engine.lora;

import dev.entity.engine.EngineException;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;

/**
 * Folds LoRA adapters into their base weights, W += scale * B A, in the weight's own dtype (F32, or
 * BF16/F16 rounded once after the F32 sum), and takes them out again. A merged decoder runs with
 * its adapters disabled, so its output is the merged model's; {@link #unmerge} subtracts the same
 * product (exact up to the rounding of the weight's dtype) and enables them again.
 */
public final class LoraMerge {

  private LoraMerge() {}

  /** Merges every adapter of {@code d} into its base weight and disables the adapters. */
  public static void merge(Decoder d) {
    apply(d, 1f);
    d.setAdaptersDisabled(true);
  }

  /** Reverses {@link #merge}. */
  public static void unmerge(Decoder d) {
    apply(d, -1f);
    d.setAdaptersDisabled(false);
  }

  private static void apply(Decoder d, float sign) {
    LoraConfig lora = d.options().lora();
    if (lora == null) {
      throw new EngineException("this model has no LoRA adapters to merge");
    }
    ParameterStore store = d.store();
    var backend = store.backend();
    for (String module : d.loraModulePaths()) {
      Tensor w = store.param(module + ".weight"); // (OC, C)
      Tensor a = store.param(LoraConfig.loraAName(module)); // (R, C)
      Tensor b = store.param(LoraConfig.loraBName(module)); // (OC, R)
      Tensor delta = backend.allocate(DType.F32, w.shape());
      try {
        backend.matmul(delta, b, a, false, false, sign * lora.scale(), false);
        if (w.dtype() == DType.F32) {
          backend.add(w, w, delta);
        } else {
          Tensor wide = backend.allocate(DType.F32, w.shape());
          try {
            backend.convert(wide, w);
            backend.add(wide, wide, delta);
            backend.convert(w, wide);
          } finally {
            backend.free(wide);
          }
        }
      } finally {
        backend.free(delta);
      }
    }
  }
}
