// Convention: target modules follow PEFT's matching rule: a target names a module when it equals
// the module's path inside the block or is a dot-separated suffix of it ("c_proj" matches both
// GPT-2 projections of that name, "attn.c_proj" only the attention one); "all-linear" is every
// linear layer of a block (never the LM head, as in PEFT).
package dev.entity.engine.lora;

import dev.entity.engine.EngineException;
import dev.entity.engine.model.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The LoRA adapter settings, as in PEFT's {@code LoraConfig}: rank r, alpha, dropout on the adapter
 * input, target modules (PEFT names such as {@code q_proj}, or {@code all-linear}), rsLoRA (scale
 * alpha/sqrt(r) instead of alpha/r) and the seed that makes the initialization of A reproducible.
 */
public record LoraConfig(
    int rank,
    double alpha,
    double dropout,
    List<String> targetModules,
    boolean useRslora,
    long seed) {

  /** PEFT's shorthand for every linear layer of the decoder blocks. */
  public static final String ALL_LINEAR = "all-linear";

  public LoraConfig {
    if (rank <= 0) {
      throw new EngineException("lora r must be a positive integer, got " + rank);
    }
    if (!(alpha > 0)) {
      throw new EngineException("lora_alpha must be positive, got " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new EngineException("lora_dropout must be in [0, 1), got " + dropout);
    }
    if (targetModules == null || targetModules.isEmpty()) {
      throw new EngineException(
          "target_modules is empty; name modules such as q_proj, v_proj, or use all-linear");
    }
    targetModules = List.copyOf(targetModules);
  }

  /** The factor on B A x: alpha / r, or alpha / sqrt(r) with rsLoRA. */
  public float scale() {
    return (float) (useRslora ? alpha / Math.sqrt(rank) : alpha / rank);
  }

  /**
   * The module paths inside one block (as in {@link ModelConfig#layerLinears()}) that get an
   * adapter; an {@link EngineException} names any target that matches nothing and lists the valid
   * names.
   */
  public Set<String> targetedPaths(ModelConfig config) {
    List<ModelConfig.LayerLinear> linears = config.layerLinears();
    Set<String> paths = new LinkedHashSet<>();
    List<String> unmatched = new ArrayList<>();
    for (String target : targetModules) {
      boolean matched = false;
      for (ModelConfig.LayerLinear l : linears) {
        if (target.equals(ALL_LINEAR) || matches(l.path(), target)) {
          paths.add(l.path());
          matched = true;
        }
      }
      if (!matched) {
        unmatched.add(target);
      }
    }
    if (!unmatched.isEmpty()) {
      throw new EngineException(
          "target_modules "
              + unmatched
              + " match no layer of this "
              + config.modelType()
              + " model; valid names: "
              + String.join(", ", config.architecture().linearModuleNames())
              + " (or "
              + ALL_LINEAR
              + ")");
    }
    return paths;
  }

  /** The PEFT names of the targeted modules, as adapter_config.json lists them. */
  public List<String> resolvedModuleNames(ModelConfig config) {
    Set<String> paths = targetedPaths(config);
    Set<String> names = new LinkedHashSet<>();
    for (ModelConfig.LayerLinear l : config.layerLinears()) {
      if (paths.contains(l.path())) {
        names.add(l.name());
      }
    }
    return List.copyOf(names);
  }

  private static boolean matches(String path, String target) {
    return path.equals(target) || path.endsWith("." + target);
  }

  /**
   * PEFT's saved name of lora_A of the module at {@code modulePath} (e.g.
   * model.layers.0.mlp.up_proj).
   */
  public static String loraAName(String modulePath) {
    return "base_model.model." + modulePath + ".lora_A.weight";
  }

  /** PEFT's saved name of lora_B of the module at {@code modulePath}. */
  public static String loraBName(String modulePath) {
    return "base_model.model." + modulePath + ".lora_B.weight";
  }
}
