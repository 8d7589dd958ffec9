package dev.entity.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Rendering of built-in and real-model chat templates, and the Python-isms they rely on. */
class ChatTemplateTest {

  static final String LLAMA3 =
      "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content ="
          + " '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] |"
          + " trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{%"
          + " endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{"
          + " '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

  static final String QWEN2 =
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{"
          + " '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>'"
          + " + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if"
          + " add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  static final String MISTRAL =
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') !="
          + " (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate"
          + " user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{"
          + " '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{"
          + " message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant"
          + " roles are supported!') }}{% endif %}{% endfor %}";

  static final String ZEPHYR =
      "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' +"
          + " message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{"
          + " '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] =="
          + " 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif"
          + " %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{%"
          + " endfor %}";

  static final String GEMMA =
      "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not"
          + " supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user')"
          + " != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate"
          + " user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant')"
          + " %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{"
          + " '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{%"
          + " endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

  static final List<ChatMessage> CONVERSATION =
      List.of(
          ChatMessage.system("Be brief."),
          ChatMessage.user("What is 2+2?"),
          ChatMessage.assistant("4."),
          ChatMessage.user("And 3+3?"),
          ChatMessage.assistant("6, of course."));

  static final List<ChatMessage> NO_SYSTEM = CONVERSATION.subList(1, CONVERSATION.size());

  static Tokenizer fixture(String kind) {
    try {
      return Tokenizer.load(
          Path.of(
                  ChatTemplateTest.class
                      .getResource("/fixtures/tokenizers/" + kind + "/tokenizer.json")
                      .toURI())
              .getParent());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void llama3RendersAsMetaDefines() {
    ChatTemplate t = ChatTemplate.of("llama3", LLAMA3, "<|begin_of_text|>", "<|eot_id|>");
    assertThat(t.render(CONVERSATION.subList(0, 2), true))
        .isEqualTo(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    assertThat(t.family()).contains(ChatTemplateFamily.LLAMA3);
    assertThat(t.endOfTurnStrings()).containsExactly("<|eot_id|>");
  }

  @Test
  void builtInLlama3EqualsMetaTemplate() {
    Tokenizer tok = fixture("llama3");
    ChatTemplate builtIn = ChatTemplate.builtIn("llama3", tok);
    ChatTemplate meta = ChatTemplate.of("meta", LLAMA3, "<|begin_of_text|>", "<|eot_id|>");
    for (boolean gen : new boolean[] {true, false}) {
      assertThat(builtIn.render(CONVERSATION, gen)).isEqualTo(meta.render(CONVERSATION, gen));
    }
  }

  @Test
  void qwen2AddsDefaultSystemPrompt() {
    ChatTemplate t = ChatTemplate.of("qwen2", QWEN2, null, "<|im_end|>");
    assertThat(t.render(NO_SYSTEM.subList(0, 2), false))
        .isEqualTo(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4.<|im_end|>\n");
    assertThat(t.family()).contains(ChatTemplateFamily.CHATML);
  }

  @Test
  void templateSyntaxInsideMessagesIsPlainText() {
    // Code in training data (Jinja, Go templates, Vue) must come out verbatim, not be rendered.
    String code = "{{ user.name }} {% if x %}y{% endif %} {# note #} {{- trim -}}";
    ChatTemplate qwen = ChatTemplate.of("qwen2", QWEN2, null, "<|im_end|>");
    String out =
        qwen.render(List.of(ChatMessage.user(code), ChatMessage.assistant("{{ 7 * 6 }}")), false);
    assertThat(out).contains("<|im_start|>user\n" + code + "<|im_end|>");
    assertThat(out).contains("<|im_start|>assistant\n{{ 7 * 6 }}<|im_end|>");
  }

  @Test
  void builtInChatmlMatchesQwenWhenSystemGiven() {
    ChatTemplate builtIn = ChatTemplate.builtIn("chatml", fixture("qwen2"));
    ChatTemplate qwen = ChatTemplate.of("qwen2", QWEN2, null, "<|im_end|>");
    assertThat(builtIn.render(CONVERSATION, true)).isEqualTo(qwen.render(CONVERSATION, true));
  }

  @Test
  void mistralRendersAndRefusesNonAlternatingRoles() {
    ChatTemplate t = ChatTemplate.of("mistral", MISTRAL, "<s>", "</s>");
    assertThat(t.render(NO_SYSTEM, false))
        .isEqualTo("<s>[INST] What is 2+2? [/INST]4.</s>[INST] And 3+3? [/INST]6, of course.</s>");
    assertThatThrownBy(() -> t.render(CONVERSATION, false))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("mistral: chat template raised: Conversation roles must alternate");
    assertThat(t.family()).contains(ChatTemplateFamily.MISTRAL);
    assertThat(t.endOfTurnStrings()).containsExactly("</s>");
  }

  @Test
  void builtInMistralFoldsSystemIntoFirstUserMessage() {
    ChatTemplate t = ChatTemplate.builtIn("mistral", fixture("llama2"));
    assertThat(t.render(CONVERSATION, false))
        .isEqualTo(
            "<s>[INST] Be brief.\n\nWhat is 2+2? [/INST] 4.</s>[INST] And 3+3? [/INST] 6, of course.</s>");
  }

  @Test
  void zephyrKeepsNewlinesAfterExpressions() {
    ChatTemplate t = ChatTemplate.of("zephyr", ZEPHYR, "<s>", "</s>");
    assertThat(t.render(CONVERSATION.subList(0, 3), false))
        .isEqualTo(
            "<|system|>\nBe brief.</s>\n<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n4.</s>\n");
    assertThat(t.render(CONVERSATION.subList(0, 2), true))
        .endsWith("What is 2+2?</s>\n<|assistant|>\n");
    assertThat(t.family()).contains(ChatTemplateFamily.ZEPHYR);
  }

  @Test
  void gemmaRenamesAssistantToModel() {
    ChatTemplate t = ChatTemplate.of("gemma", GEMMA, "<bos>", "<eos>");
    assertThat(t.render(NO_SYSTEM.subList(0, 2), true))
        .isEqualTo(
            "<bos><start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4.<end_of_turn>\n"
                + "<start_of_turn>model\n");
    assertThat(t.endOfTurnStrings()).containsExactly("<end_of_turn>", "<eos>");
    assertThatThrownBy(() -> t.render(CONVERSATION, false))
        .hasMessageContaining("System role not supported");
  }

  @Test
  void alpacaBuiltInUsesDefaultPreamble() {
    ChatTemplate t = ChatTemplate.builtIn("alpaca", fixture("llama2"));
    assertThat(t.render(NO_SYSTEM.subList(0, 1), true))
        .isEqualTo(
            "Below is an instruction that describes a task. Write a response that appropriately"
                + " completes the request.\n\n### Instruction:\nWhat is 2+2?\n\n### Response:\n");
    assertThat(t.family()).contains(ChatTemplateFamily.ALPACA);
  }

  @Test
  void pythonStringMethodsWork() {
    String src =
        "{{ messages[0]['content'].strip() }}|{{ messages[0].content.lstrip() }}|"
            + "{{ messages[0].content.strip().startswith('Hi') }}|{{ messages[0].content.endswith(('x', '  ')) }}|"
            + "{{ messages[0].content.strip().upper() }}|{{ messages[0].content.split() | length }}|"
            + "{{ 'a,b,,c'.split(',') | join('/') }}|{{ 'hello world'.title() }}|{{ '--x--'.strip('-') }}|"
            + "{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}|{{ messages[::-1][0].role }}";
    ChatTemplate t = ChatTemplate.of("methods", src, null, null);
    assertThat(
            t.render(List.of(ChatMessage.user("  Hi there  "), ChatMessage.assistant("ok")), false))
        .isEqualTo("Hi there|Hi there  |true|true|HI THERE|2|a/b//c|Hello World|x|a=1|assistant");
  }

  @Test
  void generationBlocksRenderTheirBody() {
    String src =
        "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{%- endgeneration %}"
            + "{% else %}{{ m.content }}|{% endif %}{% endfor %}";
    ChatTemplate t = ChatTemplate.of("gen", src, null, null);
    assertThat(t.render(List.of(ChatMessage.user("q"), ChatMessage.assistant("a")), false))
        .isEqualTo("q|a");
  }

  @Test
  void tojsonFormatsLikePythonJsonDumps() {
    ChatTemplate t =
        ChatTemplate.of(
            "json", "{{ messages[0] | tojson }}\n{{ messages[0] | tojson(indent=2) }}", null, null);
    assertThat(t.render(List.of(ChatMessage.user("say \"hé\"\n")), false))
        .isEqualTo(
            "{\"role\": \"user\", \"content\": \"say \\\"hé\\\"\\n\"}\n"
                + "{\n  \"role\": \"user\",\n  \"content\": \"say \\\"hé\\\"\\n\"\n}");
  }

  @Test
  void strftimeNowFormatsPythonDirectives() {
    assertThat(
            JinjaRenderer.strftime(
                java.time.ZonedDateTime.of(2024, 7, 26, 9, 5, 3, 0, java.time.ZoneOffset.UTC),
                "%d %b %Y %H:%M:%S %A %B %j %%"))
        .isEqualTo("26 Jul 2024 09:05:03 Friday July 208 %");
    ChatTemplate t = ChatTemplate.of("date", "{{ strftime_now('%Y') | length }}", null, null);
    assertThat(t.render(List.of(), false)).isEqualTo("4");
  }

  @Test
  void brokenTemplatesAreRefusedWithTheirName() {
    assertThatThrownBy(
            () ->
                ChatTemplate.of("bad", "{% for m in messages %}", null, null)
                    .render(NO_SYSTEM, false))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("bad");
    assertThatThrownBy(
            () ->
                ChatTemplate.of("bad2", "{{ messages[0].content.nosuch() }}", null, null)
                    .render(NO_SYSTEM, false))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("bad2");
    assertThatThrownBy(() -> ChatTemplate.builtIn("vicuna", fixture("gpt2")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("alpaca, chatml, llama3, mistral");
  }

  @Test
  void tokenizerWithoutTemplateNeedsAFallback() {
    Tokenizer tok = fixture("gpt2");
    assertThat(tok.chatTemplate()).isEqualTo(Optional.empty());
    assertThatThrownBy(() -> ChatTemplate.fromTokenizer(tok, null))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("has no chat_template");
    assertThat(ChatTemplate.fromTokenizer(tok, "chatml").family())
        .contains(ChatTemplateFamily.CHATML);
  }
}
