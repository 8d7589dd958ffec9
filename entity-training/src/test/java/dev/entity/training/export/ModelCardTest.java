package dev.entity.training.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelCardTest {

  private static JsonNode frontMatter(String card) throws Exception {
    assertThat(card).startsWith("---\n");
    int end = card.indexOf("\n---\n", 4);
    return new ObjectMapper(new YAMLFactory()).readTree(card.substring(4, end + 1));
  }

  @Test
  void frontMatterHasTheHubFieldsAndBodyTheSections() throws Exception {
    ModelCard card =
        new ModelCard(
            "me/tiny-lora",
            "HuggingFaceTB/SmolLM2-135M",
            true,
            "apache-2.0",
            List.of("chat"),
            List.of("data/sample.jsonl"),
            "A test model.",
            Map.of("learning_rate", 2e-4, "lora_r", 16),
            "100 conversations.",
            Map.of("eval_loss", 1.25, "perplexity", 3.49),
            "model-q8_0.gguf",
            "tiny");
    String text = card.render();
    JsonNode y = frontMatter(text);
    assertThat(y.get("base_model").asText()).isEqualTo("HuggingFaceTB/SmolLM2-135M");
    assertThat(y.get("library_name").asText()).isEqualTo("peft");
    assertThat(y.get("license").asText()).isEqualTo("apache-2.0");
    assertThat(y.get("pipeline_tag").asText()).isEqualTo("text-generation");
    List<String> tags = new ArrayList<>();
    y.get("tags").forEach(t -> tags.add(t.asText()));
    assertThat(tags).contains("lora", "chat", "gguf");
    assertThat(y.get("datasets").get(0).asText()).isEqualTo("data/sample.jsonl");
    assertThat(text)
        .contains("## Training configuration", "| learning_rate | 2.0E-4 |", "## Dataset")
        .contains(
            "| perplexity | 3.4900 |", "AutoPeftModelForCausalLM", "llama-cli -m model-q8_0.gguf")
        .contains("ollama create tiny -f Modelfile", "## Limitations");
    assertThat(
            new ModelCard("x", null, false, null, null, null, null, null, null, null, null, null)
                .render())
        .contains("library_name: \"transformers\"", "No evaluation was recorded")
        .doesNotContain("license:", "llama-cli", "ollama");
  }

  @Test
  void hostileStringsStayInsideTheirYamlValues() throws Exception {
    List<String> hostile =
        List.of(
            "a: b\n---\nevil: true",
            "\"quoted\" \\back\\slash",
            "line\u2028sep\u2029para\u0085nel\r\n",
            "tab\tnull\u0000bell\u0007",
            "- list\n- items",
            "{flow: map}",
            "# comment",
            "&anchor *alias !tag",
            "emoji 😀 and lone \ud800 surrogate");
    for (String s : hostile) {
      ModelCard card =
          new ModelCard(
              s, s, false, s, List.of(s), List.of(s), s, Map.of(s, s), s, Map.of(s, 1.0), s, s);
      JsonNode y = frontMatter(card.render());
      String expected = s.replace("\ud800", "\ufffd");
      assertThat(y.get("base_model").asText()).as(s).isIn(s, expected);
      assertThat(y.get("license").asText()).isIn(s, expected);
      assertThat(y.get("datasets").get(0).asText()).isIn(s, expected);
      assertThat(y.has("evil")).isFalse();
      assertThat(y.size()).isEqualTo(6);
    }
  }
}
