// Fixture models: the Hugging Face tiny models (vocabulary 256, context 64, random weights with
// std 0.15 so that argmax is never a near-tie).
package dev.entity.engine.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.model.SharedCpuBackend;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** KV-cache generation against full recomputation, sampling, stops, streaming and adapters. */
class GeneratorTest {

  private static final Backend backend = SharedCpuBackend.get();
  private static final int[] PROMPT = {1, 17, 45, 3, 200, 9};
  private static final int EOS = 2;

  static Path fixture(String arch) {
    try {
      return Path.of(GeneratorTest.class.getResource("/fixtures/hf/" + arch).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Decoder load(String arch) {
    return Decoder.load(backend, fixture(arch).resolve("model"), Decoder.Options.full());
  }

  /** One character group per id, so stop strings and streaming can be checked on any ids. */
  static String text(int[] ids) {
    StringBuilder b = new StringBuilder();
    for (int id : ids) {
      b.append('<').append(id).append('>');
    }
    return b.toString();
  }

  static Generator generator(Decoder d) {
    return new Generator(d, new int[] {EOS}, GeneratorTest::text);
  }

  /** Greedy decoding by recomputing the full sequence's logits every step (no cache). */
  static int[] greedyByRecomputing(Decoder d, int[] prompt, int steps, int stop) {
    List<Integer> seq = new ArrayList<>();
    for (int id : prompt) {
      seq.add(id);
    }
    List<Integer> out = new ArrayList<>();
    for (int s = 0; s < steps; s++) {
      int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
      int[] none = new int[ids.length];
      Arrays.fill(none, -100);
      int[] pos = IntStream.range(0, ids.length).toArray();
      int[] seg = new int[ids.length];
      Arrays.fill(seg, 1);
      float[] logits =
          d.logits(new Batch(1, ids.length, ids, none, pos, seg), new int[] {ids.length - 1});
      int next = Sampler.argmax(logits);
      if (next == stop) {
        break;
      }
      out.add(next);
      seq.add(next);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2", "gpt2"})
  void greedyWithTheCacheEqualsRecomputingEveryStep(String arch) {
    try (Decoder d = load(arch);
        Generator g = generator(d)) {
      GenerationResult r = g.generate(PROMPT, GenerationOptions.greedy(24), null);
      int[] expected = greedyByRecomputing(d, PROMPT, 24, EOS);
      assertThat(r.tokens()).containsExactly(expected);
      assertThat(r.tokens().length).isGreaterThan(3);
      assertThat(r.finishReason())
          .isEqualTo(expected.length == 24 ? FinishReason.MAX_TOKENS : FinishReason.STOP_TOKEN);
      assertThat(r.text()).isEqualTo(text(expected));
      assertThat(r.prefilledTokens()).isEqualTo(PROMPT.length);
      assertThat(r.decodeSteps()).isEqualTo(Math.min(expected.length, 23));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void chunkedPrefillGivesTheLogitsOfTheFullForward(String arch) {
    try (Decoder d = load(arch);
        KvCache cache = new KvCache(d, 40, 3)) {
      int[] ids = IntStream.range(0, 11).map(i -> (i * 37 + 5) % 256).toArray();
      float[] last = null;
      for (int i = 0; i < ids.length; i += 3) {
        last = d.decode(cache, Arrays.copyOfRange(ids, i, Math.min(ids.length, i + 3)));
      }
      int[] none = new int[ids.length];
      Arrays.fill(none, -100);
      int[] seg = new int[ids.length];
      Arrays.fill(seg, 1);
      float[] full =
          d.logits(
              new Batch(1, ids.length, ids, none, IntStream.range(0, 11).toArray(), seg),
              new int[] {10});
      double maxDiff = 0;
      for (int v = 0; v < full.length; v++) {
        maxDiff = Math.max(maxDiff, Math.abs(full[v] - last[v]));
      }
      assertThat(maxDiff).isLessThan(1e-4);
      assertThat(cache.length()).isEqualTo(11);
      assertThatThrownBy(() -> d.decode(cache, new int[] {1, 2, 3, 4}))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("1 to 3 tokens");
      assertThatThrownBy(() -> d.decode(cache, new int[] {999}))
          .hasMessageContaining("outside the vocabulary");
    }
  }

  @Test
  void aGrownCacheContinuesTheSequence() {
    try (Decoder d = load("qwen2");
        KvCache small = new KvCache(d, 8, 8);
        KvCache big = new KvCache(d, 20, 8);
        KvCache whole = new KvCache(d, 20, 8)) {
      int[] ids = {4, 8, 15, 16, 23, 42, 7};
      d.decode(small, ids);
      big.copyFrom(small);
      float[] continued = d.decode(big, new int[] {99, 100});
      d.decode(whole, ids);
      assertThat(d.decode(whole, new int[] {99, 100})).containsExactly(continued);
      assertThatThrownBy(() -> small.copyFrom(big)).hasMessageContaining("cannot copy");
      assertThatThrownBy(() -> d.decode(small, new int[] {1, 2}))
          .hasMessageContaining("KV cache holds 8");
    }
  }

  @Test
  void aFollowUpPromptReusesTheCachedPrefix() {
    try (Decoder d = load("qwen2");
        Generator g = generator(d);
        Generator fresh = generator(d)) {
      GenerationResult first = g.generate(PROMPT, GenerationOptions.greedy(5), null);
      int[] next = IntStream.concat(Arrays.stream(PROMPT), Arrays.stream(first.tokens())).toArray();
      next = Arrays.copyOf(next, next.length + 2);
      next[next.length - 2] = 77;
      next[next.length - 1] = 78;
      GenerationResult second = g.generate(next, GenerationOptions.greedy(8), null);
      assertThat(second.prefilledTokens()).isLessThan(next.length);
      assertThat(second.tokens())
          .containsExactly(fresh.generate(next, GenerationOptions.greedy(8), null).tokens());
    }
  }

  @Test
  void samplingIsDeterministicPerSeed() {
    try (Decoder d = load("llama");
        Generator g = generator(d)) {
      GenerationOptions o = GenerationOptions.sampled(16, 1.0, 0.95, 7).withTopK(50);
      int[] a = g.generate(PROMPT, o, null).tokens();
      int[] b = g.generate(PROMPT, o, null).tokens();
      assertThat(a).containsExactly(b);
      Set<String> distinct = new HashSet<>();
      for (long seed = 1; seed <= 4; seed++) {
        distinct.add(Arrays.toString(g.generate(PROMPT, o.withSeed(seed), null).tokens()));
      }
      assertThat(distinct).hasSizeGreaterThan(1);
    }
  }

  @Test
  void stopsAtAStopTokenAndAtAStopString() {
    try (Decoder d = load("gpt2");
        Generator g = generator(d)) {
      int[] free = g.generate(PROMPT, GenerationOptions.greedy(12), null).tokens();
      assertThat(free.length).isGreaterThan(5);
      int target = free[4];
      int first = indexOf(free, target);

      GenerationResult byToken =
          g.generate(PROMPT, GenerationOptions.greedy(12).withStopTokenIds(target), null);
      assertThat(byToken.finishReason()).isEqualTo(FinishReason.STOP_TOKEN);
      assertThat(byToken.stopToken()).isEqualTo(target);
      assertThat(byToken.tokens()).containsExactly(Arrays.copyOf(free, first));

      List<String> streamed = new ArrayList<>();
      String stop = "<" + target + ">";
      GenerationResult byString =
          g.generate(
              PROMPT, GenerationOptions.greedy(12).withStopStrings(List.of(stop)), streamed::add);
      assertThat(byString.finishReason()).isEqualTo(FinishReason.STOP_STRING);
      assertThat(byString.text()).isEqualTo(text(Arrays.copyOf(free, first)));
      assertThat(String.join("", streamed)).isEqualTo(byString.text());
    }
  }

  @Test
  void stopsAtTheContextLength() {
    try (Decoder d = load("gpt2");
        Generator g = generator(d)) {
      int[] prompt = IntStream.range(0, 60).map(i -> 3 + (i * 11) % 250).toArray();
      GenerationOptions o = GenerationOptions.greedy(30).withStopTokenIds();
      Generator noEos = new Generator(d, new int[0], GeneratorTest::text);
      GenerationResult r = noEos.generate(prompt, o, null);
      noEos.close();
      assertThat(r.finishReason()).isEqualTo(FinishReason.CONTEXT_FULL);
      assertThat(r.tokens()).hasSize(4); // 60 + 4 = the 64 positions
      assertThatThrownBy(() -> g.generate(new int[64], o, null))
          .hasMessageContaining("context is 64");
      assertThatThrownBy(() -> g.generate(new int[0], o, null))
          .hasMessageContaining("prompt is empty");
      assertThat(g.generate(PROMPT, o.withMaxNewTokens(0), null).tokens()).isEmpty();
    }
  }

  /** The fixture's reference adapters (B non-zero) on all linear layers. */
  static Decoder withAdapters(String arch) {
    List<String> targets =
        arch.equals("gpt2") ? List.of("c_attn", "c_proj", "c_fc") : List.of("all-linear");
    Decoder d =
        Decoder.load(
            backend,
            fixture(arch).resolve("model"),
            Decoder.Options.lora(new LoraConfig(4, 8, 0, targets, false, 7)));
    try (SafetensorsFile ref =
        SafetensorsFile.open(fixture(arch).resolve("reference.safetensors"))) {
      for (Slot s : d.store().trainableSlots()) {
        d.store().copyFromHost(s.name(), ref.tensor("lora.init." + s.name()));
      }
    }
    return d;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void theAdapterChangesTheOutputAndDisablingItGivesTheBaseModel(String arch) {
    try (Decoder tuned = withAdapters(arch);
        Decoder base = load(arch);
        Generator g = generator(tuned);
        Generator b = generator(base)) {
      GenerationOptions o = GenerationOptions.greedy(16).withStopTokenIds();
      int[] withAdapter = g.generate(PROMPT, o, null).tokens();
      assertThat(withAdapter)
          .containsExactly(greedyByRecomputing(tuned, PROMPT, withAdapter.length, -1));
      g.setAdaptersDisabled(true);
      int[] disabled = g.generate(PROMPT, o, null).tokens();
      int[] baseTokens = b.generate(PROMPT, o, null).tokens();
      assertThat(disabled).containsExactly(baseTokens);
      assertThat(withAdapter).isNotEqualTo(disabled);
      g.setAdaptersDisabled(false);
      assertThat(g.generate(PROMPT, o, null).tokens()).containsExactly(withAdapter);
    }
  }

  private static int indexOf(int[] a, int v) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == v) {
        return i;
      }
    }
    return -1;
  }
}
