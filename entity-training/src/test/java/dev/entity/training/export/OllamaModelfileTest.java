package dev.entity.training.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.ChatTemplateFamily;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OllamaModelfileTest {

  /** Hugging Face's Llama 2 chat template (whitespace-controlled). */
  static final String LLAMA2 =
      "{%- if messages[0]['role'] == 'system' %}{%- set loop_messages = messages[1:] %}"
          + "{%- set system_message = messages[0]['content'] %}{%- else %}"
          + "{%- set loop_messages = messages %}{%- set system_message = false %}{%- endif %}"
          + "{%- for message in loop_messages %}"
          + "{%- if loop.index0 == 0 and system_message != false %}"
          + "{%- set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n'"
          + " + message['content'] %}"
          + "{%- else %}{%- set content = message['content'] %}{%- endif %}"
          + "{%- if message['role'] == 'user' %}{{- bos_token + '[INST] ' + content + ' [/INST]' }}"
          + "{%- elif message['role'] == 'assistant' %}{{- ' ' + content + ' ' + eos_token }}"
          + "{%- endif %}{%- endfor %}";

  /** Zephyr's template as transformers renders it (each turn ends with EOS and a newline). */
  static final String ZEPHYR =
      "{%- for message in messages %}"
          + "{%- if message['role'] == 'user' %}{{- '<|user|>\\n' }}"
          + "{%- elif message['role'] == 'assistant' %}{{- '<|assistant|>\\n' }}"
          + "{%- else %}{{- '<|system|>\\n' }}{%- endif %}"
          + "{{- message['content'] + eos_token + '\\n' }}"
          + "{%- endfor %}{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}";

  /** Gemma's template: model instead of assistant, no system role. */
  static final String GEMMA =
      "{{- bos_token }}{%- for message in messages %}"
          + "{%- if message['role'] == 'system' %}"
          + "{{- raise_exception('System role not supported') }}{%- endif %}"
          + "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
          + "{{- '<start_of_turn>' + role + '\\n' + message['content'] + '<end_of_turn>\\n' }}"
          + "{%- endfor %}{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}"
          + "{%- endif %}";

  record Tokens(String bos, String eos) {}

  static Tokens tokens(ChatTemplateFamily f) {
    return switch (f) {
      case LLAMA3 -> new Tokens("<|begin_of_text|>", "<|end_of_text|>");
      case CHATML -> new Tokens(null, "<|im_end|>");
      case MISTRAL, LLAMA2, ALPACA -> new Tokens("<s>", "</s>");
      case ZEPHYR -> new Tokens("<s>", "</s>");
      case GEMMA -> new Tokens("<bos>", "<eos>");
    };
  }

  static ChatTemplate jinja(ChatTemplateFamily f) {
    String source =
        switch (f) {
          case LLAMA3 -> ChatTemplate.builtInSource("llama3");
          case CHATML -> ChatTemplate.builtInSource("chatml");
          case MISTRAL -> ChatTemplate.builtInSource("mistral");
          case ALPACA -> ChatTemplate.builtInSource("alpaca");
          case LLAMA2 -> LLAMA2;
          case ZEPHYR -> ZEPHYR;
          case GEMMA -> GEMMA;
        };
    Tokens t = tokens(f);
    return ChatTemplate.of(f.name().toLowerCase(), source, t.bos(), t.eos());
  }

  /** More conversations than the export-time check uses: long, multi-line, unicode. */
  static List<List<ChatMessage>> conversations() {
    List<List<ChatMessage>> all = new ArrayList<>(OllamaModelfile.samples());
    all.add(
        List.of(
            ChatMessage.system("Line one\nLine two"),
            ChatMessage.user("Ünïcödé ✓ { braces } <b>"),
            ChatMessage.assistant("Multi\n\nparagraph"),
            ChatMessage.user("again"),
            ChatMessage.assistant("ok"),
            ChatMessage.user("last")));
    all.add(List.of(ChatMessage.user("a"), ChatMessage.assistant("b"), ChatMessage.user("c")));
    return all;
  }

  @ParameterizedTest
  @EnumSource(ChatTemplateFamily.class)
  void everyFamilysTemplateRendersExactlyTheTrainingPrompt(ChatTemplateFamily family) {
    ChatTemplate jinja = jinja(family);
    assertThat(jinja.family()).contains(family);
    Tokens t = tokens(family);
    GoTemplate go = GoTemplate.parse(OllamaTemplates.template(family, t.bos(), t.eos()));
    int compared = 0;
    for (List<ChatMessage> chat : conversations()) {
      String expected;
      try {
        expected = jinja.render(chat, true);
      } catch (RuntimeException refusedByTemplate) {
        // only Gemma refuses (its system turn)
        assertThat(family).as(refusedByTemplate.getMessage()).isEqualTo(ChatTemplateFamily.GEMMA);
        continue;
      }
      if (t.bos() != null && expected.startsWith(t.bos())) {
        expected = expected.substring(t.bos().length());
      }
      assertThat(go.render(OllamaModelfile.ollamaData(chat)))
          .as(chat.toString())
          .isEqualTo(expected);
      compared++;
    }
    assertThat(compared).isGreaterThanOrEqualTo(3);
    OllamaModelfile.checkAgreement(
        jinja, OllamaTemplates.template(family, t.bos(), t.eos()), t.bos());
  }

  @ParameterizedTest
  @EnumSource(ChatTemplateFamily.class)
  void stopParametersAreTheTemplatesEndOfTurnStrings(ChatTemplateFamily family, @TempDir Path dir)
      throws Exception {
    ChatTemplate jinja = jinja(family);
    Tokens t = tokens(family);
    OllamaModelfile.Result r =
        OllamaModelfile.write(
            dir,
            jinja,
            t.bos(),
            t.eos(),
            new OllamaModelfile.Spec(
                dir.resolve("model.gguf"), null, "Be brief.", Map.of("temperature", 0.7)));
    List<String> stops =
        r.text()
            .lines()
            .filter(l -> l.startsWith("PARAMETER stop "))
            .map(l -> l.substring("PARAMETER stop \"".length(), l.length() - 1))
            .toList();
    assertThat(stops).isEqualTo(jinja.endOfTurnStrings()).isNotEmpty();
    assertThat(r.text())
        .contains(
            "FROM ./model.gguf\n", "SYSTEM \"\"\"Be brief.\"\"\"\n", "PARAMETER temperature 0.7\n");
    assertThat(Files.readString(r.file())).isEqualTo(r.text());
    String template =
        r.text()
            .substring(
                r.text().indexOf("TEMPLATE \"\"\"") + 12,
                r.text().indexOf("\"\"\"\n", r.text().indexOf("TEMPLATE") + 12));
    assertThat(template).isEqualTo(OllamaTemplates.template(family, t.bos(), t.eos()));
  }

  @Test
  void adapterModelfileHasFromAndAdapter(@TempDir Path dir) {
    String text =
        OllamaModelfile.text(
            dir,
            jinja(ChatTemplateFamily.CHATML),
            null,
            "<|im_end|>",
            new OllamaModelfile.Spec(
                dir.resolve("base.gguf"), dir.resolve("adapter.gguf"), null, Map.of()));
    assertThat(text)
        .contains("FROM ./base.gguf\nADAPTER ./adapter.gguf\n")
        .doesNotContain("SYSTEM");
  }

  @Test
  void unknownTemplateWritesNoModelfile(@TempDir Path dir) {
    ChatTemplate odd =
        ChatTemplate.of(
            "custom", "{% for m in messages %}<<{{ m['content'] }}>>{% endfor %}", null, "</s>");
    assertThatThrownBy(
            () ->
                OllamaModelfile.write(
                    dir,
                    odd,
                    null,
                    "</s>",
                    new OllamaModelfile.Spec(dir.resolve("m.gguf"), null, null, Map.of())))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("no Modelfile written")
        .hasMessageContaining("custom");
    assertThat(dir.resolve("Modelfile")).doesNotExist();
  }

  @Test
  void aTemplateOfAKnownFamilyThatRendersDifferentlyIsRefused(@TempDir Path dir) {
    // ChatML markers, but a blank line after each turn: Ollama's ChatML TEMPLATE would differ.
    ChatTemplate variant =
        ChatTemplate.of(
            "variant",
            "{%- for m in messages %}{{- '<|im_start|>' + m['role'] + '\\n' + m['content']"
                + " + '<|im_end|>\\n\\n' }}{%- endfor %}"
                + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
            null,
            "<|im_end|>");
    assertThatThrownBy(
            () ->
                OllamaModelfile.write(
                    dir,
                    variant,
                    null,
                    "<|im_end|>",
                    new OllamaModelfile.Spec(dir.resolve("m.gguf"), null, null, Map.of())))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("does not reproduce")
        .hasMessageContaining("training template:");
    assertThat(dir.resolve("Modelfile")).doesNotExist();
  }

  @Test
  void hostileSystemPromptAndParametersAreRefused(@TempDir Path dir) {
    ChatTemplate chatml = jinja(ChatTemplateFamily.CHATML);
    assertThatThrownBy(
            () ->
                OllamaModelfile.text(
                    dir,
                    chatml,
                    null,
                    "<|im_end|>",
                    new OllamaModelfile.Spec(
                        dir.resolve("m.gguf"), null, "x\"\"\"\nFROM evil", Map.of())))
        .hasMessageContaining("\"\"\"");
    assertThatThrownBy(
            () -> new OllamaModelfile.Spec(dir.resolve("m.gguf"), null, null, Map.of("stop", 1)))
        .hasMessageContaining("not supported");
  }
}
