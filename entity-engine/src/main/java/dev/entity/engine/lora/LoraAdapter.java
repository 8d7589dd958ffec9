// Convention: files are exactly what PEFT's save_pretrained writes for a LoRA adapter:
// adapter_model.safetensors with names base_model.model.<module>.lora_{A,B}.weight and an
// adapter_config.json that PEFT's LoraConfig loads; nothing is renamed on the way in or out.
package dev.entity.engine.lora;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.EngineException;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Saves and loads LoRA adapters as PEFT folders ({@code adapter_model.safetensors} + {@code
 * adapter_config.json}), so an adapter trained here loads with {@code PeftModel.from_pretrained}
 * and one trained with PEFT loads here.
 */
public final class LoraAdapter {

  public static final String WEIGHTS = "adapter_model.safetensors";
  public static final String CONFIG = "adapter_config.json";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LoraAdapter() {}

  /** Writes the decoder's adapters (F32) and their config to {@code folder}. */
  public static void save(Decoder d, Path folder, String baseModelNameOrPath) {
    LoraConfig lora = requireLora(d);
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new EngineException(
          "cannot create adapter folder " + folder + ": " + e.getMessage(), e);
    }
    ParameterStore store = d.store();
    try (Arena arena = Arena.ofConfined()) {
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (String module : d.loraModulePaths()) {
        for (String name : List.of(LoraConfig.loraAName(module), LoraConfig.loraBName(module))) {
          tensors.put(name, store.toHost(store.param(name), arena));
        }
      }
      SafetensorsWriter.write(folder.resolve(WEIGHTS), tensors, Map.of());
    }
    String json = configJson(lora, d, baseModelNameOrPath);
    try {
      Path tmp = folder.resolve(CONFIG + ".tmp");
      Files.writeString(tmp, json);
      Files.move(tmp, folder.resolve(CONFIG), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new EngineException(
          "cannot write " + folder.resolve(CONFIG) + ": " + e.getMessage(), e);
    }
  }

  static String configJson(LoraConfig lora, Decoder d, String baseModelNameOrPath) {
    ObjectNode o = JSON.createObjectNode();
    o.putObject("alpha_pattern");
    o.putNull("auto_mapping");
    if (baseModelNameOrPath == null) {
      o.putNull("base_model_name_or_path");
    } else {
      o.put("base_model_name_or_path", baseModelNameOrPath);
    }
    o.put("bias", "none");
    o.put("fan_in_fan_out", d.config().architecture() == Architecture.GPT2);
    o.put("inference_mode", true);
    o.put("init_lora_weights", true);
    o.putNull("layers_pattern");
    o.putNull("layers_to_transform");
    if (lora.alpha() == Math.rint(lora.alpha()) && Math.abs(lora.alpha()) < 1e15) {
      o.put("lora_alpha", (long) lora.alpha());
    } else {
      o.put("lora_alpha", lora.alpha());
    }
    o.put("lora_dropout", lora.dropout());
    o.putNull("modules_to_save");
    o.put("peft_type", "LORA");
    o.put("r", lora.rank());
    o.putObject("rank_pattern");
    o.putNull("revision");
    ArrayNode targets = o.putArray("target_modules");
    new TreeSet<>(lora.resolvedModuleNames(d.config())).forEach(targets::add);
    o.put("task_type", "CAUSAL_LM");
    o.put("use_dora", false);
    o.put("use_rslora", lora.useRslora());
    try {
      return JSON.writeValueAsString(o) + "\n";
    } catch (JacksonException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads {@code adapter_config.json} of a PEFT LoRA folder; {@code seed} is ours (PEFT does not
   * record one). Errors name the file and field.
   */
  public static LoraConfig readConfig(Path folder, long seed) {
    Path file = folder.resolve(CONFIG);
    if (!Files.isRegularFile(file)) {
      throw new EngineException(
          file + ": not found; a PEFT adapter folder holds " + CONFIG + " and " + WEIGHTS);
    }
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (JacksonException e) {
      throw new EngineException(file + ": invalid JSON: " + e.getOriginalMessage());
    } catch (IOException | RuntimeException e) {
      throw new EngineException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new EngineException(file + ": expected a JSON object as PEFT writes");
    }
    String type = text(root, "peft_type", file);
    if (!type.equals("LORA")) {
      throw new EngineException(
          file + ": peft_type is " + type + "; only LORA adapters are supported");
    }
    if (root.hasNonNull("use_dora") && root.get("use_dora").asBoolean()) {
      throw new EngineException(file + ": use_dora is true; DoRA adapters are not supported");
    }
    if (root.hasNonNull("bias") && !root.get("bias").asText().equals("none")) {
      throw new EngineException(
          file + ": bias is " + root.get("bias") + "; only \"none\" is supported");
    }
    JsonNode t = root.get("target_modules");
    List<String> targets = new ArrayList<>();
    if (t != null && t.isArray()) {
      t.forEach(n -> targets.add(n.asText()));
    } else if (t != null && t.isTextual()) {
      targets.add(t.asText());
    } else {
      throw new EngineException(
          file + ": target_modules must be a list of module names or \"all-linear\"");
    }
    try {
      return new LoraConfig(
          intField(root, "r", file),
          number(root, "lora_alpha", file),
          root.hasNonNull("lora_dropout") ? number(root, "lora_dropout", file) : 0,
          targets,
          root.hasNonNull("use_rslora") && root.get("use_rslora").asBoolean(),
          seed);
    } catch (EngineException e) {
      throw new EngineException(file + ": " + e.getMessage());
    }
  }

  /**
   * Loads the adapter tensors of {@code folder} into {@code d}, whose LoRA settings must have the
   * same rank and targets; every adapter tensor must be present with its shape and nothing else.
   */
  public static void load(Decoder d, Path folder) {
    requireLora(d);
    Path file = folder.resolve(WEIGHTS);
    if (!Files.isRegularFile(file)) {
      throw new EngineException(file + ": not found; a PEFT adapter folder holds " + WEIGHTS);
    }
    ParameterStore store = d.store();
    try (SafetensorsFile src = SafetensorsFile.open(file)) {
      List<String> expected = new ArrayList<>();
      for (String module : d.loraModulePaths()) {
        expected.add(LoraConfig.loraAName(module));
        expected.add(LoraConfig.loraBName(module));
      }
      List<String> missing = expected.stream().filter(n -> !src.contains(n)).toList();
      List<String> unexpected = src.names().stream().filter(n -> !expected.contains(n)).toList();
      if (!missing.isEmpty() || !unexpected.isEmpty()) {
        throw new EngineException(
            file
                + ": adapter tensors do not match this model and adapter_config.json"
                + (missing.isEmpty() ? "" : "; missing " + missing.size() + ": " + first(missing))
                + (unexpected.isEmpty()
                    ? ""
                    : "; unexpected " + unexpected.size() + ": " + first(unexpected)));
      }
      for (String name : expected) {
        long[] shape = src.entry(name).shape();
        if (!Arrays.equals(shape, store.slot(name).shape())) {
          throw new EngineException(
              file
                  + ": tensor \""
                  + name
                  + "\" has shape "
                  + Arrays.toString(shape)
                  + " but r and the base model need "
                  + Arrays.toString(store.slot(name).shape()));
        }
        Tensor t = src.tensor(name);
        if (!t.dtype().isFloat()) {
          throw new EngineException(file + ": tensor \"" + name + "\" is not a float tensor");
        }
        store.copyFromHost(name, t);
      }
    }
  }

  /**
   * Opens a base model folder with the adapter of {@code adapterFolder} on top (config from its
   * adapter_config.json), e.g. to resume LoRA training or to evaluate or merge a saved adapter.
   */
  public static Decoder open(
      dev.entity.engine.backend.Backend backend,
      Path baseFolder,
      Path adapterFolder,
      Decoder.Options options) {
    LoraConfig lora = readConfig(adapterFolder, options.lora() == null ? 0 : options.lora().seed());
    Decoder d =
        Decoder.load(
            backend,
            baseFolder,
            new Decoder.Options(
                lora, options.frozenDType(), options.gradientCheckpointing(), options.nf4()));
    try {
      load(d, adapterFolder);
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private static LoraConfig requireLora(Decoder d) {
    if (d.options().lora() == null) {
      throw new EngineException("this model is trained without LoRA; it has no adapter");
    }
    return d.options().lora();
  }

  private static String first(List<String> names) {
    return String.join(", ", names.subList(0, Math.min(6, names.size())))
        + (names.size() > 6 ? ", ..." : "");
  }

  private static String text(JsonNode root, String key, Path file) {
    JsonNode n = root.get(key);
    if (n == null || !n.isTextual()) {
      throw new EngineException(file + ": \"" + key + "\" is missing or not a string");
    }
    return n.asText();
  }

  private static double number(JsonNode root, String key, Path file) {
    JsonNode n = root.get(key);
    if (n == null || !n.isNumber()) {
      throw new EngineException(file + ": \"" + key + "\" is missing or not a number");
    }
    return n.asDouble();
  }

  private static int intField(JsonNode root, String key, Path file) {
    JsonNode n = root.get(key);
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new EngineException(file + ": \"" + key + "\" is missing or not an integer");
    }
    return n.asInt();
  }
}
