package dev.entity.engine.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sampler's steps, streamed text and the stop ids of a model folder. */
class SamplerTest {

  @TempDir Path tmp;

  @Test
  void argmaxTakesTheFirstOfATie() {
    assertThat(Sampler.argmax(new float[] {1, 3, 3, 2})).isEqualTo(1);
  }

  @Test
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
    float[] logits = {2, -2, 4, 1};
    Sampler.penalize(logits, new boolean[] {true, true, false, false}, 2f);
    assertThat(logits).containsExactly(1, -4, 4, 1);
  }

  @Test
  void topKKeepsTheKLargestAndTheirTies() {
    float[] logits = {0.5f, 3, 1, 3, 2};
    Sampler.keepTopK(logits, 2);
    assertThat(logits)
        .containsExactly(
            Float.NEGATIVE_INFINITY,
            3,
            Float.NEGATIVE_INFINITY,
            3,
            Float.NEGATIVE_INFINITY); // both 3s are the top 2
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    double[] probs = {0.1, 0.5, 0.3, 0.1};
    Sampler.keepTopP(probs, 0.75);
    assertThat(probs[1]).isCloseTo(0.625, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(probs[2]).isCloseTo(0.375, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(probs[0]).isZero();
    assertThat(probs[3]).isZero();
    double[] one = {0.2, 0.8};
    Sampler.keepTopP(one, 0.1); // the most likely token always stays
    assertThat(one).containsExactly(0, 1);
  }

  @Test
  void drawFollowsTheCumulativeDistribution() {
    double[] probs = {0, 0.25, 0, 0.75};
    assertThat(Sampler.draw(probs, 0.0)).isEqualTo(1);
    assertThat(Sampler.draw(probs, 0.2499)).isEqualTo(1);
    assertThat(Sampler.draw(probs, 0.25)).isEqualTo(3);
    assertThat(Sampler.draw(probs, 0.9999999999999999)).isEqualTo(3);
  }

  @Test
  void lowTemperatureConvergesOnTheArgmaxAndSamplesFollowTheSoftmax() {
    float[] logits = {0, (float) Math.log(3)}; // probabilities 1/4, 3/4
    Sampler s = new Sampler(GenerationOptions.sampled(1, 1.0, 1.0, 99));
    int ones = 0;
    for (int i = 0; i < 4000; i++) {
      ones += s.next(logits.clone(), null);
    }
    assertThat(ones / 4000.0).isBetween(0.72, 0.78);
    Sampler cold = new Sampler(GenerationOptions.sampled(1, 0.01, 1.0, 99));
    for (int i = 0; i < 50; i++) {
      assertThat(cold.next(new float[] {0, 0.5f, 0.2f}, null)).isEqualTo(1);
    }
  }

  @Test
  void optionsRejectValuesOutOfRange() {
    assertThatThrownBy(() -> new GenerationOptions(-1, 0, 0, 1, 1, 0, null, null))
        .hasMessageContaining("max_new_tokens");
    assertThatThrownBy(() -> GenerationOptions.sampled(4, -0.5, 1, 0))
        .hasMessageContaining("temperature");
    assertThatThrownBy(() -> GenerationOptions.sampled(4, Double.NaN, 1, 0))
        .hasMessageContaining("temperature");
    assertThatThrownBy(() -> GenerationOptions.sampled(4, 1, 0, 0)).hasMessageContaining("top_p");
    assertThatThrownBy(() -> GenerationOptions.greedy(4).withTopK(-1))
        .hasMessageContaining("top_k");
    assertThatThrownBy(() -> GenerationOptions.greedy(4).withRepetitionPenalty(0))
        .hasMessageContaining("repetition_penalty");
    assertThatThrownBy(() -> GenerationOptions.greedy(4).withStopStrings(List.of("")))
        .hasMessageContaining("stop string");
  }

  @Test
  void streamHoldsBackIncompleteCharactersAndStopStringPrefixes() {
    // ids are bytes of UTF-8; "é" is two bytes, the stop string is "END"
    List<String> out = new ArrayList<>();
    TextStream s =
        new TextStream(
            ids -> {
              byte[] b = new byte[ids.length];
              for (int i = 0; i < ids.length; i++) {
                b[i] = (byte) ids[i];
              }
              return new String(b, java.nio.charset.StandardCharsets.UTF_8);
            },
            List.of("END"),
            out::add);
    byte[] e = "é".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(s.add('a')).isFalse();
    assertThat(s.add(e[0] & 0xff)).isFalse();
    assertThat(out).containsExactly("a");
    assertThat(s.add(e[1] & 0xff)).isFalse();
    assertThat(out).containsExactly("a", "é");
    assertThat(s.add('E')).isFalse();
    assertThat(s.add('N')).isFalse();
    assertThat(out).containsExactly("a", "é"); // "EN" might start the stop string
    assertThat(s.add('D')).isTrue();
    assertThat(s.text()).isEqualTo("aé");
    s.finish();
    assertThat(String.join("", out)).isEqualTo("aé");
  }

  @Test
  void streamReleasesAHeldTailThatTurnedOutNotToBeAStop() {
    List<String> out = new ArrayList<>();
    TextStream s = new TextStream(GeneratorTest::text, List.of("<5><6>"), out::add);
    s.add(5);
    assertThat(out).isEmpty();
    s.add(7);
    assertThat(String.join("", out)).isEqualTo("<5><7>");
    s.add(5);
    s.finish();
    assertThat(String.join("", out)).isEqualTo("<5><7><5>");
  }

  @Test
  void stopIdsComeFromTheTokenizerAndGenerationConfig() throws IOException {
    Path cfg = tmp.resolve(StopTokens.GENERATION_CONFIG);
    assertThat(StopTokens.of(tmp, null)).isEmpty();
    Files.writeString(cfg, "{\"eos_token_id\": [128001, 128008, 128009]}");
    assertThat(StopTokens.of(tmp, null)).containsExactly(128001, 128008, 128009);
    Files.writeString(cfg, "{\"eos_token_id\": 2, \"bos_token_id\": 1}");
    assertThat(StopTokens.generationConfigEos(cfg)).containsExactly(2);
    Files.writeString(cfg, "{\"bos_token_id\": 1}");
    assertThat(StopTokens.generationConfigEos(cfg)).isEmpty();
  }

  @Test
  void malformedGenerationConfigIsAClearError() throws IOException {
    Path cfg = tmp.resolve(StopTokens.GENERATION_CONFIG);
    for (String hostile :
        List.of(
            "{\"eos_token_id\": [2, ",
            "[1, 2]",
            "{\"eos_token_id\": \"</s>\"}",
            "{\"eos_token_id\": -1}",
            "{\"eos_token_id\": [[2]]}",
            "{\"eos_token_id\": 1e40}",
            "")) {
      Files.writeString(cfg, hostile);
      assertThatThrownBy(() -> StopTokens.generationConfigEos(cfg))
          .as(hostile)
          .isInstanceOf(EngineException.class)
          .hasMessageContaining(cfg.toString());
    }
  }
}
