package dev.entity.engine.lora;

import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PEFT's default LoRA initialization: A from Kaiming-uniform with a = sqrt(5) on (R, C), which is
 * uniform in [-1/sqrt(C), 1/sqrt(C)], and B zero, so training starts from the base model. Each A
 * draws from a generator seeded by the LoRA seed and the tensor's name, so the values do not depend
 * on the order or number of adapters.
 */
public final class LoraInit {

  private LoraInit() {}

  /** Initializes lora_A and lora_B of every module path in {@code modulePaths}. */
  public static void initialize(ParameterStore store, LoraConfig config, List<String> modulePaths) {
    try (Arena arena = Arena.ofConfined()) {
      for (String module : modulePaths) {
        String a = LoraConfig.loraAName(module);
        long[] shape = store.slot(a).shape();
        double bound = 1.0 / Math.sqrt(shape[1]);
        SplittableRandom rng = new SplittableRandom(ParameterStore.slotSeed(config.seed(), a));
        long count = shape[0] * shape[1];
        Tensor host =
            new Tensor(DType.F32, shape, arena.allocate(ValueLayout.JAVA_FLOAT, count), Device.CPU);
        for (long i = 0; i < count; i++) {
          host.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextDouble(-bound, bound));
        }
        store.copyFromHost(a, host);
        store.backend().zero(store.param(LoraConfig.loraBName(module)));
      }
    }
  }
}
