package dev.entity.core.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {

  private static final Map<String, String> ENV = Map.of("DATA", "data/a.jsonl", "EMPTY", "");

  private static String apply(String text) {
    return EnvSubstitution.apply(text, "w.yaml", ENV::get);
  }

  @Test
  void substitutesSetVariablesAndDefaults() {
    assertThat(apply("path: ${DATA}\nr: ${LORA_R:-16}\ne: ${EMPTY:-fallback}\nx: ${EMPTY}|"))
        .isEqualTo("path: data/a.jsonl\nr: 16\ne: fallback\nx: |");
    assertThat(apply("a: ${UNSET:-}|")).isEqualTo("a: |");
  }

  @Test
  void unsetVariableWithoutDefaultNamesItAndTheLine() {
    assertThatThrownBy(() -> apply("a: 1\n\nmodel: ${MODEL_DIR}\n"))
        .isInstanceOf(EntityException.class)
        .hasMessage(
            "w.yaml line 3: environment variable MODEL_DIR is not set; set it, or give a default"
                + " with ${MODEL_DIR:-value}");
  }

  @Test
  void escapesCommentsAndMalformedReferences() {
    assertThat(apply("a: $${DATA}")).isEqualTo("a: ${DATA}");
    assertThat(apply("  # uses ${NOT_SET}\nb: 1")).isEqualTo("  # uses ${NOT_SET}\nb: 1");
    assertThat(apply("cost: $5")).isEqualTo("cost: $5");
    assertThatThrownBy(() -> apply("a: ${ DATA}"))
        .hasMessageContaining("w.yaml line 1: malformed variable reference");
    assertThatThrownBy(() -> apply("a: ${DATA")).hasMessageContaining("malformed");
  }
}
