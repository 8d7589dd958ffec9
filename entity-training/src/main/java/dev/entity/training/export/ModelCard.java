// Convention: every YAML value in the front matter is a double-quoted scalar with every character
// that YAML could read as structure escaped (quotes, backslashes, line breaks including U+0085,
// U+2028, U+2029, and all control characters), so no user string can end the front matter or add
// a key.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The model card ({@code README.md}) of an exported model, as the Hugging Face Hub reads it: YAML
 * front matter (base_model, library_name, tags, datasets, license, pipeline_tag) and a Markdown
 * body with the description, training configuration, dataset summary, evaluation metrics, usage
 * with transformers/PEFT, llama.cpp and Ollama, and limitations.
 *
 * @param modelId the repository id or folder name the usage examples load
 * @param baseModel the base model's Hub id or folder name (null: none, a model trained from it)
 * @param adapter whether the folder is a PEFT adapter (library_name peft) or a full model
 * @param license license identifier, e.g. apache-2.0 (null: omitted)
 * @param tags extra tags
 * @param datasets dataset ids or names
 * @param description free text for the top of the card
 * @param training training settings to list (name to value)
 * @param datasetSummary one paragraph about the data, or null
 * @param metrics evaluation metrics (name to value)
 * @param ggufFile the GGUF file name when one was exported, or null
 * @param ollamaName the Ollama model name when a Modelfile was written, or null
 */
public record ModelCard(
    String modelId,
    String baseModel,
    boolean adapter,
    String license,
    List<String> tags,
    List<String> datasets,
    String description,
    Map<String, ?> training,
    String datasetSummary,
    Map<String, Double> metrics,
    String ggufFile,
    String ollamaName) {

  public ModelCard {
    tags = tags == null ? List.of() : List.copyOf(tags);
    datasets = datasets == null ? List.of() : List.copyOf(datasets);
    training = training == null ? Map.of() : new TreeMap<>(training);
    metrics = metrics == null ? Map.of() : new TreeMap<>(metrics);
  }

  /** Writes {@code folder/README.md}. */
  public Path write(Path folder) {
    Path file = folder.resolve("README.md");
    try {
      Files.createDirectories(folder);
      Files.writeString(file, render());
    } catch (IOException e) {
      throw new EntityException("cannot write the model card " + file + ": " + e.getMessage(), e);
    }
    return file;
  }

  /** The card's text. */
  public String render() {
    StringBuilder b = new StringBuilder("---\n");
    if (baseModel != null) {
      b.append("base_model: ").append(yaml(baseModel)).append('\n');
    }
    b.append("library_name: ").append(yaml(adapter ? "peft" : "transformers")).append('\n');
    if (license != null && !license.isBlank()) {
      b.append("license: ").append(yaml(license)).append('\n');
    }
    b.append("pipeline_tag: ").append(yaml("text-generation")).append('\n');
    b.append("tags:\n");
    List<String> allTags = new java.util.ArrayList<>(List.of("entity-training"));
    allTags.add(adapter ? "lora" : "fine-tuned");
    if (ggufFile != null) {
      allTags.add("gguf");
    }
    tags.stream().filter(t -> !allTags.contains(t)).forEach(allTags::add);
    allTags.forEach(t -> b.append("- ").append(yaml(t)).append('\n'));
    if (!datasets.isEmpty()) {
      b.append("datasets:\n");
      datasets.forEach(d -> b.append("- ").append(yaml(d)).append('\n'));
    }
    b.append("---\n\n");
    b.append("# ").append(line(modelId)).append("\n\n");
    if (description != null && !description.isBlank()) {
      b.append(description.strip()).append("\n\n");
    }
    b.append(
        adapter
            ? "A LoRA adapter (PEFT format) for `" + code(baseModel) + "`"
            : "A fine-tuned model"
                + (baseModel == null ? "" : " based on `" + code(baseModel) + "`"));
    b.append(", trained with entity-training.\n\n");
    if (!training.isEmpty()) {
      b.append("## Training configuration\n\n| setting | value |\n|---|---|\n");
      training.forEach(
          (k, v) ->
              b.append("| ")
                  .append(cell(k))
                  .append(" | ")
                  .append(cell(String.valueOf(v)))
                  .append(" |\n"));
      b.append('\n');
    }
    if (datasetSummary != null && !datasetSummary.isBlank()) {
      b.append("## Dataset\n\n").append(datasetSummary.strip()).append("\n\n");
    }
    b.append("## Evaluation\n\n");
    if (metrics.isEmpty()) {
      b.append("No evaluation was recorded for this run.\n\n");
    } else {
      b.append("| metric | value |\n|---|---|\n");
      metrics.forEach(
          (k, v) ->
              b.append("| ")
                  .append(cell(k))
                  .append(" | ")
                  .append(String.format(Locale.ROOT, "%.4f", v))
                  .append(" |\n"));
      b.append('\n');
    }
    usage(b);
    b.append("## Limitations\n\n")
        .append(
            "This model was fine-tuned on a specific dataset and inherits the limitations and"
                + " biases of its base model and of that data. It can produce wrong or harmful"
                + " text; evaluate it for your use before deploying it.")
        .append(
            ggufFile != null
                ? " Quantized GGUF files (q8_0, q4_0, q5_1) trade some accuracy for size."
                : "")
        .append('\n');
    return b.toString();
  }

  private void usage(StringBuilder b) {
    String id = code(modelId);
    b.append("## Usage\n\n### Transformers")
        .append(adapter ? " + PEFT" : "")
        .append("\n\n```python\n");
    if (adapter) {
      b.append("from peft import AutoPeftModelForCausalLM\n")
          .append("from transformers import AutoTokenizer\n\n")
          .append("model = AutoPeftModelForCausalLM.from_pretrained(\"")
          .append(py(modelId))
          .append("\")\n")
          .append("tokenizer = AutoTokenizer.from_pretrained(\"")
          .append(py(baseModel == null ? modelId : baseModel))
          .append("\")\n");
    } else {
      b.append("from transformers import AutoModelForCausalLM, AutoTokenizer\n\n")
          .append("model = AutoModelForCausalLM.from_pretrained(\"")
          .append(py(modelId))
          .append("\")\n")
          .append("tokenizer = AutoTokenizer.from_pretrained(\"")
          .append(py(modelId))
          .append("\")\n");
    }
    b.append("messages = [{\"role\": \"user\", \"content\": \"Hello!\"}]\n")
        .append("inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True,")
        .append(" return_tensors=\"pt\")\n")
        .append("print(tokenizer.decode(model.generate(inputs, max_new_tokens=64)[0]))\n```\n\n");
    if (ggufFile != null) {
      b.append("### llama.cpp\n\n```sh\nllama-cli -m ")
          .append(code(ggufFile))
          .append(" -cnv\n```\n\n");
    }
    if (ollamaName != null) {
      b.append("### Ollama\n\n```sh\nollama create ")
          .append(code(ollamaName))
          .append(" -f Modelfile\nollama run ")
          .append(code(ollamaName))
          .append("\n```\n\n");
    }
    if (!id.equals(modelId)) {
      b.append("(The model id above had characters removed for these examples.)\n\n");
    }
  }

  /** A YAML double-quoted scalar that holds {@code s} exactly. */
  static String yaml(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20
              || c == 0x7f
              || c == 0x85
              || c == 0x2028
              || c == 0x2029
              || c == 0xfeff
              || Character.isSurrogate(c) && !validSurrogate(s, i)) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private static boolean validSurrogate(String s, int i) {
    char c = s.charAt(i);
    return Character.isHighSurrogate(c)
        ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
        : i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }

  /** One line of Markdown: line breaks become spaces. */
  private static String line(String s) {
    return s == null ? "" : s.replaceAll("[\\r\\n\\u0085\\u2028\\u2029]+", " ").strip();
  }

  /** A table cell: one line, pipes escaped. */
  private static String cell(String s) {
    return line(s).replace("|", "\\|");
  }

  /** Text for inside code spans and shell examples: one line, no backticks or quotes. */
  private static String code(String s) {
    return line(s).replaceAll("[`\"'$\\\\;&|<>]", "");
  }

  /** A Python string literal's body. */
  private static String py(String s) {
    return code(s);
  }
}
