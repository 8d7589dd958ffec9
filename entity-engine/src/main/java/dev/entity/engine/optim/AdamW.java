// Convention: the moments m and v are carved from the same slot list as the parameters, so the
// state of a parameter is found by its name, and saved under "exp_avg.<name>" /
// "exp_avg_sq.<name>".
package dev.entity.engine.optim;

import dev.entity.engine.EngineException;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay, bias correction, step counted from 1) over the trainable slots of
 * a {@link ParameterStore}, as {@code torch.optim.AdamW} computes it. Its state (both moments and
 * the step count) can be saved and restored exactly, so a resumed run continues with the same bits.
 */
public final class AdamW {

  /**
   * @param beta1 first-moment decay (0.9)
   * @param beta2 second-moment decay (0.999)
   * @param eps added to sqrt(v) (1e-8)
   * @param weightDecay decoupled decay factor (0.0 or 0.01 typically)
   * @param decayVectors whether 1-D parameters (biases, norm weights) decay too; Hugging Face's
   *     Trainer leaves them out, a bare torch AdamW does not
   */
  public record Config(
      float beta1, float beta2, float eps, float weightDecay, boolean decayVectors) {
    public Config {
      if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
        throw new EngineException("adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
      }
      if (!(eps > 0) || !(weightDecay >= 0)) {
        throw new EngineException("adam epsilon must be positive and weight decay non-negative");
      }
    }

    /** torch's defaults with the given weight decay, decaying every parameter. */
    public static Config torch(float weightDecay) {
      return new Config(0.9f, 0.999f, 1e-8f, weightDecay, true);
    }
  }

  private final ParameterStore store;
  private final Config config;
  private final ParameterStore.Segment m;
  private final ParameterStore.Segment v;
  private long step;

  public AdamW(ParameterStore store, Config config) {
    this.store = store;
    this.config = config;
    this.m = store.allocateTrainableRole();
    this.v = store.allocateTrainableRole();
  }

  public Config config() {
    return config;
  }

  /** Updates taken so far. */
  public long stepCount() {
    return step;
  }

  /**
   * One update of every trainable parameter with learning rate {@code lr}; gradients are multiplied
   * by {@code gradScale} first (the clipping factor, or 1).
   */
  public void step(float lr, float gradScale) {
    step++;
    List<Slot> slots = store.trainableSlots();
    int i = 0;
    while (i < slots.size()) { // one kernel call per run of slots with the same decay
      boolean decays = decays(slots.get(i));
      int j = i;
      while (j + 1 < slots.size() && decays(slots.get(j + 1)) == decays) {
        j++;
      }
      String first = slots.get(i).name();
      String last = slots.get(j).name();
      store
          .backend()
          .adamw(
              store.trainableSpan(store.trainableParams(), first, last),
              store.trainableSpan(store.gradients(), first, last),
              store.trainableSpan(m.flat(), first, last),
              store.trainableSpan(v.flat(), first, last),
              lr,
              config.beta1(),
              config.beta2(),
              config.eps(),
              decays ? config.weightDecay() : 0f,
              gradScale,
              step);
      i = j + 1;
    }
  }

  private boolean decays(Slot s) {
    return config.decayVectors() || s.shape().length >= 2;
  }

  /** Both moments of every trainable parameter as F32 host tensors, by state name. */
  public Map<String, Tensor> stateToHost(Arena arena) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Slot s : store.trainableSlots()) {
      out.put("exp_avg." + s.name(), store.toHost(m.view(s.name()), arena));
    }
    for (Slot s : store.trainableSlots()) {
      out.put("exp_avg_sq." + s.name(), store.toHost(v.view(s.name()), arena));
    }
    return out;
  }

  /**
   * Writes the state to a safetensors file: both moments under their state names, the step count in
   * the metadata as {@code "step"}.
   */
  public void save(Path file) {
    try (Arena arena = Arena.ofConfined()) {
      SafetensorsWriter.write(file, stateToHost(arena), Map.of("step", Long.toString(step)));
    }
  }

  /** Restores the state written by {@link #save}; errors name the file. */
  public void load(Path file) {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      String stepText = f.metadata().get("step");
      long steps;
      try {
        steps = Long.parseLong(stepText);
      } catch (NumberFormatException | NullPointerException e) {
        throw new EngineException(
            file + ": metadata \"step\" is missing or not a number: " + stepText);
      }
      Map<String, Tensor> state = new LinkedHashMap<>();
      for (String name : f.names()) {
        state.put(name, f.tensor(name));
      }
      try {
        restore(state, steps);
      } catch (EngineException e) {
        throw new EngineException(file + ": " + e.getMessage());
      }
    }
  }

  /**
   * Restores the state saved by {@link #stateToHost} and the step count; every trainable parameter
   * must be present with its shape, or an {@link EngineException} says which is not.
   */
  public void restore(Map<String, Tensor> state, long stepCount) {
    if (stepCount < 0) {
      throw new EngineException("optimizer step count must be non-negative, got " + stepCount);
    }
    for (String role : new String[] {"exp_avg.", "exp_avg_sq."}) {
      for (Slot s : store.trainableSlots()) {
        Tensor t = state.get(role + s.name());
        if (t == null) {
          throw new EngineException(
              "optimizer state has no \""
                  + role
                  + s.name()
                  + "\"; it was saved for another model or method");
        }
        if (!Arrays.equals(t.shape(), s.shape())) {
          throw new EngineException(
              "optimizer state \""
                  + role
                  + s.name()
                  + "\" has shape "
                  + Arrays.toString(t.shape())
                  + ", the parameter "
                  + Arrays.toString(s.shape()));
        }
        store.copyFromHost((role.equals("exp_avg.") ? m : v).view(s.name()), t);
      }
    }
    this.step = stepCount;
  }
}
