package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import jakarta.validation.ValidatorFactory;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrainingConfigTest {

  static final TrainingConfig BASE = TrainingConfig.defaults("models/tiny");

  @Test
  void defaultsAreValidAndDocumented() {
    assertThat(BASE.violations()).isEmpty();
    assertThat(BASE.trainingMethod()).isEqualTo("lora");
    assertThat(BASE.method()).isEqualTo(TrainingConfig.Method.LORA);
    assertThat(BASE.loraR()).isEqualTo(16);
    assertThat(BASE.loraAlpha()).isEqualTo(32);
    assertThat(BASE.loraDropout()).isEqualTo(0.1);
    assertThat(BASE.targetModules()).containsExactly("all-linear");
    assertThat(BASE.loadIn4bit()).isNull();
    assertThat(BASE.fourBitBase()).isFalse();
    assertThat(BASE.maxSteps()).isEqualTo(-1);
    assertThat(BASE.effectiveBatchSize()).isEqualTo(4);
    assertThat(BASE.loraScale()).isEqualTo(2.0);
    assertThat(BASE.toMap()).containsEntry("load_in_4bit", null);
    assertThat(BASE.toMap().entrySet())
        .filteredOn(e -> e.getValue() == null)
        .extracting(java.util.Map.Entry::getKey)
        .containsExactly("load_in_4bit");
  }

  @Test
  void keysAreTheSnakeCaseYamlNames() {
    assertThat(TrainingConfig.keys())
        .contains(
            "model_name_or_path",
            "training_method",
            "gradient_accumulation_steps",
            "lora_r",
            "load_in_4bit",
            "bnb_4bit_compute_dtype",
            "bnb_4bit_use_double_quant",
            "max_seq_length",
            "frozen_weights_dtype",
            "early_stopping_min_delta")
        .doesNotHaveDuplicates();
    assertThat(TrainingConfig.keys()).allMatch(k -> k.matches("[a-z0-9_]+"));
    assertThat(TrainingConfig.snakeCase("bnb4bitComputeDtype")).isEqualTo("bnb_4bit_compute_dtype");
  }

  @Test
  void qloraImpliesFourBitWhenLeftOut() {
    TrainingConfig q = BASE.with("training_method", "qlora");
    assertThat(q.fourBitBase()).isTrue();
    assertThat(q.with("load_in_4bit", true).violations()).isEmpty();
    assertThat(q.violations()).isEmpty();
    assertThat(q.method().usesAdapters()).isTrue();
  }

  @Test
  void withReplacesOneFieldAndChecksTypes() {
    TrainingConfig c = BASE.with("lora_r", 8).with("seed", 7).with("learning_rate", 1);
    assertThat(c.loraR()).isEqualTo(8);
    assertThat(c.seed()).isEqualTo(7L);
    assertThat(c.learningRate()).isEqualTo(1.0);
    assertThat(c.with("lora_r", null).loraR()).isEqualTo(16);
    assertThat(c.toMap()).containsEntry("lora_r", 8);
    assertThatThrownBy(() -> BASE.with("lora_rank", 8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lora_rank")
        .hasMessageContaining("lora_r");
    assertThatThrownBy(() -> BASE.with("lora_r", "eight")).hasMessageContaining("lora_r");
    assertThatThrownBy(() -> BASE.with("lora_r", 2.5)).hasMessageContaining("lora_r");
    assertThatThrownBy(() -> BASE.with("batch_size", 1L << 40)).hasMessageContaining("batch_size");
    assertThatThrownBy(() -> BASE.with("target_modules", List.of(1, 2)))
        .hasMessageContaining("target_modules");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "learning_rate | 0 | learning_rate: must be in (0, 1]",
        "learning_rate | 1.5 | learning_rate: must be in (0, 1]",
        "batch_size | 0 | batch_size: must be positive",
        "gradient_accumulation_steps | -2 | gradient_accumulation_steps: must be positive",
        "num_epochs | 0 | num_epochs: must be positive",
        "max_steps | 0 | max_steps: must be -1",
        "max_steps | -5 | max_steps: must be -1",
        "warmup_steps | -1 | warmup_steps: must be 0 or more",
        "warmup_ratio | 1.0 | warmup_ratio: must be at least 0 and below 1",
        "logging_steps | 0 | logging_steps: must be positive",
        "save_steps | 0 | save_steps: must be positive",
        "evaluation_steps | 0 | evaluation_steps: must be positive",
        "lora_r | 0 | lora_r: must be positive",
        "lora_alpha | -1 | lora_alpha: must be positive",
        "lora_dropout | 1.0 | lora_dropout: must be at least 0 and below 1",
        "max_seq_length | 0 | max_seq_length: must be positive",
        "weight_decay | -0.1 | weight_decay: must be at least 0",
        "max_grad_norm | -1 | max_grad_norm: must be 0",
        "save_total_limit | -1 | save_total_limit: must be 0",
        "early_stopping_patience | -3 | early_stopping_patience: must be 0",
        "early_stopping_min_delta | -0.5 | early_stopping_min_delta: must be 0 or more",
      })
  void numericFieldRules(String key, String value, String expected) {
    Object number =
        value.contains(".") ? (Object) Double.parseDouble(value) : (Object) Integer.parseInt(value);
    TrainingConfig c = BASE.with(key, number);
    assertThat(c.violations()).anyMatch(v -> v.startsWith(expected));
    assertThat(beanValidation(c)).as("Bean Validation agrees").isNotEmpty();
  }

  @ParameterizedTest
  @CsvSource({
    "training_method, sft, 'training_method: must be one of full, lora, qlora'",
    "bnb_4bit_compute_dtype, int8, 'bnb_4bit_compute_dtype: must be one of float32'",
    "lr_scheduler, polynomial, 'lr_scheduler: must be one of constant, linear, cosine'",
    "device, tpu, 'device: must be one of auto, cpu, cuda'",
    "frozen_weights_dtype, f16, 'frozen_weights_dtype: must be one of f32, bf16'",
    "model_name_or_path, '  ', 'model_name_or_path: is required'",
    "output_dir, '', 'output_dir: must not be blank'",
  })
  void choiceAndTextFieldRules(String key, String value, String expected) {
    TrainingConfig c = BASE.with(key, value);
    assertThat(c.violations()).anyMatch(v -> v.startsWith(expected));
    assertThat(beanValidation(c)).as("Bean Validation agrees").isNotEmpty();
  }

  @Test
  void nonFiniteNumbersAreRejected() {
    assertThat(BASE.with("learning_rate", Double.NaN).violations()).isNotEmpty();
    assertThat(BASE.with("max_grad_norm", Double.POSITIVE_INFINITY).violations()).isNotEmpty();
    assertThat(BASE.with("lora_dropout", Double.NaN).violations()).isNotEmpty();
  }

  @Test
  void fourBitRules() {
    TrainingConfig explicitOff = BASE.with("training_method", "qlora").with("load_in_4bit", false);
    assertThat(explicitOff.violations())
        .singleElement()
        .asString()
        .startsWith("load_in_4bit: qlora always loads");
    TrainingConfig loraWith4bit = BASE.with("load_in_4bit", true);
    assertThat(loraWith4bit.violations())
        .singleElement()
        .asString()
        .contains("only used with training_method qlora");
    TrainingConfig bnbWithLora =
        BASE.with("bnb_4bit_compute_dtype", "bfloat16").with("bnb_4bit_use_double_quant", false);
    assertThat(bnbWithLora.violations())
        .singleElement()
        .asString()
        .startsWith("bnb_4bit_compute_dtype, bnb_4bit_use_double_quant: only apply");
    TrainingConfig qloraBf16 =
        BASE.with("training_method", "qlora").with("frozen_weights_dtype", "bf16");
    assertThat(qloraBf16.violations())
        .singleElement()
        .asString()
        .startsWith("frozen_weights_dtype");
    assertThat(beanValidation(qloraBf16)).containsKey("quantizationConsistent");
  }

  @Test
  void loraFieldsWithFullAreNamed() {
    TrainingConfig full = BASE.with("training_method", "full");
    assertThat(full.violations()).isEmpty();
    TrainingConfig bad =
        full.with("lora_r", 8).with("target_modules", List.of("q_proj")).with("use_rslora", true);
    assertThat(bad.violations())
        .singleElement()
        .asString()
        .startsWith("lora_r, target_modules, use_rslora: LoRA settings have no effect");
    assertThat(beanValidation(bad)).containsKey("loraFieldsConsistent");
    assertThat(full.with("lora_dropout", 0.0).violations())
        .singleElement()
        .asString()
        .startsWith("lora_dropout");
    assertThat(full.with("lora_alpha", 16).violations())
        .singleElement()
        .asString()
        .startsWith("lora_alpha");
  }

  @Test
  void warmupRules() {
    TrainingConfig c = BASE.with("max_steps", 10).with("warmup_steps", 20);
    assertThat(c.violations())
        .singleElement()
        .asString()
        .startsWith("warmup_steps: 20 is more than max_steps (10)");
    assertThat(beanValidation(c)).containsKey("warmupConsistent");
    assertThat(BASE.with("max_steps", 10).with("warmup_steps", 10).violations()).isEmpty();
    // Without max_steps the step count is known only once the dataset is: no check here.
    assertThat(BASE.with("warmup_steps", 1000).violations()).isEmpty();
    assertThat(BASE.with("warmup_steps", 5).with("warmup_ratio", 0.1).violations())
        .singleElement()
        .asString()
        .startsWith("warmup_ratio: set either");
  }

  @Test
  void targetModuleRules() {
    TrainingConfig llama = BASE.with("target_modules", List.of("q_proj", "v_proj"));
    assertThat(llama.violations()).isEmpty();
    assertThat(llama.violations(Architecture.LLAMA)).isEmpty();
    assertThat(llama.violations(Architecture.GPT2))
        .singleElement()
        .asString()
        .contains("[q_proj, v_proj] for gpt2")
        .contains("c_attn, c_proj, c_fc");
    assertThat(llama.resolvedTargetModules(Architecture.LLAMA)).containsExactly("q_proj", "v_proj");
    assertThat(BASE.resolvedTargetModules(Architecture.GPT2))
        .containsExactly("c_attn", "c_proj", "c_fc");

    TrainingConfig typo = BASE.with("target_modules", List.of("q_proj", "qproj"));
    assertThat(typo.violations()).singleElement().asString().contains("[qproj]");
    assertThat(beanValidation(typo)).containsKey("targetModulesValid");
    assertThat(BASE.with("target_modules", List.of()).violations())
        .singleElement()
        .asString()
        .contains("at least one");
    assertThat(BASE.with("target_modules", List.of("all-linear", "q_proj")).violations())
        .singleElement()
        .asString()
        .contains("use it alone");
  }

  @Test
  void sequenceLengthMustFitTheModel() {
    ModelConfig gpt2 = ModelConfig.shape("gpt2");
    assertThat(BASE.with("max_seq_length", 1024).violations(gpt2)).isEmpty();
    assertThat(BASE.with("max_seq_length", 2048).violations(gpt2))
        .singleElement()
        .asString()
        .isEqualTo(
            "max_seq_length: 2048 is longer than the model's 1024 positions; use at most 1024");
    ModelConfig mistral =
        ModelConfig.parse(
            """
            {"model_type": "mistral", "vocab_size": 100, "hidden_size": 32,
             "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
             "intermediate_size": 64, "max_position_embeddings": 32768, "sliding_window": 4096}
            """,
            "mistral");
    assertThat(BASE.with("max_seq_length", 4096).violations(mistral)).isEmpty();
    assertThat(BASE.with("max_seq_length", 8192).violations(mistral))
        .singleElement()
        .asString()
        .contains("sliding window (4096)");
    assertThat(BASE.with("target_modules", List.of("c_fc")).violations(mistral))
        .singleElement()
        .asString()
        .startsWith("target_modules");
  }

  @Test
  void nullListElementsAreReportedNotThrown() {
    List<String> withNull = new java.util.ArrayList<>();
    withNull.add(null);
    TrainingConfig c =
        new TrainingConfig(
            "m", null, null, null, null, null, null, null, null, null, null, null, null, null, null,
            withNull, null, null, null, null, null, null, null, null, null, null, null, null, null,
            null, null, null, null);
    assertThat(c.violations()).singleElement().asString().contains("target_modules");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    TrainingConfig c =
        BASE.with("batch_size", 0).with("learning_rate", 2.0).with("lr_scheduler", "step");
    assertThat(c.violations()).hasSize(3);
  }

  @Test
  void beanValidationSeesNothingWrongInAValidConfig() {
    assertThat(beanValidation(BASE)).isEmpty();
    assertThat(beanValidation(BASE.with("training_method", "qlora"))).isEmpty();
  }

  // One factory for the class: building one takes about a second.
  private static final ValidatorFactory FACTORY = Validation.buildDefaultValidatorFactory();

  @AfterAll
  static void closeFactory() {
    FACTORY.close();
  }

  private static java.util.Map<String, String> beanValidation(TrainingConfig c) {
    Validator validator = FACTORY.getValidator();
    Set<ConstraintViolation<TrainingConfig>> violations = validator.validate(c);
    return violations.stream()
        .collect(
            Collectors.toMap(
                v -> v.getPropertyPath().toString(),
                ConstraintViolation::getMessage,
                (a, b) -> a + "; " + b));
  }
}
