package dev.entity.engine.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.entity.engine.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** Inverse frequencies as Hugging Face computes them, plain and with llama3 scaling. */
class RopeTest {

  @Test
  void plainFrequenciesFollowTheta() {
    float[] inv = Rope.inverseFrequencies(8, 10000, null);
    assertThat(inv).hasSize(4);
    for (int i = 0; i < 4; i++) {
      assertThat((double) inv[i])
          .isCloseTo(
              Math.pow(10000, -2.0 * i / 8), within(1e-7 * Math.pow(10000, -2.0 * i / 8) + 1e-12));
    }
  }

  @Test
  void llama3ScalingKeepsHighDividesLowAndBlendsTheBand() {
    ModelConfig.RopeScaling s = new ModelConfig.RopeScaling(8, 1, 4, 32);
    int hs = 12;
    float[] plain = Rope.inverseFrequencies(hs, 10000, null);
    float[] scaled = Rope.inverseFrequencies(hs, 10000, s);
    int high = 0;
    int low = 0;
    int medium = 0;
    for (int i = 0; i < plain.length; i++) {
      double wavelen = 2 * Math.PI / plain[i];
      double expected;
      if (wavelen < 32.0 / 4) {
        expected = plain[i];
        high++;
      } else if (wavelen > 32.0 / 1) {
        expected = plain[i] / 8.0;
        low++;
      } else {
        double smooth = (32 / wavelen - 1) / (4 - 1);
        expected = (1 - smooth) * plain[i] / 8 + smooth * plain[i];
        medium++;
      }
      assertThat((double) scaled[i]).as("i=" + i).isCloseTo(expected, within(1e-6 * expected));
    }
    assertThat(high).isPositive();
    assertThat(low).isPositive();
    assertThat(medium).isPositive();
  }
}
