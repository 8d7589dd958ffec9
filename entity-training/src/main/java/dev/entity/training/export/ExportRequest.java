package dev.entity.training.export;

import dev.entity.core.EntityException;
import dev.entity.engine.format.gguf.GgmlType;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything one export needs: the source (a full model folder, or a PEFT adapter with its base),
 * the formats, the options of each, and the model card's fields.
 *
 * @param formats what to write
 * @param modelPath a full Hugging Face model folder (full fine-tuning), or null
 * @param adapterPath a PEFT adapter folder (LoRA/QLoRA), or null
 * @param basePath the base model folder of the adapter, or null
 * @param baseModelName the base model's Hub id or name for the card and adapter config, or null
 * @param mergeAdapter fold the adapter into the base for the Hugging Face folder and GGUF
 * @param dtype dtype of written Hugging Face weights
 * @param quantization GGUF type of matrices
 * @param outputPath the export folder
 * @param card model card fields (modelId, license, tags, datasets, description, training, dataset
 *     summary, metrics; the GGUF and Ollama names are filled in here)
 * @param systemPrompt Ollama SYSTEM, or null
 * @param ollamaParameters Ollama PARAMETERs (temperature, top_p, num_ctx, ...)
 * @param ollamaModelName the name for {@code ollama create}
 * @param runOllama run {@code ollama create} when Ollama is on the PATH
 * @param quantizedBase the NF4 setting when the adapter comes from a QLoRA run (merged into the
 *     NF4-dequantized BF16 base), else null
 */
public record ExportRequest(
    Set<ExportFormat> formats,
    Path modelPath,
    Path adapterPath,
    Path basePath,
    String baseModelName,
    boolean mergeAdapter,
    DType dtype,
    GgmlType quantization,
    Path outputPath,
    ModelCard card,
    String systemPrompt,
    Map<String, ? extends Number> ollamaParameters,
    String ollamaModelName,
    boolean runOllama,
    Nf4Config quantizedBase) {

  public ExportRequest {
    formats = formats.isEmpty() ? EnumSet.noneOf(ExportFormat.class) : EnumSet.copyOf(formats);
    if (formats.isEmpty()) {
      throw new EntityException(
          "export_format: name at least one of huggingface, safetensors,"
              + " adapter, gguf, ollama");
    }
    ollamaParameters = ollamaParameters == null ? Map.of() : Map.copyOf(ollamaParameters);
    if ((modelPath == null) == (adapterPath == null)) {
      throw new EntityException(
          "export: give either model_path (a full model folder) or adapter_path with"
              + " base_model_path (a LoRA adapter), not "
              + (modelPath == null ? "neither" : "both"));
    }
    if (adapterPath != null && basePath == null) {
      throw new EntityException(
          "base_model_path: the adapter " + adapterPath + " needs the folder of its base model");
    }
    for (Path p : List.of(modelPath == null ? basePath : modelPath)) {
      if (!Files.isRegularFile(p.resolve("config.json"))) {
        throw new EntityException(p + ": no config.json; give a Hugging Face model folder");
      }
    }
    if (adapterPath == null && formats.contains(ExportFormat.ADAPTER)) {
      throw new EntityException(
          "export_format: adapter needs a LoRA run (adapter_path); this model was fully fine-tuned");
    }
    OllamaRunner.checkName(ollamaModelName);
  }

  /** Whether the source is a LoRA adapter. */
  public boolean isAdapter() {
    return adapterPath != null;
  }
}
