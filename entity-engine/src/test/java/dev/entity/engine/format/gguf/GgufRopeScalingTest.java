package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.layer.Rope;
import dev.entity.engine.model.ModelConfig;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Llama 3 RoPE scaling recovered from the {@code rope_freqs} factors GgufExport writes: the
 * recovered parameters give the same inverse frequencies, whether the smooth band holds many
 * frequencies, one, or none; factors that are not Llama 3 scaling are refused.
 */
class GgufRopeScalingTest {

  @TempDir Path dir;

  GgufReader file(float[] factors) {
    Path out = dir.resolve("rope.gguf");
    new GgufWriter()
        .put("general.architecture", GgufValue.string("llama"))
        .addTensor(
            "rope_freqs.weight",
            GgmlType.F32,
            new long[] {factors.length},
            GgufWriter.encoded(MemorySegment.ofArray(factors), GgmlType.F32, factors.length))
        .write(out);
    return GgufReader.open(out);
  }

  /** Llama 3.2 1B (many frequencies in the band), a tiny model (one), and a sharp cut (none). */
  @ParameterizedTest
  @ValueSource(strings = {"llama-3.2-1b", "tiny-one-in-band", "no-band"})
  void recoveredScalingGivesTheSameFrequencies(String which) {
    ModelConfig base = ModelConfig.shape("tiny"); // head width 16, theta 10000
    ModelConfig c =
        switch (which) {
          case "llama-3.2-1b" -> ModelConfig.shape("llama-3.2-1b");
          case "tiny-one-in-band" ->
              GgufModelConfig.withScaling(base, new ModelConfig.RopeScaling(8, 1, 4, 16));
          default ->
              GgufModelConfig.withScaling(base, new ModelConfig.RopeScaling(4, 1, 1.0001, 64));
        };
    float[] factors = GgufExport.llama3RopeFactors(c);
    ModelConfig unscaled = GgufModelConfig.withScaling(c, null);
    try (GgufReader r = file(factors)) {
      ModelConfig.RopeScaling got = GgufModelConfig.ropeScaling(r, unscaled);
      assertThat(got).isNotNull();
      float[] want = Rope.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
      float[] back = Rope.inverseFrequencies(c.headDim(), c.ropeTheta(), got);
      for (int i = 0; i < want.length; i++) {
        assertThat((double) back[i])
            .as("frequency %d", i)
            .isCloseTo(want[i], org.assertj.core.data.Percentage.withPercentage(1e-3));
      }
    }
  }

  @Test
  void unitFactorsMeanNoScalingAndOthersAreRefused() {
    ModelConfig c = ModelConfig.shape("tiny");
    int n = c.headDim() / 2;
    float[] ones = new float[n];
    java.util.Arrays.fill(ones, 1f);
    try (GgufReader r = file(ones)) {
      assertThat(GgufModelConfig.ropeScaling(r, c)).isNull();
    }
    float[] rising = new float[n];
    for (int i = 0; i < n; i++) {
      rising[i] = n - i; // long wavelengths scaled less than short ones: not Llama 3
    }
    try (GgufReader r = file(rising)) {
      assertThatThrownBy(() -> GgufModelConfig.ropeScaling(r, c))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("rope.gguf")
          .hasMessageContaining("rope_freqs.weight");
    }
    for (float[] bad : List.of(new float[] {1, 2}, withBelowOne(n))) {
      try (GgufReader r = file(bad)) {
        assertThatThrownBy(() -> GgufModelConfig.ropeScaling(r, c))
            .isInstanceOf(EngineException.class)
            .hasMessageContaining("rope_freqs.weight");
      }
    }
  }

  private static float[] withBelowOne(int n) {
    float[] f = new float[n];
    java.util.Arrays.fill(f, 1f);
    f[n - 1] = 0.5f;
    return f;
  }
}
