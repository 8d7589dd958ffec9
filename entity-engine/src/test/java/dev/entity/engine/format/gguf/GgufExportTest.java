package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What {@link GgufExport} writes, read back with {@link GgufReader}; and what it refuses. */
class GgufExportTest {

  @TempDir static Path dir;
  static CpuBackend backend;
  static final java.util.Map<Architecture, ModelConfig> CONFIGS = new java.util.HashMap<>();

  @BeforeAll
  static void models() {
    backend = new CpuBackend(1);
    for (Architecture a : Architecture.values()) {
      CONFIGS.put(a, TinyHfModels.write(backend, a, folder(a), 9));
    }
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  static Path folder(Architecture a) {
    return dir.resolve(a.name().toLowerCase());
  }

  static float[] hf(Architecture a, String name) {
    try (SafetensorsFile f = SafetensorsFile.open(folder(a).resolve("model.safetensors"));
        Arena arena = Arena.ofConfined()) {
      return f.readF32(name, arena).data().toArray(ValueLayout.JAVA_FLOAT);
    }
  }

  static float[] gguf(GgufReader r, String name) {
    try (Arena arena = Arena.ofConfined()) {
      return r.readF32(name, arena).data().toArray(ValueLayout.JAVA_FLOAT);
    }
  }

  @Test
  void llamaMetadataTensorsAndTypes() {
    Path out = dir.resolve("llama-q8.gguf");
    GgufExport.model(folder(Architecture.LLAMA), out, GgufExport.Options.of(GgmlType.Q8_0));
    ModelConfig c = CONFIGS.get(Architecture.LLAMA);
    try (GgufReader r = GgufReader.open(out)) {
      Map<String, GgufValue> m = r.metadata();
      assertThat(m.get("general.architecture").asString()).isEqualTo("llama");
      assertThat(m.get("general.file_type").asInt()).isEqualTo(7);
      assertThat(m.get("llama.block_count").asInt()).isEqualTo(2);
      assertThat(m.get("llama.attention.head_count").asInt()).isEqualTo(4);
      assertThat(m.get("llama.attention.head_count_kv").asInt()).isEqualTo(2);
      assertThat(m.get("llama.rope.dimension_count").asInt()).isEqualTo(16);
      assertThat(m.get("llama.rope.freq_base").asDouble()).isEqualTo(10000);
      assertThat(m.get("llama.context_length").asInt()).isEqualTo(c.maxPositions());
      assertThat(m.get("tokenizer.ggml.model").asString()).isEqualTo("gpt2");
      assertThat(m.get("tokenizer.ggml.pre").asString()).isEqualTo("gpt-2");
      assertThat(m.get("tokenizer.ggml.tokens").asStrings())
          .hasSize(c.vocabSize())
          .contains("<|im_end|>");
      assertThat(m.get("tokenizer.ggml.eos_token_id").asInt()).isEqualTo(0);
      assertThat(m.get("tokenizer.ggml.eot_token_id").asInt()).isEqualTo(2);
      assertThat(m.get("tokenizer.ggml.add_bos_token").asBoolean()).isFalse();
      assertThat(m.get("tokenizer.chat_template").asString()).isEqualTo(TinyHfModels.CHATML);
      assertThat(m.get("tokenizer.ggml.merges").asStrings())
          .isNotEmpty()
          .allMatch(s -> s.contains(" "));
      assertThat(r.tensors())
          .extracting(GgufTensorInfo::name)
          .contains("token_embd.weight", "output.weight", "output_norm.weight", "rope_freqs.weight")
          .contains("blk.1.attn_q.weight", "blk.1.attn_k.weight", "blk.1.ffn_gate.weight")
          .hasSize(3 + 1 + 2 * 9);
      assertThat(r.tensor("blk.0.attn_norm.weight").type()).isEqualTo(GgmlType.F32);
      assertThat(r.tensor("rope_freqs.weight").type()).isEqualTo(GgmlType.F32);
      assertThat(r.tensor("blk.0.attn_k.weight").type()).isEqualTo(GgmlType.Q8_0);
      assertThat(r.tensor("blk.0.attn_k.weight").shape()).containsExactly(32, 64);
      assertThat(r.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q8_0);
      // llama3 scaling, original context 16 (wavelengths 4 and 16 bound the band), head dim 16:
      // frequency 1 (wavelength 2π) is in the band: smooth = (16 / 2π - 1) / 3
      float[] f = gguf(r, "rope_freqs.weight");
      assertThat(f).hasSize(8);
      double smooth = (16 / (2 * Math.PI) - 1) / 3;
      assertThat((double) f[0]).isCloseTo(1 / ((1 - smooth) / 8 + smooth), within(1e-6));
      assertThat(f[7]).isEqualTo(8f);
      for (int i = 1; i < 8; i++) {
        assertThat(f[i]).isGreaterThanOrEqualTo(f[i - 1]);
      }
    }
  }

  @Test
  void endOfTurnIsTheTemplatesMarkerWhenItIsNotEos() throws IOException {
    // our tiny models: EOS <|endoftext|>, ChatML template ending turns with <|im_end|>
    assertThat(
            GgufTokenizerMetadata.endOfTurn(
                dev.entity.engine.tokenizer.Tokenizer.load(folder(Architecture.LLAMA))))
        .hasValue(2);
    // the quickstart's llama: EOS is <|im_end|> itself, so no separate end-of-turn id
    Path tiny = dir.resolve("tiny-model");
    dev.entity.engine.model.TinyModel.Result r =
        dev.entity.engine.model.TinyModel.write(
            backend,
            dev.entity.engine.model.TinyModel.Spec.of(Architecture.LLAMA),
            List.of(
                List.of(
                    dev.entity.engine.template.ChatMessage.user("Hello there, how are you?"),
                    dev.entity.engine.template.ChatMessage.assistant("Fine, thank you!"))),
            tiny,
            false);
    assertThat(GgufTokenizerMetadata.endOfTurn(r.tokenizer())).isEmpty();
    Path out = dir.resolve("tiny-model.gguf");
    GgufExport.model(tiny, out, GgufExport.Options.of(GgmlType.F16));
    try (GgufReader g = GgufReader.open(out)) {
      assertThat(g.metadata()).doesNotContainKey("tokenizer.ggml.eot_token_id");
      assertThat(g.value("tokenizer.ggml.eos_token_id").asInt())
          .isEqualTo(r.tokenizer().tokenToId("<|im_end|>").getAsInt());
      assertThat(g.value("tokenizer.ggml.bos_token_id").asInt())
          .isEqualTo(r.tokenizer().tokenToId("<|endoftext|>").getAsInt());
      assertThat(g.value("tokenizer.chat_template").asString()).contains("<|im_start|>");
    }
  }

  @Test
  void llamaQueryAndKeyRowsArePermutedPerHead() {
    Path out = dir.resolve("llama-f32.gguf");
    GgufExport.model(folder(Architecture.LLAMA), out, GgufExport.Options.of(GgmlType.F32));
    try (GgufReader r = GgufReader.open(out)) {
      for (String[] qk : new String[][] {{"q_proj", "attn_q", "4"}, {"k_proj", "attn_k", "2"}}) {
        float[] src = hf(Architecture.LLAMA, "model.layers.1.self_attn." + qk[0] + ".weight");
        float[] dst = gguf(r, "blk.1." + qk[1] + ".weight");
        int heads = Integer.parseInt(qk[2]);
        int cols = 64;
        int rows = src.length / cols;
        int hd = rows / heads;
        // GGUF row h*hd + 2i + j is HF row h*hd + j*hd/2 + i
        for (int h = 0; h < heads; h++) {
          for (int i = 0; i < hd / 2; i++) {
            for (int j = 0; j < 2; j++) {
              for (int col = 0; col < cols; col++) {
                assertThat(dst[(h * hd + 2 * i + j) * cols + col])
                    .isEqualTo(src[(h * hd + j * hd / 2 + i) * cols + col]);
              }
            }
          }
        }
      }
      assertThat(gguf(r, "blk.0.attn_v.weight"))
          .containsExactly(hf(Architecture.LLAMA, "model.layers.0.self_attn.v_proj.weight"));
      assertThat(gguf(r, "output.weight"))
          .containsExactly(hf(Architecture.LLAMA, "lm_head.weight"));
    }
  }

  @Test
  void qwen2KeepsRowOrderAndBiasesAndTiesItsHead() {
    Path out = dir.resolve("qwen2-bf16.gguf");
    GgufExport.model(folder(Architecture.QWEN2), out, GgufExport.Options.of(GgmlType.BF16));
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.value("general.architecture").asString()).isEqualTo("qwen2");
      assertThat(r.value("qwen2.attention.layer_norm_rms_epsilon").asDouble())
          .isEqualTo((double) 1e-6f);
      assertThat(r.tensors()).extracting(GgufTensorInfo::name).doesNotContain("output.weight");
      assertThat(r.tensor("blk.0.attn_q.bias").type()).isEqualTo(GgmlType.F32);
      assertThat(gguf(r, "blk.0.attn_q.bias"))
          .containsExactly(hf(Architecture.QWEN2, "model.layers.0.self_attn.q_proj.bias"));
      float[] q = hf(Architecture.QWEN2, "model.layers.0.self_attn.q_proj.weight");
      float[] back = gguf(r, "blk.0.attn_q.weight");
      for (int i = 0; i < q.length; i++) {
        assertThat(back[i])
            .isEqualTo(
                dev.entity.engine.format.safetensors.StoredConversion.bf16ToF32(
                    dev.entity.engine.format.safetensors.StoredConversion.f32ToBf16(q[i])));
      }
      // the padded vocabulary: 20 ids beyond the tokenizer are unused placeholders
      List<String> tokens = r.value("tokenizer.ggml.tokens").asStrings();
      int vocab = CONFIGS.get(Architecture.QWEN2).vocabSize();
      assertThat(tokens.get(vocab - 1)).isEqualTo("[PAD" + (vocab - 1) + "]");
      assertThat(r.value("tokenizer.ggml.token_type").asList().get(vocab - 1)).isEqualTo(5L);
    }
  }

  @Test
  void gpt2ConvWeightsAreTransposedAndPositionsStayF32() {
    Path out = dir.resolve("gpt2-q4.gguf");
    GgufExport.model(folder(Architecture.GPT2), out, GgufExport.Options.of(GgmlType.Q4_0));
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.value("gpt2.attention.layer_norm_epsilon").asDouble()).isEqualTo((double) 1e-5f);
      assertThat(r.tensor("position_embd.weight").type()).isEqualTo(GgmlType.F32);
      assertThat(r.tensor("blk.0.attn_qkv.weight").shape()).containsExactly(192, 64);
      assertThat(r.tensor("blk.0.attn_qkv.weight").type()).isEqualTo(GgmlType.Q4_0);
      assertThat(r.tensor("blk.0.attn_qkv.bias").shape()).containsExactly(192);
      assertThat(r.tensor("blk.0.ffn_up.weight").shape()).containsExactly(128, 64);
      assertThat(r.tensor("blk.0.ffn_down.weight").shape()).containsExactly(64, 128);
      assertThat(r.tensors()).extracting(GgufTensorInfo::name).doesNotContain("output.weight");
      // the stored blocks are the Q4_0 of the transposed Conv1D weight, row by row
      float[] conv = hf(Architecture.GPT2, "transformer.h.0.mlp.c_fc.weight"); // (64, 128)
      float[] t = new float[conv.length];
      for (int i = 0; i < 64; i++) {
        for (int o = 0; o < 128; o++) {
          t[o * 64 + i] = conv[i * 128 + o];
        }
      }
      byte[] expected = dev.entity.engine.quant.QuantFormat.Q4_0.quantize(t);
      assertThat(r.bytes("blk.0.ffn_up.weight").toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = GgmlType.class,
      names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_1"})
  void everyTypeReadsBackCloseToTheWeights(GgmlType type) {
    Path out = dir.resolve("qwen2-" + type + ".gguf");
    GgufExport.model(folder(Architecture.QWEN2), out, GgufExport.Options.of(type));
    float[] w = hf(Architecture.QWEN2, "model.layers.1.mlp.down_proj.weight");
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.value("general.file_type").asInt()).isEqualTo(type.fileType());
      assertThat(r.tensor("blk.1.ffn_down.weight").type()).isEqualTo(type);
      float[] back = gguf(r, "blk.1.ffn_down.weight");
      double worst = 0;
      for (int i = 0; i < w.length; i++) {
        worst = Math.max(worst, Math.abs(back[i] - w[i]));
      }
      double bound =
          switch (type) {
            case F32 -> 0;
            case F16 -> 1e-3;
            case BF16 -> 4e-3;
            case Q8_0 -> 5e-3;
            default -> 0.1;
          };
      assertThat(worst).isLessThanOrEqualTo(bound);
    }
  }

  @Test
  void rowsThatAreNotWholeBlocksFallBackToF16() throws IOException {
    Path f = Files.createDirectories(dir.resolve("odd"));
    for (String n : List.of("tokenizer.json", "tokenizer_config.json")) {
      Files.copy(folder(Architecture.LLAMA).resolve(n), f.resolve(n));
    }
    ModelConfig base = CONFIGS.get(Architecture.QWEN2);
    ModelConfig odd =
        new ModelConfig(
            Architecture.QWEN2,
            "qwen2",
            base.vocabSize(),
            64,
            1,
            4,
            2,
            16,
            40,
            32,
            1e-6,
            1e6,
            null,
            true,
            true,
            false,
            false,
            "silu",
            null,
            List.of(0),
            "float32",
            null);
    TinyHfModels.writeWeights(backend, odd, f, 3);
    Path out = dir.resolve("odd.gguf");
    GgufExport.model(f, out, GgufExport.Options.of(GgmlType.Q5_1));
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.tensor("blk.0.ffn_down.weight").type()).isEqualTo(GgmlType.F16);
      assertThat(r.tensor("blk.0.ffn_up.weight").type()).isEqualTo(GgmlType.Q5_1);
    }
  }

  @Test
  void refusesWhatLlamaCppCouldNotUse() throws IOException {
    Path noTok = Files.createDirectories(dir.resolve("no-tokenizer"));
    Files.copy(folder(Architecture.LLAMA).resolve("config.json"), noTok.resolve("config.json"));
    assertThatThrownBy(
            () ->
                GgufExport.model(noTok, dir.resolve("x.gguf"), GgufExport.Options.of(GgmlType.F32)))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("no tokenizer.json");

    Path wrong = Files.createDirectories(dir.resolve("wrong-shape"));
    for (String n : List.of("tokenizer.json", "tokenizer_config.json", "model.safetensors")) {
      Files.copy(folder(Architecture.LLAMA).resolve(n), wrong.resolve(n));
    }
    Files.writeString(
        wrong.resolve("config.json"),
        Files.readString(folder(Architecture.LLAMA).resolve("config.json"))
            .replaceAll("\"intermediate_size\"\\s*:\\s*96", "\"intermediate_size\": 64"));
    assertThatThrownBy(
            () ->
                GgufExport.model(wrong, dir.resolve("y.gguf"), GgufExport.Options.of(GgmlType.F32)))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("has shape")
        .hasMessageContaining("config.json");
    assertThat(dir.resolve("y.gguf")).doesNotExist();

    assertThatThrownBy(() -> GgufExport.parseType("q4_k"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("f32, f16, bf16, q8_0, q4_0, q5_1");
    assertThat(GgufExport.parseType(" Q5_1 ")).isEqualTo(GgmlType.Q5_1);
    assertThatThrownBy(() -> GgufExport.Options.of(GgmlType.Q4_K))
        .isInstanceOf(EngineException.class);
  }

  @Test
  void loraAdapterTensorsAndTheirRefusals() throws IOException {
    ModelConfig c = CONFIGS.get(Architecture.LLAMA);
    Path adapter = dir.resolve("llama-adapter");
    TinyHfModels.writeAdapterAndMerged(c, folder(Architecture.LLAMA), adapter, dir.resolve("m"));
    Path out = dir.resolve("lora.gguf");
    GgufExport.adapter(adapter, folder(Architecture.LLAMA), out);
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.value("general.type").asString()).isEqualTo("adapter");
      assertThat(r.value("adapter.type").asString()).isEqualTo("lora");
      assertThat(r.value("adapter.lora.alpha").asDouble()).isEqualTo(8);
      assertThat(r.tensor("blk.0.attn_q.weight.lora_a").shape()).containsExactly(4, 64);
      assertThat(r.tensor("blk.0.attn_q.weight.lora_b").shape()).containsExactly(64, 4);
      assertThat(r.tensor("blk.1.ffn_down.weight.lora_a").shape()).containsExactly(4, 96);
      assertThat(r.tensors()).hasSize(2 * 7 * 2);
    }
    Files.writeString(
        adapter.resolve("adapter_config.json"),
        "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"use_rslora\": true}");
    GgufExport.adapter(adapter, folder(Architecture.LLAMA), out);
    try (GgufReader r = GgufReader.open(out)) {
      assertThat(r.value("adapter.lora.alpha").asDouble()).isEqualTo(16); // 8 × sqrt(4)
    }
    Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\": \"IA3\"}");
    assertThatThrownBy(() -> GgufExport.adapter(adapter, folder(Architecture.LLAMA), out))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("adapter_config.json")
        .hasMessageContaining("LORA");
    Files.writeString(
        adapter.resolve("adapter_config.json"),
        "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 8}");
    assertThatThrownBy(() -> GgufExport.adapter(adapter, folder(Architecture.LLAMA), out))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("with r = 8");
    // an adapter of a qwen2 model does not fit the gpt2 base
    assertThatThrownBy(
            () -> GgufExport.adapter(adapter, folder(Architecture.GPT2), dir.resolve("z.gguf")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("is not a linear layer of this gpt2 model");
  }
}
