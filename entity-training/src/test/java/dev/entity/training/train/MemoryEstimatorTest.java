package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.entity.core.EntityException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.ParameterStore.Storage;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.tensor.DType;
import dev.entity.training.train.MemoryEstimator.Estimate;
import dev.entity.training.train.MemoryEstimator.Fit;
import dev.entity.training.train.MemoryEstimator.Target;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryEstimatorTest {

  static final ModelConfig SMOLLM2 = ModelConfig.shape("smollm2-135m");
  static final TrainingConfig LORA =
      TrainingConfig.defaults("m").with("batch_size", 4).with("max_seq_length", 512);

  static Estimate estimate(ModelConfig model, TrainingConfig config) {
    return new MemoryEstimator(model, config, Target.CPU).estimate();
  }

  @ParameterizedTest
  @ValueSource(strings = {"full", "lora", "qlora"})
  void breakdownSumsToTotal(String method) {
    for (String shape : ModelConfig.shapeNames()) {
      ModelConfig model = ModelConfig.shape(shape);
      TrainingConfig config =
          LORA.with("training_method", method)
              .with("max_seq_length", Math.min(512, model.maxPositions()));
      Estimate e = estimate(model, config);
      assertThat(e.items()).allMatch(i -> i.bytes() > 0, "every item positive");
      assertThat(e.total())
          .isEqualTo(e.items().stream().mapToLong(MemoryEstimator.Item::bytes).sum());
      assertThat(e.bytesOf("gradients (F32)")).isEqualTo(4 * e.trainableParameters());
      assertThat(e.bytesOf("AdamW moments (2 × F32)")).isEqualTo(8 * e.trainableParameters());
    }
  }

  @Test
  void loraTrainableCountMatchesPeft() {
    // PEFT's print_trainable_parameters for SmolLM2-135M, r=16 on every linear of the blocks.
    assertThat(estimate(SMOLLM2, LORA).trainableParameters()).isEqualTo(4_884_480L);
    Estimate qv = estimate(SMOLLM2, LORA.with("target_modules", List.of("q_proj", "v_proj")));
    assertThat(qv.trainableParameters()).isEqualTo(30L * 16 * ((576 + 576) + (576 + 192)));
    // GPT-2: c_proj names both the attention and the MLP output projection.
    Estimate gpt2 =
        estimate(ModelConfig.shape("gpt2"), LORA.with("target_modules", List.of("c_proj")));
    assertThat(gpt2.trainableParameters()).isEqualTo(12L * 16 * ((768 + 768) + (3072 + 768)));
  }

  @Test
  void loraTrainableCountsMatchPeftOnSmallModels() {
    // Trainable parameters PEFT 0.21 reports for get_peft_model on these transformers models.
    ModelConfig llama =
        ModelConfig.parse(
            """
            {"model_type": "llama", "vocab_size": 300, "hidden_size": 96, "num_hidden_layers": 3,
             "num_attention_heads": 6, "num_key_value_heads": 2, "intermediate_size": 160,
             "tie_word_embeddings": true}
            """,
            "llama");
    assertThat(estimate(llama, LORA).trainableParameters()).isEqualTo(67_584);
    ModelConfig gpt2 =
        ModelConfig.parse(
            """
            {"model_type": "gpt2", "vocab_size": 300, "n_embd": 64, "n_layer": 3, "n_head": 4,
             "n_positions": 128}
            """,
            "gpt2");
    TrainingConfig r8 = LORA.with("lora_r", 8).with("lora_alpha", 16).with("max_seq_length", 128);
    assertThat(estimate(gpt2, r8.with("target_modules", List.of("c_proj"))).trainableParameters())
        .isEqualTo(10_752);
    assertThat(estimate(gpt2, r8).trainableParameters()).isEqualTo(24_576);
  }

  @Test
  void fullFineTuningTrainsEveryParameter() {
    Estimate e = estimate(SMOLLM2, LORA.with("training_method", "full"));
    assertThat(e.trainableParameters()).isEqualTo(SMOLLM2.parameterCount());
    assertThat(e.bytesOf("trainable weights (F32)")).isEqualTo(4 * SMOLLM2.parameterCount());
  }

  @Test
  void frozenWeightsAddUpToTheModel() {
    for (String shape : List.of("smollm2-135m", "llama-3-8b", "gpt2")) {
      ModelConfig m = ModelConfig.shape(shape);
      Estimate e = estimate(m, LORA);
      long frozen =
          e.bytesOf("frozen block linears, lm_head (F32)")
              + e.bytesOf("frozen embeddings, norms, biases (F32)");
      assertThat(frozen).isEqualTo(4 * m.parameterCount());
    }
  }

  @Test
  void bf16HalvesAndNf4QuartersTheFrozenLinears() {
    ModelConfig m = ModelConfig.shape("llama-3.2-1b");
    long f32 = estimate(m, LORA).bytesOf("frozen block linears, lm_head (F32)");
    Estimate half = estimate(m, LORA.with("frozen_weights_dtype", "bf16"));
    long embeddings = (long) m.vocabSize() * m.hiddenSize(); // tied: no lm_head
    long bf16 = half.bytesOf("frozen block linears, embeddings, lm_head (BF16)");
    assertThat(bf16).isEqualTo(f32 / 2 + 2 * embeddings);
    assertThat(half.bytesOf("frozen norms, biases (F32)"))
        .isEqualTo(
            estimate(m, LORA).bytesOf("frozen embeddings, norms, biases (F32)") - 4 * embeddings);
    Estimate q = estimate(m, LORA.with("training_method", "qlora"));
    long nf4 = q.bytesOf("frozen block linears (NF4)");
    long linears = 16L * m.layerLinears().stream().mapToLong(l -> l.in() * l.out()).sum();
    // 4 bits per weight plus ~0.127 bit of double-quantized absmax.
    assertThat(nf4 * 8.0 / linears).isCloseTo(4 + 8.0 / 64 + 32.0 / (64 * 256), within(1e-3));
    long single =
        estimate(m, LORA.with("training_method", "qlora").with("bnb_4bit_use_double_quant", false))
            .bytesOf("frozen block linears (NF4)");
    assertThat(single * 8.0 / linears).isCloseTo(4.5, within(1e-3));
    // Embeddings (tied) and norms stay F32 under qlora.
    assertThat(q.bytesOf("frozen embeddings, norms, biases, lm_head (F32)"))
        .isEqualTo(4 * (m.parameterCount() - linears));
  }

  /** The frozen-weight items equal what the engine's ParameterStore allocates, within padding. */
  @ParameterizedTest
  @ValueSource(strings = {"qlora", "lora-bf16"})
  void frozenWeightItemsMatchTheEngineStore(String method) {
    ModelConfig m = SMOLLM2;
    boolean qlora = method.equals("qlora");
    TrainingConfig config =
        qlora ? LORA.with("training_method", "qlora") : LORA.with("frozen_weights_dtype", "bf16");
    Estimate e = estimate(m, config);
    LoraConfig lora = new LoraConfig(16, 32, 0, List.of(LoraConfig.ALL_LINEAR), false, 1);
    Decoder.Options options =
        qlora
            ? Decoder.Options.qlora(lora, Nf4Config.of("bfloat16", true))
            : Decoder.Options.lora(lora).withFrozenDType(DType.BF16);
    try (Backend backend = new CpuBackend(1);
        Decoder d = new Decoder(backend, m, options)) {
      ParameterStore store = d.store();
      long frozen =
          store.bytes(Storage.FROZEN)
              + store.bytes(Storage.FROZEN_COMPACT)
              + store.bytes(Storage.FROZEN_NF4);
      long estimated =
          qlora
              ? e.bytesOf("frozen block linears (NF4)")
                  + e.bytesOf("frozen embeddings, norms, biases, lm_head (F32)")
              : e.bytesOf("frozen block linears, embeddings, lm_head (BF16)")
                  + e.bytesOf("frozen norms, biases (F32)");
      assertThat((double) frozen).isCloseTo(estimated, within(estimated * 0.005));
      assertThat(store.bytes(Storage.TRAINABLE))
          .isCloseTo(
              e.bytesOf("LoRA adapters (F32)"), within(e.bytesOf("LoRA adapters (F32)") / 100));
    }
  }

  @Test
  void nf4BytesFollowTheBlockLayout() {
    MemoryEstimator q =
        new MemoryEstimator(SMOLLM2, LORA.with("training_method", "qlora"), Target.CPU);
    // 32768 weights: 16384 packed bytes, 512 blocks -> 512 absmax codes + 2 F32 scales + offset.
    assertThat(q.nf4Bytes(32768)).isEqualTo(16384 + 512 + 8 + 4);
    assertThat(q.nf4Bytes(65)).isEqualTo(33 + 2 + 4 + 4);
    MemoryEstimator single =
        new MemoryEstimator(
            SMOLLM2,
            LORA.with("training_method", "qlora").with("bnb_4bit_use_double_quant", false),
            Target.CPU);
    assertThat(single.nf4Bytes(32768)).isEqualTo(16384 + 4 * 512);
  }

  @Test
  void checkpointingKeepsOnlyLayerInputs() {
    Estimate plain = estimate(SMOLLM2, LORA);
    Estimate ckpt = estimate(SMOLLM2, LORA.with("gradient_checkpointing", true));
    assertThat(ckpt.activationBytes()).isLessThan(plain.activationBytes() / 5);
    MemoryEstimator est = new MemoryEstimator(SMOLLM2, LORA, Target.CPU);
    long perLayer = 4 * est.perLayerActivations(4L * 512, 16, 7);
    assertThat(plain.activationBytes() - ckpt.activationBytes()).isEqualTo(29 * perLayer);
    assertThat(ckpt.total()).isEqualTo(plain.total() - 29 * perLayer);
  }

  @Test
  void activationsGrowLinearlyWithBatchAndSequence() {
    long a1 = estimate(SMOLLM2, LORA.with("batch_size", 1)).activationBytes();
    long a4 = estimate(SMOLLM2, LORA.with("batch_size", 4)).activationBytes();
    long s2 =
        estimate(SMOLLM2, LORA.with("batch_size", 1).with("max_seq_length", 2048))
            .activationBytes();
    assertThat(a4).isEqualTo(4 * a1);
    assertThat(s2).isEqualTo(4 * a1); // attention is blocked: no T×T matrix is held
    // Per token per layer, SmolLM2 saves 2C+2 norms, 2 QD + 2 KD + NH + C attention, 3F MLP, 7R
    // LoRA.
    long perToken = (2 * 577) + (2 * 576 + 2 * 192 + 9 + 576) + 3 * 1536 + 7 * 16;
    assertThat(new MemoryEstimator(SMOLLM2, LORA, Target.CPU).perLayerActivations(1, 16, 7))
        .isEqualTo(perToken);
  }

  @Test
  void logitsAreChunkedNotMaterialized() {
    ModelConfig llama = ModelConfig.shape("llama-3-8b");
    Estimate e = estimate(llama, LORA.with("batch_size", 8).with("max_seq_length", 2048));
    long logits = e.bytesOf("logits chunk (F32)");
    assertThat(logits).isLessThanOrEqualTo(4 * MemoryEstimator.LOGITS_CHUNK_ELEMENTS);
    assertThat(logits).isGreaterThan(4 * (MemoryEstimator.LOGITS_CHUNK_ELEMENTS - 128256));
    assertThat(logits).isLessThan(8L * 2048 * 128256 * 4 / 100);
    // A batch smaller than a chunk only needs its own rows.
    Estimate tiny =
        estimate(ModelConfig.shape("tiny"), LORA.with("batch_size", 1).with("max_seq_length", 8));
    assertThat(tiny.bytesOf("logits chunk (F32)")).isEqualTo(8L * 256 * 4);
  }

  @Test
  void qloraAddsADequantizeScratchForTheLargestMatrix() {
    ModelConfig m = ModelConfig.shape("llama-3.2-1b");
    long lora = estimate(m, LORA).bytesOf("workspace");
    long qlora = estimate(m, LORA.with("training_method", "qlora")).bytesOf("workspace");
    long qloraBf16 =
        estimate(
                m, LORA.with("training_method", "qlora").with("bnb_4bit_compute_dtype", "bfloat16"))
            .bytesOf("workspace");
    assertThat(qlora - lora).isEqualTo(2048L * 8192 * 4);
    assertThat(qloraBf16 - lora).isEqualTo(2048L * 8192 * 2);
  }

  @Test
  void loraDropoutNeedsTwoInputSizedBuffers() {
    long with = estimate(SMOLLM2, LORA).bytesOf("workspace");
    long without = estimate(SMOLLM2, LORA.with("lora_dropout", 0.0)).bytesOf("workspace");
    assertThat(with - without).isEqualTo(2L * 4 * 512 * 1536 * 4); // N × max in (down_proj) × 2
  }

  @Test
  void runtimeOverheadDependsOnTarget() {
    JvmFootprint jvm = JvmFootprint.launcher(2);
    Estimate cpu = new MemoryEstimator(SMOLLM2, LORA, Target.CPU, jvm).estimate();
    Estimate gpu = new MemoryEstimator(SMOLLM2, LORA, Target.CUDA, jvm).estimate();
    assertThat(gpu.total() - cpu.total())
        .isEqualTo(MemoryEstimator.CUDA_RUNTIME_OVERHEAD - jvm.totalBytes());
  }

  @Test
  void cpuRuntimeOverheadIsTheJvmFootprintWithItsComponents() {
    JvmFootprint jvm = new JvmFootprint(90L << 20, 32L << 20, 40L << 20, 1L << 20, 4);
    MemoryEstimator est = new MemoryEstimator(SMOLLM2, LORA, Target.CPU, jvm);
    Estimate e = est.estimate();
    assertThat(est.jvm()).isEqualTo(jvm);
    assertThat(e.bytesOf("runtime overhead")).isEqualTo((90L + 32 + 40 + 4) << 20);
    assertThat(e.items())
        .filteredOn(i -> i.name().equals("runtime overhead"))
        .singleElement()
        .extracting(MemoryEstimator.Item::detail)
        .isEqualTo(
            "JVM 90.00 MiB + heap 72.00 MiB (young 32.00 MiB, old 40.00 MiB) + 4 threads ×"
                + " 1.00 MiB");
    // only the runtime term moves with the JVM: the tensors are the engine's, not the JVM's
    Estimate launcher =
        new MemoryEstimator(SMOLLM2, LORA, Target.CPU, JvmFootprint.launcher(4)).estimate();
    assertThat(e.total() - launcher.total())
        .isEqualTo(jvm.totalBytes() - JvmFootprint.launcher(4).totalBytes());
  }

  @Test
  void fittingKeepsTheJvmFootprint() {
    JvmFootprint big = new JvmFootprint(1L << 30, 0, 0, 0, 1);
    long atFour = new MemoryEstimator(SMOLLM2, LORA, Target.CPU, big).estimate().total();
    Fit fit = new MemoryEstimator(SMOLLM2, LORA, Target.CPU, big).fit(atFour - 1);
    assertThat(fit.config().batchSize()).isLessThan(4);
    assertThat(fit.estimate().bytesOf("runtime overhead")).isEqualTo(1L << 30);
  }

  @Test
  void tableListsEveryItemAndTheTotal() {
    Estimate e = estimate(SMOLLM2, LORA.with("training_method", "qlora"));
    String table = e.table();
    for (MemoryEstimator.Item i : e.items()) {
      assertThat(table).contains(i.name());
    }
    assertThat(table)
        .contains("qlora")
        .contains("batch 4 x seq 512")
        .contains("134,515,008 parameters")
        .contains("4,884,480 trainable")
        .containsPattern("total\\s+\\d+\\.\\d\\d [KMG]iB");
  }

  @Test
  void fitsWithoutChangesWhenThereIsRoom() {
    MemoryEstimator est = new MemoryEstimator(SMOLLM2, LORA, Target.CPU);
    Fit fit = est.fit(est.estimate().total());
    assertThat(fit.fits()).isTrue();
    assertThat(fit.changes()).isEmpty();
    assertThat(fit.warnings()).isEmpty();
    assertThat(fit.config()).isEqualTo(LORA);
  }

  @Test
  void lowersTheMicroBatchAndKeepsTheEffectiveBatch() {
    TrainingConfig big = LORA.with("batch_size", 16).with("gradient_accumulation_steps", 2);
    long atTwo = estimate(SMOLLM2, big.with("batch_size", 2)).total();
    long atFour = estimate(SMOLLM2, big.with("batch_size", 4)).total();
    Fit fit = new MemoryEstimator(SMOLLM2, big, Target.CPU).fit((atTwo + atFour) / 2);
    assertThat(fit.fits()).isTrue();
    assertThat(fit.config().batchSize()).isEqualTo(2);
    assertThat(fit.config().gradientAccumulationSteps()).isEqualTo(16);
    assertThat(fit.config().effectiveBatchSize()).isEqualTo(32);
    assertThat(fit.estimate().total()).isEqualTo(atTwo);
    assertThat(fit.changes())
        .singleElement()
        .asString()
        .contains("batch_size 16 -> 2")
        .contains("gradient_accumulation_steps 2 -> 16")
        .contains("effective batch 32 kept");
  }

  @Test
  void oddBatchesStepThroughDivisorsOfTheEffectiveBatch() {
    assertThat(MemoryEstimator.smallerDivisor(6, 6)).isEqualTo(3);
    assertThat(MemoryEstimator.smallerDivisor(6, 3)).isEqualTo(1);
    assertThat(MemoryEstimator.smallerDivisor(20, 5)).isEqualTo(2);
    assertThat(MemoryEstimator.smallerDivisor(7, 7)).isEqualTo(1);
    TrainingConfig six = LORA.with("batch_size", 6);
    Fit fit =
        new MemoryEstimator(SMOLLM2, six, Target.CPU)
            .fit(estimate(SMOLLM2, six.with("batch_size", 3)).total());
    assertThat(fit.config().batchSize()).isEqualTo(3);
    assertThat(fit.config().gradientAccumulationSteps()).isEqualTo(2);
  }

  @Test
  void warnsWithSuggestionsWhenNothingFits() {
    ModelConfig llama = ModelConfig.shape("llama-3-8b");
    TrainingConfig full = LORA.with("training_method", "full").with("batch_size", 8);
    Fit fit = new MemoryEstimator(llama, full, Target.CUDA).fit(24L << 30);
    assertThat(fit.fits()).isFalse();
    assertThat(fit.config().batchSize()).isEqualTo(1);
    assertThat(fit.config().gradientAccumulationSteps()).isEqualTo(8);
    assertThat(fit.warnings().getFirst())
        .contains("does not fit even at batch_size 1")
        .contains("24.00 GiB");
    assertThat(fit.warnings())
        .anyMatch(w -> w.startsWith("set gradient_checkpointing: true: estimated"))
        .anyMatch(w -> w.startsWith("use training_method: lora: estimated"))
        .anyMatch(w -> w.startsWith("set max_seq_length: 256"))
        .anyMatch(w -> w.startsWith("use training_method: qlora with gradient_checkpointing"));

    // QLoRA of an 8B model on a 24 GB GPU is what people do: the suggestion must say it fits.
    TrainingConfig lora = LORA.with("batch_size", 1);
    Fit loraFit = new MemoryEstimator(llama, lora, Target.CUDA).fit(24L << 30);
    assertThat(loraFit.fits()).isFalse();
    assertThat(loraFit.warnings())
        .anyMatch(w -> w.startsWith("use training_method: qlora") && w.endsWith("(fits)"));
  }

  @Test
  void resolvesTheTargetAndItsMemoryFromTheHost() {
    DeviceInfo cpuOnly = new DeviceInfo(4, 16L << 30, 10L << 30, 4L << 30, List.of());
    DeviceInfo withGpu =
        new DeviceInfo(
            4,
            16L << 30,
            10L << 30,
            4L << 30,
            List.of(new DeviceInfo.Gpu(0, "RTX 3090", 24L << 30, 1L << 30)));
    assertThat(MemoryEstimator.resolveTarget("auto", cpuOnly)).isEqualTo(Target.CPU);
    assertThat(MemoryEstimator.resolveTarget("auto", withGpu)).isEqualTo(Target.CUDA);
    assertThat(MemoryEstimator.resolveTarget("cpu", withGpu)).isEqualTo(Target.CPU);
    assertThat(MemoryEstimator.resolveTarget("cuda", withGpu)).isEqualTo(Target.CUDA);
    assertThatThrownBy(() -> MemoryEstimator.resolveTarget("cuda", cpuOnly))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("device: cuda")
        .hasMessageContaining("no NVIDIA GPU");
    assertThatThrownBy(() -> MemoryEstimator.resolveTarget("tpu", cpuOnly))
        .isInstanceOf(EntityException.class);
    assertThat(MemoryEstimator.availableBytes(withGpu, Target.CUDA)).isEqualTo(23L << 30);
    assertThat(MemoryEstimator.availableBytes(withGpu, Target.CPU)).isEqualTo(10L << 30);
    assertThatThrownBy(() -> MemoryEstimator.availableBytes(cpuOnly, Target.CUDA))
        .isInstanceOf(EntityException.class);
  }

  @Test
  void fitNeedsAPositiveDeviceSize() {
    assertThatThrownBy(() -> new MemoryEstimator(SMOLLM2, LORA, Target.CPU).fit(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesAnInvalidConfig() {
    assertThatThrownBy(
            () ->
                new MemoryEstimator(
                    ModelConfig.shape("gpt2"),
                    LORA.with("target_modules", List.of("q_proj")),
                    Target.CPU))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("target_modules");
  }
}
