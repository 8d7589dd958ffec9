package dev.entity.engine.model;

import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Random base weights as Hugging Face initializes a fresh model: matrices and embeddings normal(0,
 * std), norm weights 1, biases 0. Each tensor's values depend only on the seed and its name. LoRA
 * adapters are left alone ({@code LoraInit} owns them).
 */
public final class RandomWeights {

  private RandomWeights() {}

  public static void fill(ParameterStore store, long seed, float std) {
    for (Slot s : store.slots()) {
      if (HfCheckpoint.isAdapter(s.name())) {
        continue;
      }
      // one host tensor at a time, shared so the backend's workers may convert it
      try (Arena arena = Arena.ofShared()) {
        long count = s.count();
        Tensor host =
            new Tensor(
                DType.F32, s.shape(), arena.allocate(ValueLayout.JAVA_FLOAT, count), Device.CPU);
        boolean vector = s.shape().length == 1;
        boolean bias = s.name().endsWith(".bias");
        SplittableRandom rng = new SplittableRandom(ParameterStore.slotSeed(seed, s.name()));
        for (long i = 0; i < count; i++) {
          float v = vector ? (bias ? 0f : 1f) : (float) (gaussian(rng) * std);
          host.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
        }
        store.copyFromHost(s.name(), host);
      }
    }
  }

  /** Box-Muller: one standard normal from two uniforms. */
  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble(); // (0, 1]
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
