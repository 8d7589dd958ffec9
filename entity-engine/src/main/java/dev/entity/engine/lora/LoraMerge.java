// Dimension legend: C input features, OC output features, R LoRA rank.
package dev.entity.engine.lora;

import dev.entity.engine.EngineException;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;

/**
 * Folds LoRA adapters into their base weights, W += scale * B A, in the weight's own dtype (F32, or
 * BF16/F16 rounded once after the F32 sum), and takes them out again. A merged decoder runs with
 * its adapters disabled, so its output is the merged model's; {@link #unmerge} subtracts the same
 * product (exact up to the rounding of the weight's dtype) and enables them again. A QLoRA decoder
 * (NF4 base) is merged through {@link #dequantizeAndMerge}: the NF4 weights are dequantized to BF16
 * first, as bitsandbytes + PEFT do, and the merge goes into that BF16 copy.
 */
public final class LoraMerge {

  private LoraMerge() {}

  /**
   * For a QLoRA decoder: a new decoder (the caller closes it) whose base is {@code qlora}'s with
   * the NF4 weights dequantized and every frozen matrix rounded to BF16 (norms and biases stay
   * F32), holding the same adapters, merged and disabled — the model a QLoRA run exports.
   */
  public static Decoder dequantizeAndMerge(Decoder qlora) {
    if (qlora.options().nf4() == null) {
      throw new EngineException("this model has no NF4 base weights; merge it with merge()");
    }
    Decoder.Options options = qlora.options().withNf4(null).withFrozenDType(DType.BF16);
    Decoder out = new Decoder(qlora.backend(), qlora.config(), options);
    try {
      ParameterStore from = qlora.store();
      for (ParameterStore.Slot s : from.slots()) {
        try (Arena arena = Arena.ofConfined()) { // one F32 host copy at a time
          out.store().copyFromHost(s.name(), from.toHost(s.name(), arena));
        }
      }
      merge(out);
      return out;
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

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
    if (d.options().nf4() != null) {
      throw new EngineException(
          "this model's base weights are NF4 (QLoRA); merge with"
              + " LoraMerge.dequantizeAndMerge, which dequantizes them to BF16 first");
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
