package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.entity.core.EntityException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigOverridesTest {

  private static final Map<String, List<String>> PLUGINS = new LinkedHashMap<>();

  static {
    PLUGINS.put("dataset_loader", List.of("dataset_path", "seed"));
    PLUGINS.put("training_config", List.of("lora_r", "seed", "target_modules"));
  }

  @Test
  void valuesAreYaml() {
    assertThat(ConfigOverrides.parseValue("16").isInt()).isTrue();
    assertThat(ConfigOverrides.parseValue("2e-4").isNumber()).isTrue();
    assertThat(ConfigOverrides.parseValue("true").isBoolean()).isTrue();
    assertThat(ConfigOverrides.parseValue("[q_proj, v_proj]").size()).isEqualTo(2);
    assertThat(ConfigOverrides.parseValue("data/x.jsonl").asText()).isEqualTo("data/x.jsonl");
    assertThat(ConfigOverrides.parseValue("").isNull()).isTrue();
    assertThat(ConfigOverrides.parseValue("a: [").asText()).isEqualTo("a: [");
    assertThat(ConfigOverrides.parseValue("x=y").asText()).isEqualTo("x=y");
  }

  @Test
  void aKeyGoesToTheOnePluginThatHasItAndLaterOnesWin() {
    Map<String, Map<String, JsonNode>> out =
        ConfigOverrides.resolve(
            List.of("lora_r=8", "dataset_loader.seed=3", "lora_r=4", "target_modules=[q_proj]"),
            PLUGINS);
    assertThat(out.get("training_config").get("lora_r").asInt()).isEqualTo(4);
    assertThat(out.get("training_config").get("target_modules").get(0).asText())
        .isEqualTo("q_proj");
    assertThat(out.get("dataset_loader").get("seed").asInt()).isEqualTo(3);
    assertThat(out.get("training_config")).doesNotContainKey("seed");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(
            () ->
                ConfigOverrides.resolve(
                    List.of("seed=1", "lora_rr=2", "nothing", "Upper=1", "x.lora_r=1"), PLUGINS))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("'seed' is ambiguous")
        .hasMessageContaining("unknown override key 'lora_rr' (did you mean lora_r?)")
        .hasMessageContaining("'nothing' is not an override")
        .hasMessageContaining("'Upper=1' is not an override")
        .hasMessageContaining("no plugin 'x' in this workflow");
  }
}
