package dev.entity.engine.format.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Hugging Face reference fixtures (written by scripts/reference/make_model_fixtures.py) load
 * with our reader, with the dtypes and shapes their reference.json describes. Numeric comparisons
 * against the engine live with the models.
 */
class HfFixturesTest {

  static Path fixtures() {
    try {
      return Path.of(HfFixturesTest.class.getResource("/fixtures/hf").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long[] shape(JsonNode array) {
    long[] s = new long[array.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = array.get(i).longValue();
    }
    return s;
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2", "gpt2"})
  void referenceMatchesItsDescription(String arch) throws IOException {
    Path dir = fixtures().resolve(arch);
    JsonNode info = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
    JsonNode described = info.get("tensors");
    try (SafetensorsFile ref = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
      assertThat(ref.metadata()).containsEntry("format", "pt");
      List<String> names = new ArrayList<>();
      described.fieldNames().forEachRemaining(names::add);
      assertThat(ref.names()).containsExactlyInAnyOrderElementsOf(names);
      for (String name : names) {
        JsonNode d = described.get(name);
        Tensor t = ref.tensor(name);
        assertThat(t.dtype()).as(name).isEqualTo(DType.valueOf(d.get("dtype").textValue()));
        assertThat(t.shape()).as(name).containsExactly(shape(d.get("shape")));
      }
      int vocab = info.at("/settings/vocab").intValue();
      assertThat(ref.tensor("logits").shape()).containsExactly(2, 12, vocab);
      // Row 1 is right-padded: 3 pads of id 0, masked, and their labels ignored.
      Tensor mask = ref.tensor("attention_mask");
      Tensor labels = ref.tensor("labels");
      assertThat(mask.data().getAtIndex(ValueLayout.JAVA_INT, 12 + 11)).isZero();
      assertThat(mask.data().getAtIndex(ValueLayout.JAVA_INT, 12 + 8)).isOne();
      assertThat(labels.data().getAtIndex(ValueLayout.JAVA_INT, 12 + 11)).isEqualTo(-100);
      assertThat(labels.data().getAtIndex(ValueLayout.JAVA_INT, 2)).isEqualTo(-100);
      assertThat(labels.data().getAtIndex(ValueLayout.JAVA_INT, 3))
          .isEqualTo(ref.tensor("input_ids").data().getAtIndex(ValueLayout.JAVA_INT, 3));

      // Every model parameter has a full gradient and an AdamW result of its shape.
      try (SafetensorsFolder model = SafetensorsFolder.open(dir.resolve("model"));
          Arena arena = Arena.ofConfined()) {
        for (String p : model.names()) {
          long[] s = model.entry(p).shape();
          assertThat(ref.entry("full.grad." + p).shape()).as(p).containsExactly(s);
          assertThat(ref.entry("adamw3." + p).shape()).as(p).containsExactly(s);
          Tensor w = model.readF32(p, arena);
          assertThat(w.shape()).containsExactly(s);
        }
        assertThat(model.names().size())
            .isEqualTo(names.stream().filter(n -> n.startsWith("full.grad.")).count());
      }
      long loraGrads = names.stream().filter(n -> n.startsWith("lora.grad.")).count();
      assertThat(loraGrads).isPositive();
      assertThat(names.stream().filter(n -> n.startsWith("lora.init.")).count())
          .isEqualTo(loraGrads);
      for (String n : names) {
        if (n.startsWith("lora.grad.")) {
          String init = "lora.init." + n.substring("lora.grad.".length());
          assertThat(ref.entry(n).shape()).containsExactly(ref.entry(init).shape());
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2", "gpt2"})
  void modelFolderMatchesConfig(String arch) throws IOException {
    Path dir = fixtures().resolve(arch).resolve("model");
    JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    long vocab = config.get("vocab_size").longValue();
    long hidden =
        (config.has("hidden_size") ? config.get("hidden_size") : config.get("n_embd")).longValue();
    String embedding = arch.equals("gpt2") ? "transformer.wte.weight" : "model.embed_tokens.weight";
    try (SafetensorsFolder model = SafetensorsFolder.open(dir)) {
      assertThat(model.entry(embedding).shape()).containsExactly(vocab, hidden);
      assertThat(model.metadata()).containsEntry("format", "pt");
      if (arch.equals("qwen2")) {
        assertThat(model.shards()).hasSize(2);
        assertThat(Files.exists(dir.resolve("model.safetensors.index.json"))).isTrue();
      }
    }
  }

  @org.junit.jupiter.api.Test
  void pythonLayoutFixtureReads() {
    Path file = fixtures().resolve("safetensors-layout/python_written.safetensors");
    try (SafetensorsFile st = SafetensorsFile.open(file);
        Arena arena = Arena.ofConfined()) {
      Map<String, TensorEntry> e = st.entries();
      assertThat(e.get("a.bf16").dtype()).isEqualTo(SafetensorsDType.BF16);
      Tensor a = st.readF32("a.bf16", arena);
      assertThat(a.data().getAtIndex(ValueLayout.JAVA_FLOAT, 0)).isEqualTo(-2f);
      assertThat(st.readF32("e.f16", arena).data().getAtIndex(ValueLayout.JAVA_FLOAT, 2))
          .isEqualTo(0.5f);
      assertThat(st.tensor("s.scalar").rank()).isZero();
      assertThat(st.tensor("z.empty").shape()).containsExactly(0, 4);
    }
  }
}
