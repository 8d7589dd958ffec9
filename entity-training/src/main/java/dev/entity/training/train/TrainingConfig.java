// Convention: components are boxed and a null means "use the default", so any binder (Jackson,
// a map, with()) that leaves a key out gets the documented default; after construction no
// component is null except model_name_or_path and load_in_4bit (null: follow training_method).
// Messages use the snake_case YAML key names.
package dev.entity.training.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Everything a fine-tuning run needs to know, as the YAML {@code training_config} names it. The
 * single-field rules are Jakarta Bean Validation annotations (what the core config binder runs);
 * the cross-field rules are {@code @AssertTrue} methods for that binder and, with every
 * single-field rule, also {@link #violations()}, which needs no validator.
 *
 * <p>Cross-field rules: {@code training_method: qlora} implies {@code load_in_4bit} (leaving it out
 * is fine; writing {@code false} is an error), and {@code load_in_4bit: true} is only valid with
 * qlora; LoRA fields ({@code lora_r}, {@code lora_alpha}, {@code lora_dropout}, {@code
 * target_modules}, {@code use_rslora}) changed from their defaults are an error with {@code full};
 * {@code bnb_4bit_*} changed from their defaults are an error without qlora; {@code
 * frozen_weights_dtype} other than f32 is an error with qlora (its frozen weights are NF4); warmup
 * must not exceed {@code max_steps}, and {@code warmup_steps} and {@code warmup_ratio} are
 * exclusive; target modules must be layer names of the architecture or {@code all-linear} alone.
 *
 * @param modelNameOrPath model folder with config.json and safetensors (model_name_or_path)
 * @param trainingMethod full | lora | qlora (default lora)
 * @param learningRate peak learning rate, 0 &lt; lr &le; 1 (default 2e-4)
 * @param batchSize sequences per micro-batch (default 4)
 * @param gradientAccumulationSteps micro-batches per optimizer step (default 1)
 * @param numEpochs passes over the training set when max_steps is -1 (default 3)
 * @param maxSteps optimizer steps to run; -1 means "use num_epochs" (default -1)
 * @param warmupSteps linear warmup steps (default 0)
 * @param warmupRatio warmup as a fraction of all steps, 0 &le; r &lt; 1; exclusive with
 *     warmup_steps (default 0)
 * @param loggingSteps log metrics every this many steps (default 10)
 * @param saveSteps write a checkpoint every this many steps (default 500)
 * @param evaluationSteps evaluate on the validation split every this many steps (default 500)
 * @param loraR LoRA rank (default 16)
 * @param loraAlpha LoRA alpha; scale = alpha / r, or alpha / sqrt(r) with rsLoRA (default 32)
 * @param loraDropout dropout on the LoRA input, 0 &le; p &lt; 1 (default 0.1)
 * @param targetModules layer names LoRA adapts, or ["all-linear"] (default ["all-linear"])
 * @param loadIn4bit store frozen base weights as NF4; null (the default) follows training_method,
 *     see {@link #fourBitBase()}
 * @param bnb4bitComputeDtype dtype NF4 weights are dequantized to: float32 | bfloat16 | float16
 *     (default float32)
 * @param bnb4bitUseDoubleQuant quantize the NF4 absmax values again, 8-bit (default true)
 * @param maxSeqLength tokens per sequence after truncation (default 512)
 * @param seed seed of every random choice (default 42)
 * @param outputDir where checkpoints and the final model go (default "outputs")
 * @param gradientCheckpointing keep only each layer's input; recompute the layer in backward
 *     (default false)
 * @param weightDecay AdamW decoupled weight decay, 0 &le; wd &lt; 1 (default 0)
 * @param lrScheduler constant | linear | cosine after warmup (default linear)
 * @param maxGradNorm clip the global gradient norm to this; 0 disables clipping (default 1.0)
 * @param saveTotalLimit checkpoints kept (the best by validation loss); 0 keeps all (default 3)
 * @param earlyStoppingPatience evaluations without improvement before stopping; 0 disables (default
 *     0)
 * @param earlyStoppingMinDelta improvement in validation loss that counts (default 0)
 * @param useRslora scale LoRA by alpha / sqrt(r) (default false)
 * @param packing pack several samples into one sequence, attention kept inside each (default false)
 * @param device auto | cpu | cuda (default auto: cuda when a GPU is detected)
 * @param frozenWeightsDtype storage of frozen weights for lora/full: f32 | bf16 (default f32)
 */
public record TrainingConfig(
    @NotBlank(message = "is required: the model folder with config.json") String modelNameOrPath,
    @Pattern(regexp = "full|lora|qlora", message = "must be one of full, lora, qlora")
        String trainingMethod,
    @Positive @DecimalMax(value = "1", message = "must be at most 1") Double learningRate,
    @Positive Integer batchSize,
    @Positive Integer gradientAccumulationSteps,
    @Positive Integer numEpochs,
    Integer maxSteps,
    @PositiveOrZero Integer warmupSteps,
    @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double warmupRatio,
    @Positive Integer loggingSteps,
    @Positive Integer saveSteps,
    @Positive Integer evaluationSteps,
    @Positive Integer loraR,
    @Positive Integer loraAlpha,
    @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double loraDropout,
    List<String> targetModules,
    Boolean loadIn4bit,
    @Pattern(
            regexp = "float32|bfloat16|float16",
            message = "must be one of float32, bfloat16, float16")
        String bnb4bitComputeDtype,
    Boolean bnb4bitUseDoubleQuant,
    @Positive Integer maxSeqLength,
    Long seed,
    @NotBlank String outputDir,
    Boolean gradientCheckpointing,
    @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double weightDecay,
    @Pattern(regexp = "constant|linear|cosine", message = "must be one of constant, linear, cosine")
        String lrScheduler,
    @PositiveOrZero Double maxGradNorm,
    @PositiveOrZero Integer saveTotalLimit,
    @PositiveOrZero Integer earlyStoppingPatience,
    @PositiveOrZero Double earlyStoppingMinDelta,
    Boolean useRslora,
    Boolean packing,
    @Pattern(regexp = "auto|cpu|cuda", message = "must be one of auto, cpu, cuda") String device,
    @Pattern(regexp = "f32|bf16", message = "must be one of f32, bf16") String frozenWeightsDtype) {

  /** The training methods, by their YAML name. */
  public enum Method {
    FULL,
    LORA,
    QLORA;

    /** Whether the base is frozen and LoRA adapters are trained. */
    public boolean usesAdapters() {
      return this != FULL;
    }

    /** The YAML spelling. */
    public String yamlName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The target_modules value that selects every linear layer of the blocks (not lm_head). */
  public static final String ALL_LINEAR = "all-linear";

  static final List<String> DEFAULT_TARGET_MODULES = List.of(ALL_LINEAR);

  public TrainingConfig {
    trainingMethod = or(trainingMethod, "lora");
    learningRate = or(learningRate, 2e-4);
    batchSize = or(batchSize, 4);
    gradientAccumulationSteps = or(gradientAccumulationSteps, 1);
    numEpochs = or(numEpochs, 3);
    maxSteps = or(maxSteps, -1);
    warmupSteps = or(warmupSteps, 0);
    warmupRatio = or(warmupRatio, 0.0);
    loggingSteps = or(loggingSteps, 10);
    saveSteps = or(saveSteps, 500);
    evaluationSteps = or(evaluationSteps, 500);
    loraR = or(loraR, 16);
    loraAlpha = or(loraAlpha, 32);
    loraDropout = or(loraDropout, 0.1);
    targetModules =
        targetModules == null
            ? DEFAULT_TARGET_MODULES
            : List.copyOf(targetModules.stream().map(m -> m == null ? "" : m).toList());
    bnb4bitComputeDtype = or(bnb4bitComputeDtype, "float32");
    bnb4bitUseDoubleQuant = or(bnb4bitUseDoubleQuant, true);
    maxSeqLength = or(maxSeqLength, 512);
    seed = or(seed, 42L);
    outputDir = or(outputDir, "outputs");
    gradientCheckpointing = or(gradientCheckpointing, false);
    weightDecay = or(weightDecay, 0.0);
    lrScheduler = or(lrScheduler, "linear");
    maxGradNorm = or(maxGradNorm, 1.0);
    saveTotalLimit = or(saveTotalLimit, 3);
    earlyStoppingPatience = or(earlyStoppingPatience, 0);
    earlyStoppingMinDelta = or(earlyStoppingMinDelta, 0.0);
    useRslora = or(useRslora, false);
    packing = or(packing, false);
    device = or(device, "auto");
    frozenWeightsDtype = or(frozenWeightsDtype, "f32");
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }

  /** Every default, for the given model; {@code modelNameOrPath} may be null here. */
  public static TrainingConfig defaults(String modelNameOrPath) {
    Object[] args = new Object[TrainingConfig.class.getRecordComponents().length];
    args[0] = modelNameOrPath;
    return construct(args);
  }

  /**
   * A copy with one field replaced, named by its YAML key ({@code with("lora_r", 8)}); integral
   * numbers widen or narrow to the component's type. For programmatic overrides (CLI flags, tests);
   * the YAML path goes through the core config binder.
   *
   * @throws IllegalArgumentException for an unknown key or a value of the wrong type
   */
  public TrainingConfig with(String key, Object value) {
    RecordComponent[] components = TrainingConfig.class.getRecordComponents();
    Object[] args = values(components);
    for (int i = 0; i < components.length; i++) {
      if (snakeCase(components[i].getName()).equals(key)) {
        args[i] = coerce(key, components[i].getType(), value);
        return construct(args);
      }
    }
    throw new IllegalArgumentException(
        "unknown training config key '" + key + "'; known keys: " + String.join(", ", keys()));
  }

  /** The YAML keys, in declaration order. */
  public static List<String> keys() {
    return Arrays.stream(TrainingConfig.class.getRecordComponents())
        .map(c -> snakeCase(c.getName()))
        .toList();
  }

  /** This config as YAML key → value, in declaration order (for memory, logs and reports). */
  public Map<String, Object> toMap() {
    RecordComponent[] components = TrainingConfig.class.getRecordComponents();
    Object[] values = values(components);
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < components.length; i++) {
      map.put(snakeCase(components[i].getName()), values[i]);
    }
    return map;
  }

  private Object[] values(RecordComponent[] components) {
    Object[] values = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      try {
        values[i] = components[i].getAccessor().invoke(this);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("record accessor failed", e);
      }
    }
    return values;
  }

  private static TrainingConfig construct(Object[] args) {
    Class<?>[] types =
        Arrays.stream(TrainingConfig.class.getRecordComponents())
            .map(RecordComponent::getType)
            .toArray(Class<?>[]::new);
    try {
      return TrainingConfig.class.getDeclaredConstructor(types).newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("canonical constructor failed", e);
    }
  }

  private static Object coerce(String key, Class<?> type, Object value) {
    if (value == null || type.isInstance(value) && type != List.class) {
      return value;
    }
    if (value instanceof Number n) {
      boolean integral = !(n instanceof Double || n instanceof Float);
      if (type == Double.class) {
        return n.doubleValue();
      }
      if (integral && type == Long.class) {
        return n.longValue();
      }
      if (integral && type == Integer.class && n.longValue() == n.intValue()) {
        return n.intValue();
      }
    }
    if (type == List.class && value instanceof List<?> list) {
      if (list.stream().allMatch(e -> e instanceof String)) {
        return list.stream().map(String.class::cast).toList();
      }
    }
    throw new IllegalArgumentException(
        key + ": expected " + type.getSimpleName() + ", got " + value.getClass().getSimpleName());
  }

  static String snakeCase(String camel) {
    // "bnb4bitComputeDtype" -> "bnb_4bit_compute_dtype", "loadIn4bit" -> "load_in_4bit"
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      boolean digitAfterLetter =
          Character.isDigit(c) && i > 0 && Character.isLetter(camel.charAt(i - 1));
      if (Character.isUpperCase(c) || digitAfterLetter) {
        s.append('_');
      }
      s.append(Character.toLowerCase(c));
    }
    return s.toString();
  }

  // ---------------------------------------------------------------- derived values

  /** The method as an enum; only meaningful when {@link #violations()} is empty. */
  public Method method() {
    return Method.valueOf(trainingMethod.toUpperCase(Locale.ROOT));
  }

  /** Whether frozen base weights are stored as NF4: load_in_4bit if set, else method is qlora. */
  public boolean fourBitBase() {
    return loadIn4bit != null ? loadIn4bit : isMethod("qlora");
  }

  /** Sequences per optimizer step: batch_size × gradient_accumulation_steps. */
  public long effectiveBatchSize() {
    return (long) batchSize * gradientAccumulationSteps;
  }

  /** The LoRA scale: alpha / r, or alpha / sqrt(r) with rsLoRA. */
  public double loraScale() {
    return useRslora ? loraAlpha / Math.sqrt(loraR) : (double) loraAlpha / loraR;
  }

  /** The layer names LoRA adapts in this architecture ({@code all-linear} expanded). */
  public List<String> resolvedTargetModules(Architecture architecture) {
    if (targetModules.equals(DEFAULT_TARGET_MODULES)) {
      return architecture.linearModuleNames();
    }
    return targetModules.stream().distinct().toList();
  }

  // ---------------------------------------------------------------- validation

  /**
   * Every violated rule as {@code "yaml_key: what is wrong"}, empty when the config is valid.
   * Checks the same single-field rules as the annotations and every cross-field rule; target
   * modules are checked against the names of any supported architecture.
   */
  public List<String> violations() {
    return Stream.concat(fieldViolations().stream(), crossFieldViolations(null).stream()).toList();
  }

  /** {@link #violations()}, with target modules checked against this architecture's layers. */
  public List<String> violations(Architecture architecture) {
    return Stream.concat(fieldViolations().stream(), crossFieldViolations(architecture).stream())
        .toList();
  }

  /**
   * {@link #violations(Architecture)} for this model, and max_seq_length within what the model's
   * positions (max_position_embeddings, n_positions) and sliding window allow.
   */
  public List<String> violations(ModelConfig model) {
    List<String> out = new ArrayList<>(violations(model.architecture()));
    if (maxSeqLength > model.maxPositions()) {
      out.add(
          "max_seq_length: "
              + maxSeqLength
              + " is longer than the model's "
              + model.maxPositions()
              + " positions; use at most "
              + model.maxPositions());
    }
    if (model.slidingWindow() != null && maxSeqLength > model.slidingWindow()) {
      out.add(
          "max_seq_length: "
              + maxSeqLength
              + " is longer than the model's sliding window ("
              + model.slidingWindow()
              + "), which this engine does not implement; use at most "
              + model.slidingWindow());
    }
    return out;
  }

  /**
   * Only the cross-field rules (the {@code @AssertTrue} methods' details), for a binder that runs
   * Bean Validation for single fields and wants field-specific messages for the rest.
   */
  public List<String> crossFieldViolations(Architecture architecture) {
    List<String> out = new ArrayList<>();
    out.addAll(quantizationProblems());
    out.addAll(loraFieldProblems());
    out.addAll(warmupProblems());
    out.addAll(targetModuleProblems(architecture));
    return out;
  }

  private List<String> fieldViolations() {
    List<String> out = new ArrayList<>();
    if (modelNameOrPath == null || modelNameOrPath.isBlank()) {
      out.add("model_name_or_path: is required: the model folder with config.json");
    }
    oneOf(out, "training_method", trainingMethod, "full", "lora", "qlora");
    if (!(learningRate > 0 && learningRate <= 1)) {
      out.add("learning_rate: must be in (0, 1], got " + learningRate);
    }
    positive(out, "batch_size", batchSize);
    positive(out, "gradient_accumulation_steps", gradientAccumulationSteps);
    positive(out, "num_epochs", numEpochs);
    if (!isMaxStepsValid()) {
      out.add("max_steps: must be -1 (train by num_epochs) or positive, got " + maxSteps);
    }
    if (warmupSteps < 0) {
      out.add("warmup_steps: must be 0 or more, got " + warmupSteps);
    }
    fraction(out, "warmup_ratio", warmupRatio);
    positive(out, "logging_steps", loggingSteps);
    positive(out, "save_steps", saveSteps);
    positive(out, "evaluation_steps", evaluationSteps);
    positive(out, "lora_r", loraR);
    positive(out, "lora_alpha", loraAlpha);
    fraction(out, "lora_dropout", loraDropout);
    oneOf(out, "bnb_4bit_compute_dtype", bnb4bitComputeDtype, "float32", "bfloat16", "float16");
    positive(out, "max_seq_length", maxSeqLength);
    if (outputDir.isBlank()) {
      out.add("output_dir: must not be blank");
    }
    fraction(out, "weight_decay", weightDecay);
    oneOf(out, "lr_scheduler", lrScheduler, "constant", "linear", "cosine");
    if (!(maxGradNorm >= 0) || maxGradNorm.isInfinite()) {
      out.add("max_grad_norm: must be 0 (no clipping) or a positive number, got " + maxGradNorm);
    }
    if (saveTotalLimit < 0) {
      out.add("save_total_limit: must be 0 (keep all) or more, got " + saveTotalLimit);
    }
    if (earlyStoppingPatience < 0) {
      out.add(
          "early_stopping_patience: must be 0 (disabled) or more, got " + earlyStoppingPatience);
    }
    if (!(earlyStoppingMinDelta >= 0)) {
      out.add("early_stopping_min_delta: must be 0 or more, got " + earlyStoppingMinDelta);
    }
    oneOf(out, "device", device, "auto", "cpu", "cuda");
    oneOf(out, "frozen_weights_dtype", frozenWeightsDtype, "f32", "bf16");
    return out;
  }

  private static void positive(List<String> out, String key, int value) {
    if (value <= 0) {
      out.add(key + ": must be positive, got " + value);
    }
  }

  private static void fraction(List<String> out, String key, double value) {
    if (!(value >= 0 && value < 1)) {
      out.add(key + ": must be at least 0 and below 1, got " + value);
    }
  }

  private static void oneOf(List<String> out, String key, String value, String... allowed) {
    if (!Arrays.asList(allowed).contains(value)) {
      out.add(key + ": must be one of " + String.join(", ", allowed) + ", got '" + value + "'");
    }
  }

  private boolean isMethod(String name) {
    return name.equals(trainingMethod);
  }

  private List<String> quantizationProblems() {
    List<String> out = new ArrayList<>();
    if (isMethod("qlora") && !fourBitBase()) {
      out.add(
          "load_in_4bit: qlora always loads the base model in 4 bits; remove load_in_4bit or set"
              + " it to true");
    }
    if (!isMethod("qlora") && fourBitBase()) {
      out.add(
          "load_in_4bit: 4-bit base weights are only used with training_method qlora; set"
              + " training_method: qlora or remove load_in_4bit");
    }
    if (!isMethod("qlora")) {
      List<String> changed = new ArrayList<>();
      if (!"float32".equals(bnb4bitComputeDtype)) {
        changed.add("bnb_4bit_compute_dtype");
      }
      if (!bnb4bitUseDoubleQuant) {
        changed.add("bnb_4bit_use_double_quant");
      }
      if (!changed.isEmpty()) {
        out.add(
            String.join(", ", changed)
                + ": only apply when training_method is qlora; remove them or use qlora");
      }
    } else if (!"f32".equals(frozenWeightsDtype)) {
      out.add(
          "frozen_weights_dtype: qlora stores frozen weights as NF4; frozen_weights_dtype applies"
              + " to lora and full only");
    }
    return out;
  }

  private List<String> loraFieldProblems() {
    if (!isMethod("full")) {
      return List.of();
    }
    List<String> changed = new ArrayList<>();
    if (loraR != 16) {
      changed.add("lora_r");
    }
    if (loraAlpha != 32) {
      changed.add("lora_alpha");
    }
    if (loraDropout != 0.1) {
      changed.add("lora_dropout");
    }
    if (!targetModules.equals(DEFAULT_TARGET_MODULES)) {
      changed.add("target_modules");
    }
    if (useRslora) {
      changed.add("use_rslora");
    }
    return changed.isEmpty()
        ? List.of()
        : List.of(
            String.join(", ", changed)
                + ": LoRA settings have no effect with training_method full; remove them or use"
                + " lora or qlora");
  }

  private List<String> warmupProblems() {
    List<String> out = new ArrayList<>();
    if (maxSteps > 0 && warmupSteps > maxSteps) {
      out.add(
          "warmup_steps: "
              + warmupSteps
              + " is more than max_steps ("
              + maxSteps
              + "); the learning rate would never reach its peak");
    }
    if (warmupSteps > 0 && warmupRatio > 0) {
      out.add("warmup_ratio: set either warmup_steps or warmup_ratio, not both");
    }
    return out;
  }

  private List<String> targetModuleProblems(Architecture architecture) {
    if (targetModules.isEmpty()) {
      return List.of("target_modules: must name at least one layer, or be [all-linear]");
    }
    if (targetModules.contains(ALL_LINEAR)) {
      return targetModules.size() == 1
          ? List.of()
          : List.of("target_modules: all-linear already selects every layer; use it alone");
    }
    Set<String> valid = new LinkedHashSet<>();
    Stream.of(architecture == null ? Architecture.values() : new Architecture[] {architecture})
        .forEach(a -> valid.addAll(a.linearModuleNames()));
    List<String> unknown = targetModules.stream().filter(m -> !valid.contains(m)).toList();
    if (unknown.isEmpty()) {
      return List.of();
    }
    return List.of(
        "target_modules: unknown layer name(s) "
            + unknown
            + (architecture == null ? "" : " for " + architecture.name().toLowerCase(Locale.ROOT))
            + "; valid: "
            + String.join(", ", valid)
            + ", or all-linear");
  }

  /** Bean Validation hook for max_steps, whose valid values are -1 and the positive numbers. */
  @JsonIgnore
  @AssertTrue(message = "max_steps must be -1 (train by num_epochs) or positive")
  public boolean isMaxStepsValid() {
    return maxSteps == -1 || maxSteps > 0;
  }

  /** Bean Validation hook for the 4-bit and bnb rules (details: {@link #violations()}). */
  @JsonIgnore
  @AssertTrue(
      message =
          "qlora implies load_in_4bit; load_in_4bit and bnb_4bit_* only with qlora;"
              + " frozen_weights_dtype only without qlora")
  public boolean isQuantizationConsistent() {
    return quantizationProblems().isEmpty();
  }

  /** Bean Validation hook for "no LoRA fields with full" (details: {@link #violations()}). */
  @JsonIgnore
  @AssertTrue(
      message =
          "lora_r, lora_alpha, lora_dropout, target_modules, use_rslora only apply to lora and"
              + " qlora")
  public boolean isLoraFieldsConsistent() {
    return loraFieldProblems().isEmpty();
  }

  /** Bean Validation hook for the warmup rules (details: {@link #violations()}). */
  @JsonIgnore
  @AssertTrue(
      message =
          "warmup_steps must not exceed max_steps; set warmup_steps or warmup_ratio, not both")
  public boolean isWarmupConsistent() {
    return warmupProblems().isEmpty();
  }

  /** Bean Validation hook for target module names (details: {@link #violations()}). */
  @JsonIgnore
  @AssertTrue(
      message =
          "target_modules must be layer names (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj,"
              + " down_proj; c_attn, c_proj, c_fc for gpt2) or all-linear alone")
  public boolean isTargetModulesValid() {
    return targetModuleProblems(null).isEmpty();
  }
}
