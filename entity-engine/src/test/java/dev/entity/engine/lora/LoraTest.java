package dev.entity.engine.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.model.SharedCpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** LoRA configuration, initialization, merge and PEFT adapter files. */
class LoraTest {

  private static final Backend backend = SharedCpuBackend.get();

  @TempDir Path tmp;

  static Path fixture(String arch) {
    try {
      return Path.of(LoraTest.class.getResource("/fixtures/hf/" + arch).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static LoraConfig config(String arch) {
    List<String> targets =
        arch.equals("gpt2") ? List.of("c_attn", "c_proj", "c_fc") : List.of("all-linear");
    return new LoraConfig(4, 8, 0, targets, false, 7);
  }

  /** The fixture's adapters (B non-zero), so merging changes the weights. */
  static Decoder withFixtureAdapters(String arch, Decoder.Options options) {
    Decoder d = Decoder.load(backend, fixture(arch).resolve("model"), options);
    try (SafetensorsFile ref =
        SafetensorsFile.open(fixture(arch).resolve("reference.safetensors"))) {
      for (Slot s : d.store().trainableSlots()) {
        d.store().copyFromHost(s.name(), ref.tensor("lora.init." + s.name()));
      }
    }
    return d;
  }

  static Batch batch() {
    int[][] ids = {{1, 17, 45, 3, 200, 9, 31, 8}, {5, 6, 7, 8, 9, 10, 11, 12}};
    int[][] ones = {{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 1}};
    return Batch.fromHuggingFace(ids, ones, ids);
  }

  static int[] allRows() {
    return IntStream.range(0, 16).toArray();
  }

  static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void mergedModelGivesTheAdapterModelsLogits(String arch) {
    try (Decoder d = withFixtureAdapters(arch, Decoder.Options.lora(config(arch)))) {
      float[] adapted = d.logits(batch(), allRows());
      d.setAdaptersDisabled(true);
      float[] base = d.logits(batch(), allRows());
      d.setAdaptersDisabled(false);
      assertThat(maxDiff(adapted, base)).isGreaterThan(1e-2); // the adapters matter
      LoraMerge.merge(d);
      float[] merged = d.logits(batch(), allRows());
      double diff = maxDiff(merged, adapted);
      System.out.printf("%s merged vs adapter logits max|diff| %.3e%n", arch, diff);
      assertThat(diff).isLessThan(1e-4);
      LoraMerge.unmerge(d);
      assertThat(maxDiff(d.logits(batch(), allRows()), adapted)).isLessThan(1e-4);
    }
  }

  @Test
  void mergeIntoBf16WeightsStaysWithinBf16Rounding() {
    Decoder.Options options = Decoder.Options.lora(config("llama")).withFrozenDType(DType.BF16);
    try (Decoder d = withFixtureAdapters("llama", options)) {
      float[] adapted = d.logits(batch(), allRows());
      LoraMerge.merge(d);
      double diff = maxDiff(d.logits(batch(), allRows()), adapted);
      System.out.printf("bf16 merged vs adapter logits max|diff| %.3e%n", diff);
      assertThat(diff).isLessThan(5e-2);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void adapterRoundTripsThroughPeftFiles(String arch) throws IOException {
    Path out = tmp.resolve(arch + "-adapter");
    float[] before;
    try (Decoder d = withFixtureAdapters(arch, Decoder.Options.lora(config(arch)))) {
      before = d.logits(batch(), allRows());
      LoraAdapter.save(d, out, "tiny-" + arch);
    }
    JsonNode json = new ObjectMapper().readTree(out.resolve(LoraAdapter.CONFIG).toFile());
    assertThat(json.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(json.get("task_type").asText()).isEqualTo("CAUSAL_LM");
    assertThat(json.get("r").asInt()).isEqualTo(4);
    assertThat(json.get("lora_alpha").isIntegralNumber()).isTrue();
    assertThat(json.get("lora_alpha").asInt()).isEqualTo(8);
    assertThat(json.get("bias").asText()).isEqualTo("none");
    assertThat(json.get("use_rslora").asBoolean()).isFalse();
    assertThat(json.get("fan_in_fan_out").asBoolean()).isEqualTo(arch.equals("gpt2"));
    assertThat(json.get("base_model_name_or_path").asText()).isEqualTo("tiny-" + arch);
    List<String> targets = new java.util.ArrayList<>();
    json.get("target_modules").forEach(n -> targets.add(n.asText()));
    assertThat(targets)
        .containsExactlyInAnyOrderElementsOf(
            arch.equals("gpt2")
                ? List.of("c_attn", "c_proj", "c_fc")
                : List.of(
                    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"));
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve(LoraAdapter.WEIGHTS))) {
      String prefix =
          arch.equals("gpt2")
              ? "base_model.model.transformer.h.0.attn.c_attn"
              : "base_model.model.model.layers.0.self_attn.q_proj";
      assertThat(f.names()).contains(prefix + ".lora_A.weight", prefix + ".lora_B.weight");
      assertThat(f.metadata()).containsEntry("format", "pt");
    }
    try (Decoder again =
        LoraAdapter.open(backend, fixture(arch).resolve("model"), out, Decoder.Options.full())) {
      assertThat(again.options().lora().rank()).isEqualTo(4);
      assertThat(again.logits(batch(), allRows())).containsExactly(before);
    }
  }

  @Test
  void initializationIsPeftsAndDependsOnlyOnSeedAndName() {
    ModelConfig tiny = ModelConfig.shape("tiny");
    LoraConfig c = new LoraConfig(8, 16, 0, List.of("q_proj", "down_proj"), false, 99);
    try (Decoder a = new Decoder(backend, tiny, Decoder.Options.lora(c));
        Decoder b =
            new Decoder(
                backend,
                tiny,
                Decoder.Options.lora(new LoraConfig(8, 16, 0, List.of("down_proj"), false, 99)));
        Arena arena = Arena.ofConfined()) {
      String down = LoraConfig.loraAName("model.layers.1.mlp.down_proj");
      float[] aDown = floats(a.store().toHost(a.store().param(down), arena));
      float[] bDown = floats(b.store().toHost(b.store().param(down), arena));
      assertThat(aDown).containsExactly(bDown);
      double bound = 1 / Math.sqrt(tiny.intermediateSize());
      double max = 0;
      for (float v : aDown) {
        max = Math.max(max, Math.abs(v));
      }
      assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.9 * bound);
      String q = LoraConfig.loraBName("model.layers.0.self_attn.q_proj");
      assertThat(floats(a.store().toHost(a.store().param(q), arena))).containsOnly(0f);
      assertThat(a.store().trainableSlots()).hasSize(2 * 2 * tiny.numLayers());
    }
  }

  static float[] floats(Tensor t) {
    return t.data().toArray(ValueLayout.JAVA_FLOAT);
  }

  @Test
  void scaleAndTargets() {
    ModelConfig tiny = ModelConfig.shape("tiny");
    assertThat(new LoraConfig(16, 32, 0, List.of("q_proj"), false, 0).scale()).isEqualTo(2f);
    assertThat(new LoraConfig(16, 32, 0, List.of("q_proj"), true, 0).scale()).isEqualTo(8f);
    assertThat(new LoraConfig(4, 8, 0, List.of("self_attn.v_proj"), false, 0).targetedPaths(tiny))
        .containsExactly("self_attn.v_proj");
    assertThatThrownBy(
            () ->
                new LoraConfig(4, 8, 0, List.of("c_attn", "q_proj"), false, 0).targetedPaths(tiny))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("[c_attn]")
        .hasMessageContaining("q_proj, k_proj");
    assertThatThrownBy(() -> new LoraConfig(0, 8, 0, List.of("q_proj"), false, 0))
        .hasMessageContaining("r must be");
    assertThatThrownBy(() -> new LoraConfig(4, 8, 1.0, List.of("q_proj"), false, 0))
        .hasMessageContaining("lora_dropout");
    assertThatThrownBy(() -> new LoraConfig(4, 8, 0, List.of(), false, 0))
        .hasMessageContaining("target_modules");
  }

  @Test
  void hostileAdapterFilesGetClearErrors() throws IOException {
    Path dir = tmp.resolve("bad");
    Files.createDirectories(dir);
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0)).hasMessageContaining("not found");
    Path cfg = dir.resolve(LoraAdapter.CONFIG);
    Files.writeString(cfg, "{\"peft_type\": \"LORA\", \"r\": 4, ");
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("invalid JSON");
    Files.writeString(cfg, "[1, 2]");
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0)).hasMessageContaining("JSON object");
    Files.writeString(cfg, "{\"peft_type\": \"IA3\"}");
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0)).hasMessageContaining("only LORA");
    Files.writeString(
        cfg,
        "{\"peft_type\": \"LORA\", \"r\": \"four\", \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}");
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0)).hasMessageContaining("\"r\"");
    Files.writeString(
        cfg, "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": 3}");
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0)).hasMessageContaining("target_modules");
    Files.writeString(
        cfg,
        "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": -1, \"target_modules\": [\"q_proj\"]}");
    assertThatThrownBy(() -> LoraAdapter.readConfig(dir, 0)).hasMessageContaining("lora_alpha");

    // A well-formed config whose rank disagrees with the tensors on disk.
    Path saved = tmp.resolve("saved");
    try (Decoder d = withFixtureAdapters("llama", Decoder.Options.lora(config("llama")))) {
      LoraAdapter.save(d, saved, null);
    }
    String json =
        Files.readString(saved.resolve(LoraAdapter.CONFIG)).replace("\"r\" : 4", "\"r\" : 8");
    Files.writeString(saved.resolve(LoraAdapter.CONFIG), json);
    assertThatThrownBy(
            () ->
                LoraAdapter.open(
                    backend, fixture("llama").resolve("model"), saved, Decoder.Options.full()))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("has shape [4, 48]")
        .hasMessageContaining("[8, 48]");
    // Targets narrower than the file: the extra tensors are named.
    Files.writeString(
        saved.resolve(LoraAdapter.CONFIG),
        json.replace("\"r\" : 8", "\"r\" : 4")
            .replaceAll("(?s)\"target_modules\" : \\[.*?\\]", "\"target_modules\" : [\"q_proj\"]"));
    assertThatThrownBy(
            () ->
                LoraAdapter.open(
                    backend, fixture("llama").resolve("model"), saved, Decoder.Options.full()))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("unexpected 24");
  }
}
