package dev.entity.engine.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every template of {@code chat_templates.json} renders exactly as transformers'
 * apply_chat_template rendered it, tokenizes to the same ids, and raises the same errors.
 */
class ChatTemplateFixtureTest {

  static Stream<Arguments> renders() throws IOException {
    List<Arguments> out = new ArrayList<>();
    try (InputStream in =
        ChatTemplateFixtureTest.class.getResourceAsStream(
            "/fixtures/tokenizers/chat_templates.json")) {
      JsonNode root = new ObjectMapper().readTree(in);
      for (JsonNode t : root) {
        int i = 0;
        for (JsonNode r : t.get("renders")) {
          out.add(Arguments.of(t.get("name").asText(), i++, t, r));
        }
      }
    }
    return out.stream();
  }

  static List<ChatMessage> messages(JsonNode list) {
    List<ChatMessage> out = new ArrayList<>();
    for (JsonNode m : list) {
      ChatMessage.Role role =
          ChatMessage.Role.valueOf(m.get("role").asText().toUpperCase(java.util.Locale.ROOT));
      out.add(new ChatMessage(role, m.get("content").asText()));
    }
    return out;
  }

  static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  @ParameterizedTest(name = "{0} #{1}")
  @MethodSource("renders")
  void rendersAndTokenizesAsTransformers(String name, int index, JsonNode t, JsonNode r) {
    ChatTemplate template =
        ChatTemplate.of(
            name, t.get("template").asText(), text(t.get("bos_token")), text(t.get("eos_token")));
    List<ChatMessage> messages = messages(r.get("messages"));
    boolean gen = r.get("add_generation_prompt").asBoolean();
    if (r.has("error")) {
      assertThatThrownBy(() -> template.render(messages, gen))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining(r.get("error").asText());
      return;
    }
    String rendered = template.render(messages, gen);
    assertThat(rendered).isEqualTo(r.get("rendered").asText());
    Tokenizer tokenizer = ChatTemplateTest.fixture(t.get("tokenizer").asText());
    int[] expected = new int[r.get("ids").size()];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = r.get("ids").get(i).asInt();
    }
    assertThat(tokenizer.encode(rendered, false)).containsExactly(expected);
  }
}
