// Convention: a Modelfile is written only after its TEMPLATE has been rendered (by GoTemplate)
// for sample conversations and found to give exactly the training template's text; any difference
// is an error that shows both texts, so a Modelfile that would make the model never stop is never
// written.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.ChatTemplateFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds an Ollama {@code Modelfile}: {@code FROM} the exported GGUF (or {@code FROM} a base GGUF
 * plus {@code ADAPTER} a GGUF LoRA), a {@code TEMPLATE} derived from the training chat template's
 * family ({@link OllamaTemplates}), one {@code PARAMETER stop} per end-of-turn string, {@code
 * SYSTEM} when configured and other parameters (temperature, top_p, num_ctx, ...).
 *
 * <p>Limitations: Ollama's Go templates have no trim, so Jinja templates that trim message content
 * (Llama 3, Llama 2) agree only for messages without surrounding whitespace; Gemma has no system
 * role, so a SYSTEM prompt is sent as a turn the model never saw in training.
 */
public final class OllamaModelfile {

  /** Modelfile PARAMETERs that take one number (stop is written from the template). */
  public static final Set<String> NUMERIC_PARAMETERS =
      Set.of(
          "temperature",
          "top_p",
          "top_k",
          "min_p",
          "num_ctx",
          "num_predict",
          "repeat_penalty",
          "repeat_last_n",
          "seed");

  /** What to write. */
  public record Spec(
      Path from, Path adapter, String system, Map<String, ? extends Number> parameters) {
    public Spec {
      parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
      for (String p : parameters.keySet()) {
        if (!NUMERIC_PARAMETERS.contains(p)) {
          throw new EntityException(
              "ollama parameter '"
                  + p
                  + "' is not supported; use one of "
                  + String.join(", ", NUMERIC_PARAMETERS.stream().sorted().toList()));
        }
      }
    }
  }

  /** The written Modelfile, its text, the chat family and its stop strings. */
  public record Result(Path file, String text, ChatTemplateFamily family, List<String> stops) {}

  private OllamaModelfile() {}

  /**
   * Writes {@code folder/Modelfile} for {@code template}; {@code bos}/{@code eos} are the
   * tokenizer's special token strings (may be null).
   *
   * @throws EntityException when the template's family is unknown or its TEMPLATE would render
   *     differently; no file is written then
   */
  public static Result write(
      Path folder, ChatTemplate template, String bos, String eos, Spec spec) {
    String text = text(folder, template, bos, eos, spec);
    ChatTemplateFamily family = template.family().orElseThrow();
    Path file = folder.resolve("Modelfile");
    try {
      Files.createDirectories(folder);
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new EntityException("cannot write " + file + ": " + e.getMessage(), e);
    }
    return new Result(file, text, family, template.endOfTurnStrings());
  }

  /** The Modelfile's text (see {@link #write}); paths are written relative to {@code folder}. */
  public static String text(Path folder, ChatTemplate template, String bos, String eos, Spec spec) {
    ChatTemplateFamily family =
        template
            .family()
            .orElseThrow(
                () ->
                    new EntityException(
                        "ollama: no Modelfile written: the chat template of "
                            + template.name()
                            + " is not one Ollama templates are known for (llama3, chatml,"
                            + " mistral, llama2, zephyr, gemma, alpaca); a guessed TEMPLATE"
                            + " would make the model ramble or never stop. Write the TEMPLATE"
                            + " by hand, or train with a built-in template"));
    String go = OllamaTemplates.template(family, bos, eos);
    checkAgreement(template, go, bos);
    List<String> stops = template.endOfTurnStrings();
    StringBuilder m = new StringBuilder();
    m.append("# Written by entity-training from ")
        .append(template.name().replace('\n', ' '))
        .append(" (")
        .append(family.name().toLowerCase(Locale.ROOT))
        .append(" format)\n")
        .append(
            "# TEMPLATE checked to render exactly the training prompt; BOS is not in it because\n")
        .append(
            "# llama.cpp adds it from the GGUF. Ollama cannot trim message text: send messages\n")
        .append("# without leading/trailing whitespace for prompts identical to training.\n");
    m.append("FROM ").append(pathFor(folder, spec.from())).append('\n');
    if (spec.adapter() != null) {
      m.append("ADAPTER ").append(pathFor(folder, spec.adapter())).append('\n');
    }
    m.append("TEMPLATE \"\"\"").append(tripleQuoted(go, "TEMPLATE")).append("\"\"\"\n");
    if (spec.system() != null && !spec.system().isBlank()) {
      m.append("SYSTEM \"\"\"")
          .append(tripleQuoted(spec.system(), "system_prompt"))
          .append("\"\"\"\n");
    }
    for (String stop : stops) {
      m.append("PARAMETER stop ").append(quoted(stop)).append('\n');
    }
    new java.util.TreeMap<>(spec.parameters())
        .forEach((k, v) -> m.append("PARAMETER ").append(k).append(' ').append(v).append('\n'));
    return m.toString();
  }

  /** Sample conversations the TEMPLATE must render exactly as the Jinja template does. */
  static List<List<ChatMessage>> samples() {
    return List.of(
        List.of(ChatMessage.user("Hello there")),
        List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi")),
        List.of(
            ChatMessage.user("What is 2+2?"),
            ChatMessage.assistant("4"),
            ChatMessage.user("And 3+3?")),
        List.of(
            ChatMessage.system("Answer in French."),
            ChatMessage.user("Thanks"),
            ChatMessage.assistant("De rien"),
            ChatMessage.user("Bye")));
  }

  /**
   * Renders every sample conversation with the Jinja template (generation prompt on) and with
   * {@code goTemplate} as Ollama would; an {@link EntityException} shows the first difference.
   * Conversations the Jinja template itself refuses (e.g. a system turn for Gemma) are skipped.
   */
  public static void checkAgreement(ChatTemplate template, String goTemplate, String bos) {
    GoTemplate go = GoTemplate.parse(goTemplate);
    int compared = 0;
    for (List<ChatMessage> sample : samples()) {
      String jinja;
      try {
        jinja = template.render(sample, true);
      } catch (EngineException e) {
        continue;
      }
      if (bos != null && !bos.isEmpty() && jinja.startsWith(bos)) {
        jinja = jinja.substring(bos.length());
      }
      String ollama = go.render(ollamaData(sample));
      if (!jinja.equals(ollama)) {
        throw new EntityException(
            "ollama: no Modelfile written: the Ollama TEMPLATE for the "
                + template.family().map(Enum::name).orElse("?").toLowerCase(Locale.ROOT)
                + " format does not reproduce "
                + template.name()
                + " (the model would see prompts unlike its training)."
                + "\n  training template: "
                + visible(jinja)
                + "\n  ollama template:   "
                + visible(ollama));
      }
      compared++;
    }
    if (compared == 0) {
      throw new EntityException(
          "ollama: no Modelfile written: " + template.name() + " renders none of the sample chats");
    }
  }

  /** What Ollama passes a {@code .Messages} template: Messages, and System joined from them. */
  public static Map<String, Object> ollamaData(List<ChatMessage> messages) {
    List<Map<String, Object>> list = new ArrayList<>();
    List<String> system = new ArrayList<>();
    for (ChatMessage m : messages) {
      if (m.role() == ChatMessage.Role.SYSTEM) {
        system.add(m.content());
      }
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("Role", m.role().wireName());
      map.put("Content", m.content());
      list.add(map);
    }
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("System", String.join("\n\n", system));
    data.put("Messages", list);
    data.put("Prompt", "");
    data.put("Response", "");
    return data;
  }

  private static String pathFor(Path folder, Path target) {
    Path abs = target.toAbsolutePath().normalize();
    Path dir = folder.toAbsolutePath().normalize();
    String p = abs.startsWith(dir) ? "./" + dir.relativize(abs) : abs.toString();
    if (p.contains("\n") || p.contains("\"")) {
      throw new EntityException("ollama: the path " + p + " cannot be written in a Modelfile");
    }
    return p.replace('\\', '/');
  }

  private static String tripleQuoted(String s, String what) {
    if (s.contains("\"\"\"")) {
      throw new EntityException(
          "ollama: " + what + " contains \"\"\", which a Modelfile cannot hold; remove it");
    }
    if (s.endsWith("\"")) {
      throw new EntityException(
          "ollama: " + what + " ends with a double quote, which a Modelfile cannot hold");
    }
    return s;
  }

  private static String quoted(String stop) {
    if (stop.contains("\"") || stop.contains("\n")) {
      throw new EntityException(
          "ollama: the stop string "
              + visible(stop)
              + " holds a quote or newline; a Modelfile"
              + " PARAMETER cannot carry it");
    }
    return "\"" + stop + "\"";
  }

  static String visible(String s) {
    String shown = s.length() > 400 ? s.substring(0, 400) + "..." : s;
    return "\"" + shown.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") + "\"";
  }
}
