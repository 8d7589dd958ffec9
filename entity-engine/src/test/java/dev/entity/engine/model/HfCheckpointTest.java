package dev.entity.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Loading and saving Hugging Face folders: round trips, dtypes, and the errors users can cause. */
class HfCheckpointTest {

  private static final Backend backend = SharedCpuBackend.get();

  @TempDir Path tmp;

  /** A copy of a fixture model whose tensors went through {@code edit} first. */
  private Path edited(String arch, Consumer<Map<String, Tensor>> edit) throws IOException {
    Path src = new HfReference(arch).model();
    Path dst = tmp.resolve(arch + "-edited");
    Files.createDirectories(dst);
    Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
    try (SafetensorsFolder files = SafetensorsFolder.open(src);
        Arena arena = Arena.ofConfined()) {
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (String n : files.names()) {
        tensors.put(n, files.readF32(n, arena));
      }
      edit.accept(tensors);
      SafetensorsWriter.write(dst.resolve("model.safetensors"), tensors, Map.of());
    }
    return dst;
  }

  private static Tensor zeros(long... shape) {
    return new Tensor(
        DType.F32, shape, Arena.ofAuto().allocate(Tensor.elementCount(shape) * 4, 64), Device.CPU);
  }

  @Test
  void missingTensorsAreNamed() throws IOException {
    Path dir = edited("llama", t -> t.remove("model.layers.1.mlp.up_proj.weight"));
    assertThatThrownBy(() -> Decoder.load(backend, dir, Decoder.Options.full()))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("missing 1: model.layers.1.mlp.up_proj.weight")
        .hasMessageNotContaining("unexpected");
  }

  @Test
  void unexpectedTensorsAreNamed() throws IOException {
    Path dir = edited("qwen2", t -> t.put("model.layers.7.self_attn.q_proj.weight", zeros(48, 48)));
    assertThatThrownBy(() -> Decoder.load(backend, dir, Decoder.Options.full()))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("unexpected 1: model.layers.7.self_attn.q_proj.weight");
  }

  @Test
  void shapeMismatchIsExplained() throws IOException {
    Path dir = edited("gpt2", t -> t.put("transformer.h.0.attn.c_attn.weight", zeros(144, 48)));
    assertThatThrownBy(() -> Decoder.load(backend, dir, Decoder.Options.full()))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("transformer.h.0.attn.c_attn.weight")
        .hasMessageContaining("[144, 48]")
        .hasMessageContaining("[48, 144]");
  }

  @Test
  void gpt2CheckpointsWithoutPrefixAndBuffersLoad() throws IOException {
    Path dir =
        edited(
            "gpt2",
            t -> {
              Map<String, Tensor> copy = new LinkedHashMap<>(t);
              t.clear();
              copy.forEach((k, v) -> t.put(k.replaceFirst("^transformer\\.", ""), v));
              t.put("h.0.attn.bias", zeros(1, 1, 4, 4));
            });
    try (HfReference ref = new HfReference("gpt2");
        Decoder d = Decoder.load(backend, dir, Decoder.Options.full())) {
      int[] rows = ref.tokenRows();
      Compare.close(
          "unprefixed gpt2 logits",
          d.logits(ref.batch(), rows),
          ref.logits("logits", rows, 256),
          1e-5,
          1e-6);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"llama", "gpt2"})
  void savedFolderLoadsBackToTheSameModel(String arch) {
    Path out = tmp.resolve(arch + "-saved");
    try (HfReference ref = new HfReference(arch);
        Decoder d = Decoder.load(backend, ref.model(), Decoder.Options.full())) {
      int[] rows = ref.tokenRows();
      float[] before = d.logits(ref.batch(), rows);
      HfCheckpoint.save(d, out, 40_000); // small shards: exercises the index
      assertThat(out.resolve("model.safetensors.index.json")).exists();
      try (Decoder again = Decoder.load(backend, out, Decoder.Options.full())) {
        assertThat(again.logits(ref.batch(), rows)).containsExactly(before);
      }
      try (SafetensorsFolder files = SafetensorsFolder.open(out);
          SafetensorsFolder orig = SafetensorsFolder.open(ref.model())) {
        assertThat(files.names()).containsExactlyInAnyOrderElementsOf(orig.names());
        for (String n : orig.names()) {
          assertThat(files.entry(n).shape()).as(n).containsExactly(orig.entry(n).shape());
        }
      }
    }
  }

  @Test
  void bf16FilesLoadIntoF32AndFrozenBf16() throws IOException {
    Path dir = tmp.resolve("bf16");
    try (HfReference ref = new HfReference("llama");
        Decoder d = Decoder.load(backend, ref.model(), Decoder.Options.full());
        Arena arena = Arena.ofConfined()) {
      Map<String, Tensor> bf16 = new LinkedHashMap<>();
      HfCheckpoint.baseTensors(d, arena)
          .forEach(
              (k, v) -> {
                Tensor b =
                    new Tensor(
                        DType.BF16,
                        v.shape(),
                        arena.allocate(v.elementCount() * 2, 64),
                        Device.CPU);
                backend.convert(b, v);
                bf16.put(k, b);
              });
      Files.createDirectories(dir);
      SafetensorsWriter.write(dir.resolve("model.safetensors"), bf16, Map.of());
      Files.copy(ref.model().resolve("config.json"), dir.resolve("config.json"));
      float[] f32 = d.logits(ref.batch(), ref.tokenRows());
      try (Decoder full = Decoder.load(backend, dir, Decoder.Options.full());
          Decoder frozen =
              Decoder.load(
                  backend,
                  dir,
                  Decoder.Options.lora(HfFixtureModelTest.lora("llama", false))
                      .withFrozenDType(DType.BF16))) {
        float[] a = full.logits(ref.batch(), ref.tokenRows());
        float[] b = frozen.logits(ref.batch(), ref.tokenRows());
        Compare.close("bf16 file logits vs f32", a, f32, 2e-2, 0);
        // B = 0 at initialization, so LoRA over BF16-stored weights is the BF16 model exactly.
        Compare.close("frozen bf16 vs bf16 file", b, a, 1e-5, 1e-6);
      }
    }
  }

  @Test
  void batchValidation() {
    try (Decoder d = new Decoder(backend, ModelConfig.shape("tiny"), Decoder.Options.full())) {
      Batch bad =
          new Batch(
              1,
              2,
              new int[] {1, 9999},
              new int[] {-100, -100},
              new int[] {0, 1},
              new int[] {1, 1});
      assertThatThrownBy(() -> d.loss(bad))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("9999");
      Batch badTarget =
          new Batch(
              1, 2, new int[] {1, 2}, new int[] {300, -100}, new int[] {0, 1}, new int[] {1, 1});
      assertThatThrownBy(() -> d.loss(badTarget)).hasMessageContaining("target id 300");
    }
    assertThatThrownBy(() -> new Batch(2, 2, new int[3], new int[4], new int[4], new int[4]))
        .hasMessageContaining("B*T = 4");
    Batch hf =
        Batch.fromHuggingFace(
            new int[][] {{5, 6, 7}}, new int[][] {{1, 1, 0}}, new int[][] {{-100, 6, -100}});
    assertThat(hf.targets()).containsExactly(6, -100, -100);
    assertThat(hf.segments()).containsExactly(1, 1, 0);
    assertThat(hf.targetCount()).isEqualTo(1);
  }
}
