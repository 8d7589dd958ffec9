// Dimension legend: B micro-batch, T max_seq_length, N = B*T rows, C hidden size, F intermediate
// size, NH query heads, QD = NH*HS query width, KD = NKV*HS key/value width, V vocabulary,
// L layers, R LoRA rank, K logits rows per chunk.
// Convention: every figure is the engine's own layout (what Block.Saved, the layers' scratch
// buffers and ParameterStore allocate), in bytes, for the worst case T = max_seq_length; the
// estimate is checked against measured peaks, so nothing here is a rule of thumb.
package dev.entity.training.train;

import dev.entity.core.EntityException;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.layer.CrossEntropy;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.ModelConfig.LayerLinear;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Estimates the peak memory of a training run from the model's shape and the training config, and
 * lowers the micro-batch to fit a device. The estimate is the sum of:
 *
 * <ul>
 *   <li><b>Frozen weights</b> (lora, qlora): the block linears in their storage — F32 4 B, BF16 2 B
 *       ({@code frozen_weights_dtype: bf16}), or NF4 (qlora): 0.5 B per weight plus one absmax per
 *       64-weight block, which is 1 B with double quantization (plus a 4 B F32 scale per 256 blocks
 *       and a 4 B offset per matrix: about 0.127 bit per weight) or a 4 B F32 without (0.5 bit per
 *       weight). Embeddings, positions, norms, biases and the LM head stay F32, as bitsandbytes
 *       leaves them unquantized; with BF16 the embedding tables and an untied LM head are BF16 too
 *       (the engine's compact storage), norms and biases stay F32.
 *   <li><b>Trainable weights, gradients, AdamW state</b>: F32, 4 + 4 + 8 = 16 B per trainable
 *       parameter; full fine-tuning trains every parameter, LoRA {@code R*(in+out)} per targeted
 *       linear in every block.
 *   <li><b>Activations</b> (F32, 4 B per element), saved per layer for backward: the norm outputs
 *       {@code 2NC} with their per-row statistics {@code 2N} (RMSNorm) or {@code 4N} (LayerNorm), q
 *       {@code N*QD}, k and v {@code 2N*KD}, the attention output {@code N*QD} and its log-sum-exp
 *       {@code N*NH}, the residual after attention {@code NC}, the MLP's hidden {@code 3NF}
 *       (SwiGLU: gate, up, activation) or {@code 2NF} (GELU), and each LoRA projection's {@code A
 *       x} ({@code N*R}). Plus the L+1 residual-stream tensors between blocks ({@code (L+1)NC}) and
 *       the final norm. With gradient checkpointing only those L+1 inputs are kept and one layer's
 *       saved set exists at a time (recomputed in backward).
 *   <li><b>Logits chunk</b>: the cross-entropy computes {@code K} rows of logits at a time, {@code
 *       K*V*4} bytes with {@code K = min(N, max(1, 2^22 / V))}, never the full {@code N*V}.
 *   <li><b>Workspace</b>: buffers shared by all layers — the branch output, norm gradient and
 *       residual gradient ({@code 3NC}), attention gradients ({@code 2N*QD + 2N*KD}), MLP gradients
 *       ({@code 3NF} or {@code 2NF}), LoRA's {@code N*R} and, with dropout, two {@code N*max(in)}
 *       buffers; qlora dequantizes the largest block linear into a scratch matrix in the compute
 *       dtype; the batch's ids, targets, positions, segments and per-row losses.
 *   <li><b>Runtime overhead</b>: what is not tensors — on the CPU the JVM's resident memory as
 *       {@link JvmFootprint} models it (a measured baseline for the runtime, the young and old
 *       generation the launcher's GC settings allow, and each worker thread), on CUDA the context
 *       and cuBLAS workspace.
 * </ul>
 *
 * <p>Not counted: the operating system's page cache of memory-mapped model files that are no longer
 * read, and the dataset (held by the loader, small next to the model).
 */
public final class MemoryEstimator {

  /** Where the tensors live; decides the runtime overhead. */
  public enum Target {
    CPU,
    CUDA
  }

  /** CUDA context plus cuBLASLt workspace on the GPU. */
  public static final long CUDA_RUNTIME_OVERHEAD = 640L << 20;

  /** Elements of one logits chunk: the engine Decoder's own budget. */
  public static final long LOGITS_CHUNK_ELEMENTS = CrossEntropy.DEFAULT_CHUNK_ELEMENTS;

  private static final long F32 = 4;

  /**
   * One line of the breakdown.
   *
   * @param name what it is
   * @param bytes its size
   * @param detail how it was computed
   */
  public record Item(String name, long bytes, String detail) {}

  /**
   * An estimate: the breakdown, its inputs, and the parameter counts behind it.
   *
   * @param items the breakdown; {@link #total()} is their sum
   * @param config the training config estimated
   * @param target where the tensors live
   * @param parameters all parameters of the model
   * @param trainableParameters parameters with gradients and optimizer state
   * @param activationBytes the activations item alone (for comparisons)
   */
  public record Estimate(
      List<Item> items,
      TrainingConfig config,
      Target target,
      long parameters,
      long trainableParameters,
      long activationBytes) {

    public Estimate {
      items = List.copyOf(items);
    }

    /** The sum of all items. */
    public long total() {
      return items.stream().mapToLong(Item::bytes).sum();
    }

    /** The bytes of the item named {@code name}, 0 if absent. */
    public long bytesOf(String name) {
      return items.stream().filter(i -> i.name().equals(name)).mapToLong(Item::bytes).sum();
    }

    /** A table for people: one line per item, then the total. */
    public String table() {
      StringBuilder s = new StringBuilder();
      s.append(
          String.format(
              Locale.ROOT,
              "Memory estimate (%s, %s): %s, batch %d x seq %d, gradient checkpointing %s%n",
              target.name().toLowerCase(Locale.ROOT),
              config.trainingMethod(),
              parameterSummary(),
              config.batchSize(),
              config.maxSeqLength(),
              config.gradientCheckpointing() ? "on" : "off"));
      int width = items.stream().mapToInt(i -> i.name().length()).max().orElse(5);
      String row = "  %-" + width + "s  %12s  %s%n";
      for (Item i : items) {
        s.append(
            String.format(
                Locale.ROOT, row, i.name(), DeviceInfo.formatBytes(i.bytes()), i.detail()));
      }
      s.append(String.format(Locale.ROOT, row, "total", DeviceInfo.formatBytes(total()), ""));
      return s.toString();
    }

    private String parameterSummary() {
      return String.format(
          Locale.ROOT,
          "%,d parameters, %,d trainable (%.3f%%)",
          parameters,
          trainableParameters,
          100.0 * trainableParameters / parameters);
    }
  }

  /**
   * The outcome of {@link #fit}: the config to train with (possibly a smaller micro-batch with more
   * accumulation), its estimate, what was changed and the warnings.
   *
   * @param config the config to use; its effective batch equals the original's
   * @param estimate the estimate of {@code config}
   * @param deviceBytes the memory it was fitted to
   * @param fits whether the estimate is within {@code deviceBytes}
   * @param changes what was changed, for people (empty when nothing was)
   * @param warnings why it does not fit and what would help (empty when it fits)
   */
  public record Fit(
      TrainingConfig config,
      Estimate estimate,
      long deviceBytes,
      boolean fits,
      List<String> changes,
      List<String> warnings) {
    public Fit {
      changes = List.copyOf(changes);
      warnings = List.copyOf(warnings);
    }
  }

  private final ModelConfig model;
  private final TrainingConfig config;
  private final Target target;
  private final JvmFootprint jvm;

  /**
   * Where a run with {@code device} (auto | cpu | cuda) puts its tensors on this host: auto picks
   * CUDA when nvidia-smi reports a GPU.
   *
   * @throws EntityException when cuda is asked for and no GPU is detected
   */
  public static Target resolveTarget(String device, DeviceInfo host) {
    return switch (device) {
      case "cpu" -> Target.CPU;
      case "cuda" -> {
        if (!host.hasGpu()) {
          throw new EntityException(
              "device: cuda was asked for but no NVIDIA GPU was detected (nvidia-smi not found or"
                  + " reported none); use device: cpu or auto");
        }
        yield Target.CUDA;
      }
      case "auto" -> host.hasGpu() ? Target.CUDA : Target.CPU;
      default ->
          throw new EntityException("device: must be one of auto, cpu, cuda, got '" + device + "'");
    };
  }

  /** Memory a run may use: available RAM on the CPU, the first GPU's free memory on CUDA. */
  public static long availableBytes(DeviceInfo host, Target target) {
    return switch (target) {
      case CPU -> host.availableRamBytes();
      case CUDA ->
          host.firstGpu()
              .map(DeviceInfo.Gpu::freeBytes)
              .orElseThrow(() -> new EntityException("no GPU detected to train on"));
    };
  }

  /**
   * An estimator whose JVM is this one ({@link JvmFootprint#thisJvm()}).
   *
   * @param model the model's shape
   * @param config a training config without violations
   * @param target where the tensors will live
   * @throws IllegalArgumentException when the config has violations for this model
   */
  public MemoryEstimator(ModelConfig model, TrainingConfig config, Target target) {
    this(model, config, target, JvmFootprint.thisJvm());
  }

  /**
   * @param model the model's shape
   * @param config a training config without violations
   * @param target where the tensors will live
   * @param jvm the JVM's own resident memory, counted when {@code target} is the CPU
   * @throws IllegalArgumentException when the config has violations for this model
   */
  public MemoryEstimator(
      ModelConfig model, TrainingConfig config, Target target, JvmFootprint jvm) {
    List<String> violations = config.violations(model);
    if (!violations.isEmpty()) {
      throw new IllegalArgumentException("invalid training config: " + violations);
    }
    this.model = model;
    this.config = config;
    this.target = target;
    this.jvm = jvm;
  }

  /** The JVM footprint counted as the CPU's runtime overhead. */
  public JvmFootprint jvm() {
    return jvm;
  }

  /** The estimate of this model and config. */
  public Estimate estimate() {
    TrainingConfig.Method method = config.method();
    long n = (long) config.batchSize() * config.maxSeqLength();
    long c = model.hiddenSize();
    long f = model.intermediateSize();
    long layers = model.numLayers();
    long params = model.parameterCount();
    List<LayerLinear> targeted = targetedLinears();
    long r = method.usesAdapters() ? config.loraR() : 0;

    List<Item> items = new ArrayList<>();
    long trainable;
    if (method == TrainingConfig.Method.FULL) {
      trainable = params;
      items.add(new Item("trainable weights (F32)", params * F32, count(params) + " × 4 B"));
    } else {
      addFrozenWeights(items, method);
      trainable = layers * targeted.stream().mapToLong(l -> r * (l.in() + l.out())).sum();
      items.add(
          new Item(
              "LoRA adapters (F32)",
              trainable * F32,
              count(trainable)
                  + " × 4 B: r="
                  + r
                  + " on "
                  + targeted.size()
                  + " linears × "
                  + layers
                  + " layers"));
    }
    items.add(new Item("gradients (F32)", trainable * F32, count(trainable) + " × 4 B"));
    items.add(
        new Item("AdamW moments (2 × F32)", trainable * 2 * F32, count(trainable) + " × 8 B"));

    long perLayer = perLayerActivations(n, r, targeted.size());
    long between = (layers + 1) * n * c;
    long finalNorm = n * c + normStats(n);
    long activations =
        F32
            * (between
                + finalNorm
                + (config.gradientCheckpointing() ? perLayer : layers * perLayer));
    items.add(
        new Item(
            "activations (F32)",
            activations,
            config.gradientCheckpointing()
                ? "checkpointed: " + (layers + 1) + " layer inputs + one layer recomputed"
                : layers
                    + " layers × "
                    + DeviceInfo.formatBytes(perLayer * F32)
                    + " + layer inputs"));

    long v = model.vocabSize();
    long chunkRows = Math.max(1, Math.min(n, LOGITS_CHUNK_ELEMENTS / v));
    items.add(
        new Item("logits chunk (F32)", chunkRows * v * F32, chunkRows + " rows × " + v + " vocab"));

    long workspace =
        F32 * (4 * n * c + 2 * n * model.qDim() + 2 * n * model.kvDim() + mlpWidth() * n * f);
    workspace += n * (4 * 4 + F32); // ids, targets, positions, segments (I32), losses (F32)
    if (r > 0) {
      long maxIn = targeted.stream().mapToLong(LayerLinear::in).max().orElse(0);
      workspace += F32 * (n * r + (config.loraDropout() > 0 ? 2 * n * maxIn : 0));
    }
    String workspaceDetail = "layer gradients, batch buffers";
    if (method == TrainingConfig.Method.QLORA) {
      long largest = model.layerLinears().stream().mapToLong(l -> l.in() * l.out()).max().orElse(0);
      workspace += largest * computeDtypeBytes();
      workspaceDetail += ", NF4 dequantize scratch " + config.bnb4bitComputeDtype();
    }
    items.add(new Item("workspace", workspace, workspaceDetail));
    items.add(
        new Item(
            "runtime overhead",
            target == Target.CPU ? jvm.totalBytes() : CUDA_RUNTIME_OVERHEAD,
            target == Target.CPU ? jvm.describe() : "CUDA context, cuBLAS workspace"));
    return new Estimate(items, config, target, params, trainable, activations);
  }

  private void addFrozenWeights(List<Item> items, TrainingConfig.Method method) {
    long layers = model.numLayers();
    long matrices = layers * model.layerLinears().stream().mapToLong(l -> l.in() * l.out()).sum();
    long lmHead = model.tieWordEmbeddings() ? 0 : (long) model.vocabSize() * model.hiddenSize();
    long rest = model.parameterCount() - matrices - lmHead; // embeddings, positions, norms, biases
    if (method == TrainingConfig.Method.QLORA) {
      long nf4 =
          layers * model.layerLinears().stream().mapToLong(l -> nf4Bytes(l.in() * l.out())).sum();
      items.add(
          new Item(
              "frozen block linears (NF4)",
              nf4,
              count(matrices)
                  + String.format(Locale.ROOT, " × %.3f B", (double) nf4 / matrices)
                  + (config.bnb4bitUseDoubleQuant()
                      ? " (double-quantized absmax)"
                      : " (F32 absmax)")));
      items.add(
          new Item(
              "frozen embeddings, norms, biases, lm_head (F32)",
              (rest + lmHead) * F32,
              count(rest + lmHead) + " × 4 B"));
      return;
    }
    boolean bf16 = "bf16".equals(config.frozenWeightsDtype());
    if (bf16) { // the engine keeps embedding tables compact too (its lookup reads BF16)
      long embeddings = embeddingParameters();
      long compact = matrices + lmHead + embeddings;
      items.add(
          new Item(
              "frozen block linears, embeddings, lm_head (BF16)",
              compact * 2,
              count(compact) + " × 2 B"));
      items.add(
          new Item(
              "frozen norms, biases (F32)",
              (rest - embeddings) * F32,
              count(rest - embeddings) + " × 4 B"));
      return;
    }
    long compact = matrices + lmHead;
    items.add(
        new Item("frozen block linears, lm_head (F32)", compact * F32, count(compact) + " × 4 B"));
    items.add(
        new Item("frozen embeddings, norms, biases (F32)", rest * F32, count(rest) + " × 4 B"));
  }

  /** Token embedding table plus GPT-2's learned position table. */
  private long embeddingParameters() {
    long c = model.hiddenSize();
    long positions = model.architecture() == Architecture.GPT2 ? model.maxPositions() * c : 0;
    return (long) model.vocabSize() * c + positions;
  }

  /**
   * Bytes of one matrix of {@code elements} weights in NF4: packed 4-bit codes, then one absmax per
   * 64-block — with double quantization an 8-bit code per block plus an F32 scale per 256 blocks
   * and one F32 offset, without it an F32 per block.
   */
  public long nf4Bytes(long elements) {
    long blocks = ceilDiv(elements, 64);
    long absmax =
        config.bnb4bitUseDoubleQuant() ? blocks + 4 * ceilDiv(blocks, 256) + 4 : 4 * blocks;
    return ceilDiv(elements, 2) + absmax;
  }

  /** Elements (not bytes) one block saves for backward; see the class Javadoc. */
  long perLayerActivations(long n, long r, int loraProjections) {
    long c = model.hiddenSize();
    long f = model.intermediateSize();
    long norms = 2 * (n * c + normStats(n));
    long attention =
        2 * n * model.qDim() + 2 * n * model.kvDim() + n * model.numHeads() + n * c; // + res1
    long mlp = mlpWidth() * n * f;
    return norms + attention + mlp + loraProjections * n * r;
  }

  private long normStats(long n) {
    return model.architecture() == Architecture.GPT2 ? 2 * n : n; // mean and rstd, or rstd
  }

  private long mlpWidth() {
    return model.architecture() == Architecture.GPT2 ? 2 : 3;
  }

  private long computeDtypeBytes() {
    return "float32".equals(config.bnb4bitComputeDtype()) ? 4 : 2;
  }

  private List<LayerLinear> targetedLinears() {
    if (!config.method().usesAdapters()) {
      return List.of();
    }
    List<String> names = config.resolvedTargetModules(model.architecture());
    return model.layerLinears().stream().filter(l -> names.contains(l.name())).toList();
  }

  // ---------------------------------------------------------------- fitting to a device

  /**
   * Fits the config to {@code deviceBytes}: while the estimate is larger and the micro-batch is
   * above 1, the micro-batch is halved (or lowered to the next divisor of the effective batch) and
   * gradient accumulation raised so that batch_size × gradient_accumulation_steps is unchanged.
   * When even batch 1 does not fit, the result says so, with the estimated total of each change
   * that would help (gradient checkpointing, lora instead of full, qlora, bf16 frozen weights, a
   * shorter max_seq_length).
   */
  public Fit fit(long deviceBytes) {
    if (deviceBytes <= 0) {
      throw new IllegalArgumentException("device memory must be positive, got " + deviceBytes);
    }
    long effective = config.effectiveBatchSize();
    TrainingConfig current = config;
    Estimate estimate = estimate();
    List<String> changes = new ArrayList<>();
    while (estimate.total() > deviceBytes && current.batchSize() > 1) {
      int batch = smallerDivisor(effective, current.batchSize());
      current =
          current
              .with("batch_size", batch)
              .with("gradient_accumulation_steps", (int) (effective / batch));
      estimate = new MemoryEstimator(model, current, target, jvm).estimate();
    }
    if (current != config) {
      changes.add(
          String.format(
              Locale.ROOT,
              "batch_size %d -> %d and gradient_accumulation_steps %d -> %d (effective batch %d"
                  + " kept): estimate %s -> %s",
              config.batchSize(),
              current.batchSize(),
              config.gradientAccumulationSteps(),
              current.gradientAccumulationSteps(),
              effective,
              DeviceInfo.formatBytes(estimate().total()),
              DeviceInfo.formatBytes(estimate.total())));
    }
    boolean fits = estimate.total() <= deviceBytes;
    List<String> warnings = new ArrayList<>();
    if (!fits) {
      warnings.add(
          "does not fit even at batch_size "
              + current.batchSize()
              + ": estimated "
              + DeviceInfo.formatBytes(estimate.total())
              + " for "
              + DeviceInfo.formatBytes(deviceBytes)
              + " available");
      warnings.addAll(suggestions(current, deviceBytes));
    }
    return new Fit(current, estimate, deviceBytes, fits, changes, warnings);
  }

  /** The largest divisor of {@code effective} not above half of {@code batch} (at least 1). */
  static int smallerDivisor(long effective, int batch) {
    for (int d = batch / 2; d > 1; d--) {
      if (effective % d == 0) {
        return d;
      }
    }
    return 1;
  }

  private List<String> suggestions(TrainingConfig base, long deviceBytes) {
    List<String> out = new ArrayList<>();
    if (!base.gradientCheckpointing()) {
      suggest(
          out,
          "set gradient_checkpointing: true",
          base,
          Map.of("gradient_checkpointing", true),
          deviceBytes);
    }
    switch (base.method()) {
      case FULL ->
          suggest(
              out,
              "use training_method: lora",
              base,
              Map.of("training_method", "lora"),
              deviceBytes);
      case LORA -> {
        suggest(
            out,
            "use training_method: qlora",
            base,
            Map.of("training_method", "qlora", "frozen_weights_dtype", "f32"),
            deviceBytes);
        if (!"bf16".equals(base.frozenWeightsDtype())) {
          suggest(
              out,
              "set frozen_weights_dtype: bf16",
              base,
              Map.of("frozen_weights_dtype", "bf16"),
              deviceBytes);
        }
      }
      case QLORA -> {}
    }
    if (base.method() != TrainingConfig.Method.QLORA && !base.gradientCheckpointing()) {
      suggest(
          out,
          "use training_method: qlora with gradient_checkpointing: true",
          base,
          Map.of(
              "training_method",
              "qlora",
              "frozen_weights_dtype",
              "f32",
              "gradient_checkpointing",
              true),
          deviceBytes);
    }
    if (base.maxSeqLength() > 1) {
      int shorter = base.maxSeqLength() / 2;
      suggest(
          out,
          "set max_seq_length: " + shorter,
          base,
          Map.of("max_seq_length", shorter),
          deviceBytes);
    }
    return out;
  }

  private void suggest(
      List<String> out,
      String what,
      TrainingConfig base,
      Map<String, Object> change,
      long deviceBytes) {
    TrainingConfig changed = base;
    for (var e : change.entrySet()) {
      changed = changed.with(e.getKey(), e.getValue());
    }
    if (!changed.violations(model).isEmpty()) {
      return; // e.g. LoRA fields set that a switch of method would make invalid
    }
    long total = new MemoryEstimator(model, changed, target, jvm).estimate().total();
    out.add(
        what
            + ": estimated "
            + DeviceInfo.formatBytes(total)
            + (total <= deviceBytes ? " (fits)" : " (still too large)"));
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
