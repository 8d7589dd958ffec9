package dev.entity.training.export;

import dev.entity.core.EntityException;
import java.util.Arrays;
import java.util.Locale;

/**
 * What an export writes: a Hugging Face folder ({@code safetensors} names the same folder, whose
 * weights are safetensors), a PEFT adapter, a GGUF file, or an Ollama Modelfile (with its GGUF).
 */
public enum ExportFormat {
  HUGGINGFACE,
  SAFETENSORS,
  ADAPTER,
  GGUF,
  OLLAMA;

  /** The name used in configs and on the command line. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The format for a config name, or an error listing the choices. */
  public static ExportFormat parse(String name) {
    for (ExportFormat f : values()) {
      if (f.configName().equals(name == null ? "" : name.trim().toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    throw new EntityException(
        "export_format: '"
            + name
            + "' is not one of "
            + String.join(", ", Arrays.stream(values()).map(ExportFormat::configName).toList()));
  }
}
