package dev.entity.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModelConfigTest {

  // Abridged from the config.json files published on the Hugging Face Hub.
  static final String SMOLLM2_135M =
      """
      {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
       "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 576,
       "initializer_range": 0.041666666666666664, "intermediate_size": 1536,
       "is_llama_config": true, "max_position_embeddings": 8192, "mlp_bias": false,
       "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30,
       "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
       "rope_interleaved": false, "rope_scaling": null, "rope_theta": 100000,
       "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1",
       "use_cache": true, "vocab_size": 49152}
      """;

  static final String QWEN25_05B =
      """
      {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
       "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896,
       "initializer_range": 0.02, "intermediate_size": 4864, "max_position_embeddings": 32768,
       "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14,
       "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
       "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
       "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": true,
       "use_sliding_window": false, "vocab_size": 151936}
      """;

  static final String LLAMA32_1B_INSTRUCT =
      """
      {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
       "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
       "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
       "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
       "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
       "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
       "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
       "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
       "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256}
      """;

  static final String GPT2 =
      """
      {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
       "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
       "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
       "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
       "resid_pdrop": 0.1, "summary_activation": null, "vocab_size": 50257}
      """;

  static final String MISTRAL_7B =
      """
      {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
       "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
       "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
       "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
       "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
       "torch_dtype": "bfloat16", "vocab_size": 32000}
      """;

  @Test
  void parsesSmolLm2AsLlama() {
    ModelConfig c = ModelConfig.parse(SMOLLM2_135M, "config.json");
    assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
    assertThat(c.hiddenSize()).isEqualTo(576);
    assertThat(c.numKvHeads()).isEqualTo(3);
    assertThat(c.headDim()).isEqualTo(64);
    assertThat(c.kvDim()).isEqualTo(192);
    assertThat(c.ropeTheta()).isEqualTo(100000.0);
    assertThat(c.normEps()).isEqualTo(1e-5);
    assertThat(c.tieWordEmbeddings()).isTrue();
    assertThat(c.attentionBias()).isFalse();
    assertThat(c.ropeScaling()).isNull();
    assertThat(c.bosTokenId()).isEqualTo(1);
    assertThat(c.eosTokenIds()).containsExactly(2);
    assertThat(c.torchDtype()).isEqualTo("bfloat16");
    assertThat(c).isEqualTo(ModelConfig.shape("smollm2-135m"));
  }

  @Test
  void parsesQwen2WithQkvBiasOnly() {
    ModelConfig c = ModelConfig.parse(QWEN25_05B, "config.json");
    assertThat(c.architecture()).isEqualTo(Architecture.QWEN2);
    assertThat(c.attentionBias()).isTrue();
    assertThat(c.attentionOutputBias()).isFalse();
    assertThat(c.layerLinears())
        .filteredOn(ModelConfig.LayerLinear::bias)
        .extracting(ModelConfig.LayerLinear::name)
        .containsExactly("q_proj", "k_proj", "v_proj");
    assertThat(c).isEqualTo(ModelConfig.shape("qwen2.5-0.5b"));
  }

  @Test
  void slidingWindowOnlyWhenTheModelUsesIt() {
    assertThat(ModelConfig.parse(QWEN25_05B, "c").slidingWindow()).isNull();
    ModelConfig on =
        ModelConfig.parse(
            QWEN25_05B.replace("\"use_sliding_window\": false", "\"use_sliding_window\": true"),
            "c");
    assertThat(on.slidingWindow()).isEqualTo(32768);
    assertThat(ModelConfig.parse(on.toJson(), "again")).isEqualTo(on);
    assertThat(ModelConfig.parse(SMOLLM2_135M, "c").slidingWindow()).isNull();
    assertThatThrownBy(
            () ->
                ModelConfig.parse(
                    MISTRAL_7B.replace("\"sliding_window\": 4096", "\"sliding_window\": 0"), "m"))
        .hasMessageContaining("sliding_window must be a positive integer");
  }

  @Test
  void parsesLlama32WithRopeScalingAndEosList() {
    ModelConfig c = ModelConfig.parse(LLAMA32_1B_INSTRUCT, "config.json");
    assertThat(c.ropeScaling()).isEqualTo(new ModelConfig.RopeScaling(32, 1, 4, 8192));
    assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
    assertThat(c.maxPositions()).isEqualTo(131072);
    assertThat(c.parameterCount()).isEqualTo(ModelConfig.shape("llama-3.2-1b").parameterCount());
  }

  @Test
  void parsesGpt2KeysAndDefaults() {
    ModelConfig c = ModelConfig.parse(GPT2, "config.json");
    assertThat(c.architecture()).isEqualTo(Architecture.GPT2);
    assertThat(c.hiddenSize()).isEqualTo(768);
    assertThat(c.numLayers()).isEqualTo(12);
    assertThat(c.intermediateSize()).isEqualTo(3072);
    assertThat(c.maxPositions()).isEqualTo(1024);
    assertThat(c.hiddenAct()).isEqualTo("gelu_new");
    assertThat(c.tieWordEmbeddings()).isTrue();
    assertThat(c.torchDtype()).isNull();
    assertThat(c.layerLinears())
        .extracting(ModelConfig.LayerLinear::name)
        .containsExactly("c_attn", "c_proj", "c_fc", "c_proj");
  }

  @Test
  void mistralIsLlamaFamilyAndKeepsItsModelType() {
    ModelConfig c = ModelConfig.parse(MISTRAL_7B, "config.json");
    assertThat(c.architecture()).isEqualTo(Architecture.LLAMA);
    assertThat(c.modelType()).isEqualTo("mistral");
    assertThat(c.toJson()).contains("\"model_type\" : \"mistral\"");
    assertThat(c.slidingWindow()).isEqualTo(4096);
    // Mistral-7B-v0.1 has 7,241,732,096 parameters.
    assertThat(c.parameterCount()).isEqualTo(7_241_732_096L);
  }

  // Totals published for these models (safetensors metadata / model cards).
  @ParameterizedTest
  @CsvSource({
    "smollm2-135m, 134515008",
    "qwen2.5-0.5b, 494032768",
    "llama-3.2-1b, 1235814400",
    "llama-3-8b, 8030261248",
    "gpt2, 124439808"
  })
  void parameterCountsMatchPublishedTotals(String shape, long expected) {
    ModelConfig c = ModelConfig.shape(shape);
    assertThat(c.parameterCount()).isEqualTo(expected);
    assertThat(c.parameterCountByRole().values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(expected);
  }

  // sum(p.numel() for p in model.parameters()) of transformers 5.18 models built from these
  // configs (random weights): covers untied heads, llama biases, head_dim, n_inner, qwen2 biases.
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{'model_type':'llama','vocab_size':256,'hidden_size':64,'num_hidden_layers':2,'num_attention_heads':4,'num_key_value_heads':2,'intermediate_size':128,'tie_word_embeddings':false} | 106816",
        "{'model_type':'llama','vocab_size':256,'hidden_size':64,'num_hidden_layers':2,'num_attention_heads':4,'num_key_value_heads':2,'intermediate_size':128,'attention_bias':true,'mlp_bias':true,'tie_word_embeddings':true} | 91456",
        "{'model_type':'llama','vocab_size':256,'hidden_size':64,'num_hidden_layers':2,'num_attention_heads':4,'num_key_value_heads':2,'head_dim':32,'intermediate_size':128,'tie_word_embeddings':true} | 115008",
        "{'model_type':'gpt2','vocab_size':300,'n_embd':64,'n_layer':3,'n_head':4,'n_inner':100,'n_positions':128} | 117100",
        "{'model_type':'qwen2','vocab_size':300,'hidden_size':64,'num_hidden_layers':3,'num_attention_heads':4,'num_key_value_heads':2,'intermediate_size':100,'tie_word_embeddings':false} | 133696",
      })
  void parameterCountsMatchTransformers(String json, long expected) {
    ModelConfig c = ModelConfig.parse(json.replace('\'', '"'), "config.json");
    assertThat(c.parameterCount()).isEqualTo(expected);
  }

  @Test
  void untiedModelsCountTheirLmHead() {
    ModelConfig c = ModelConfig.shape("llama-3-8b");
    assertThat(c.parameterCountByRole().get("lm_head")).isEqualTo(128256L * 4096);
    assertThat(ModelConfig.shape("llama-3.2-1b").parameterCountByRole().get("lm_head")).isZero();
    assertThat(ModelConfig.shape("gpt2").parameterCountByRole().get("positions"))
        .isEqualTo(1024L * 768);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "gpt2", "smollm2-135m", "qwen2.5-0.5b", "llama-3.2-1b"})
  void toJsonRoundTrips(String shape) {
    ModelConfig c = ModelConfig.shape(shape);
    assertThat(ModelConfig.parse(c.toJson(), "roundtrip")).isEqualTo(c);
  }

  @Test
  void parsedConfigsRoundTripThroughTheirFamilysKeys() {
    for (String json : List.of(GPT2, MISTRAL_7B, LLAMA32_1B_INSTRUCT, QWEN25_05B)) {
      ModelConfig c = ModelConfig.parse(json, "config.json");
      assertThat(ModelConfig.parse(c.toJson(), "again")).isEqualTo(c);
    }
    assertThat(ModelConfig.shape("gpt2").toJson())
        .contains("\"n_embd\"")
        .doesNotContain("hidden_size");
    assertThat(ModelConfig.shape("qwen2.5-0.5b").toJson()).doesNotContain("attention_bias");
  }

  @Test
  void loadsFromAFolderAndWritesBack(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("config.json"), QWEN25_05B);
    ModelConfig c = ModelConfig.load(dir);
    Path out = dir.resolve("out.json");
    c.write(out);
    assertThat(ModelConfig.load(out)).isEqualTo(c);
  }

  @Test
  void missingFileNamesIt(@TempDir Path dir) {
    assertThatThrownBy(() -> ModelConfig.load(dir))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining(dir.resolve("config.json").toString())
        .hasMessageContaining("not found");
  }

  @Test
  void unknownModelTypeListsSupported() {
    assertThatThrownBy(
            () ->
                ModelConfig.parse(
                    "{\"model_type\": \"phi3\", \"hidden_size\": 8}", "m/config.json"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("m/config.json")
        .hasMessageContaining("phi3")
        .hasMessageContaining("llama, mistral, qwen2, gpt2");
  }

  @Test
  void missingModelType() {
    assertThatThrownBy(() -> ModelConfig.parse("{\"hidden_size\": 8}", "c.json"))
        .hasMessageContaining("c.json")
        .hasMessageContaining("model_type");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "\"hidden_size\": 576, | missing required key \"hidden_size\"",
        "\"hidden_size\": 577, | not divisible by num_attention_heads",
        "\"num_key_value_heads\": 4, | must be a multiple of num_key_value_heads",
        "\"num_hidden_layers\": 0, | num_hidden_layers must be a positive integer",
        "\"intermediate_size\": -5, | intermediate_size must be a positive integer",
        "\"vocab_size\": \"big\", | \"vocab_size\" must be an integer",
        "\"vocab_size\": 1.5, | \"vocab_size\" must be an integer",
        "\"vocab_size\": 99999999999, | \"vocab_size\" must be an integer",
        "\"tie_word_embeddings\": \"yes\", | must be true or false",
        "\"hidden_act\": \"relu\", | activation 'relu' is not supported",
        "\"rms_norm_eps\": -1, | norm epsilon",
        "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}, | rope_scaling type 'yarn' is not supported",
        "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}, | rope_scaling.low_freq_factor",
        "\"rope_scaling\": 3, | must be an object",
      })
  void invalidFieldsAreNamed(String override, String expected) {
    // Later keys win in Jackson's tree, so the override goes last; "hidden_size" removal is
    // exercised by replacing it instead.
    String base = SMOLLM2_135M.trim();
    String json =
        override.startsWith("\"hidden_size\": 576")
            ? base.replace("\"hidden_size\": 576,", "")
            : base.substring(0, base.length() - 1) + ", " + override.replaceAll(",\\s*$", "") + "}";
    assertThatThrownBy(() -> ModelConfig.parse(json, "bad/config.json"))
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("bad/config.json: ")
        .hasMessageContaining(expected);
  }

  @Test
  void gpt2NotDivisible() {
    String json = GPT2.replace("\"n_embd\": 768", "\"n_embd\": 770");
    assertThatThrownBy(() -> ModelConfig.parse(json, "g.json"))
        .hasMessageContaining("n_embd (770) is not divisible by n_head (12)");
  }

  @Test
  void malformedAndHostileJson() {
    String truncated = SMOLLM2_135M.substring(0, SMOLLM2_135M.length() / 2);
    assertThatThrownBy(() -> ModelConfig.parse(truncated, "t.json"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("t.json: invalid JSON at line");
    assertThatThrownBy(() -> ModelConfig.parse("[1,2]", "a.json"))
        .hasMessageContaining("expected a JSON object");
    assertThatThrownBy(() -> ModelConfig.parse("", "e.json")).isInstanceOf(EngineException.class);
    assertThatThrownBy(() -> ModelConfig.parse("{\"model_type\": 7}", "n.json"))
        .hasMessageContaining("\"model_type\" must be a string");
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertThatThrownBy(() -> ModelConfig.parse(deep, "d.json")).isInstanceOf(EngineException.class);
    assertThatThrownBy(() -> ModelConfig.parse("{\"model_type\": \"llama\"} trailing", "x.json"))
        .isInstanceOf(EngineException.class);
  }

  @Test
  void binaryFileIsRefused(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("config.json");
    Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
    assertThatThrownBy(() -> ModelConfig.load(f))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining(f.toString());
  }

  @Test
  void unknownShapeListsValidNames() {
    assertThatThrownBy(() -> ModelConfig.shape("llama-9b"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("llama-9b")
        .hasMessageContaining("smollm2-135m")
        .hasMessageContaining("llama-3-8b");
    for (String name : ModelConfig.shapeNames()) {
      assertThat(ModelConfig.shape(name).parameterCount()).isPositive();
    }
  }

  @Test
  void tinyIsSmallWithGroupedQueryAttention() {
    ModelConfig tiny = ModelConfig.shape("tiny");
    assertThat(tiny.numKvHeads()).isLessThan(tiny.numHeads());
    assertThat(tiny.parameterCount()).isLessThan(200_000);
  }
}
