package dev.entity.engine.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void mapsModelTypesToFamilies() {
    assertThat(Architecture.forModelType("llama")).contains(Architecture.LLAMA);
    assertThat(Architecture.forModelType("mistral")).contains(Architecture.LLAMA);
    assertThat(Architecture.forModelType("qwen2")).contains(Architecture.QWEN2);
    assertThat(Architecture.forModelType("gpt2")).contains(Architecture.GPT2);
    assertThat(Architecture.forModelType("LLAMA")).isEmpty();
    assertThat(Architecture.forModelType("qwen3")).isEmpty();
  }

  @Test
  void linearNamesAreThePeftTargetNames() {
    assertThat(Architecture.GPT2.linearModuleNames()).containsExactly("c_attn", "c_proj", "c_fc");
    assertThat(Architecture.QWEN2.linearModuleNames()).contains("q_proj", "down_proj").hasSize(7);
    for (Architecture a : Architecture.values()) {
      for (String type : a.modelTypes()) {
        assertThat(Architecture.forModelType(type)).contains(a);
      }
      assertThat(shapeOf(a).layerLinears())
          .extracting(ModelConfig.LayerLinear::name)
          .containsAll(a.linearModuleNames())
          .allMatch(a.linearModuleNames()::contains);
    }
  }

  /** A benchmark shape of each family. */
  private static ModelConfig shapeOf(Architecture a) {
    return switch (a) {
      case LLAMA -> ModelConfig.shape("tiny");
      case QWEN2 -> ModelConfig.shape("qwen2.5-0.5b");
      case GPT2 -> ModelConfig.shape("gpt2");
    };
  }
}
