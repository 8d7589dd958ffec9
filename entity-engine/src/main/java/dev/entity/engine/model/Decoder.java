// Dimension legend: B batch, T time, N = B*T rows, C channels, NH query heads, NKV key/value heads,
// HS head size, F intermediate size, V vocabulary, L layers, K rows per logits chunk, R LoRA rank.
// Convention: all activations live in ONE arena carved into named views per (B, T); the arena is
// reallocated only when a shape needs more than it holds, and the layer objects (cheap views over
// parameters and arena) are rebuilt whenever the shape changes.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.layer.Attention;
import dev.entity.engine.layer.CrossEntropy;
import dev.entity.engine.layer.Embedding;
import dev.entity.engine.layer.Gelu;
import dev.entity.engine.layer.LayerNorm;
import dev.entity.engine.layer.Linear;
import dev.entity.engine.layer.LoraLinear;
import dev.entity.engine.layer.Mlp;
import dev.entity.engine.layer.Norm;
import dev.entity.engine.layer.Projection;
import dev.entity.engine.layer.RmsNorm;
import dev.entity.engine.layer.Rope;
import dev.entity.engine.layer.Scratch;
import dev.entity.engine.layer.SwiGlu;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.lora.LoraInit;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.model.ParameterStore.Storage;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one decoder every family is assembled into: token (and, for GPT-2, position) embeddings, L
 * pre-norm {@link Block}s, a final norm, and the chunked LM head + cross-entropy. Parameters live
 * in a {@link ParameterStore} under Hugging Face names; full fine-tuning trains all of them, LoRA
 * only the adapters ({@link Options#lora()}), with frozen matrices optionally kept in BF16.
 *
 * <p>Training: {@link #forwardBackward} runs forward, the loss and backward, accumulating gradients
 * (zero them with {@code store().zeroGrad()}); {@link #loss} and {@link #logits} evaluate without
 * touching gradients. With gradient checkpointing only each block's input is kept and the block is
 * recomputed in backward, giving the same bits as without.
 */
public final class Decoder implements AutoCloseable {

  /**
   * How the decoder is trained.
   *
   * @param lora the adapter settings, or null for full fine-tuning
   * @param frozenDType dtype of frozen matrices (F32, BF16 or F16)
   * @param gradientCheckpointing recompute each block in backward instead of keeping its state
   */
  public record Options(LoraConfig lora, DType frozenDType, boolean gradientCheckpointing) {
    public Options {
      if (!frozenDType.isFloat()) {
        throw new EngineException("frozen weights must be F32, BF16 or F16, not " + frozenDType);
      }
    }

    public static Options full() {
      return new Options(null, DType.F32, false);
    }

    public static Options lora(LoraConfig lora) {
      return new Options(lora, DType.F32, false);
    }

    public Options withFrozenDType(DType dtype) {
      return new Options(lora, dtype, gradientCheckpointing);
    }

    public Options withGradientCheckpointing(boolean on) {
      return new Options(lora, frozenDType, on);
    }
  }

  private static final long LOGITS_CHUNK_ELEMENTS = 1L << 22; // 16 MB of F32 per logits chunk

  private final Backend backend;
  private final ModelConfig config;
  private final Family family;
  private final Options options;
  private final Set<String> loraPaths; // module paths inside a block that carry an adapter
  private final ParameterStore store;
  private final Tensor invFreq; // (HS/2) or null

  private Tensor arena; // F32 activations, carved per (B, T)
  private Map<String, Tensor> acts = Map.of();
  private long planB = -1;
  private long planT = -1;
  private Embedding tokens;
  private Embedding positionTable;
  private Block[] blocks;
  private Norm finalNorm;
  private CrossEntropy head;
  private final List<LoraLinear> loraLayers = new ArrayList<>();
  private boolean adaptersDisabled;

  private Arena batchArena;
  private final List<Tensor> batchDevice = new ArrayList<>();
  private Tensor ids; // (N) I32
  private Tensor targets; // (N) I32
  private Tensor positions; // (N) I32
  private Tensor segments; // (B, T) I32
  private Batch batch;

  /** A decoder with zero base weights (LoRA A initialized, B zero); load or fill them next. */
  public Decoder(Backend backend, ModelConfig config, Options options) {
    if (config.architecture() == Architecture.GPT2 && !config.hiddenAct().startsWith("gelu_")) {
      throw new EngineException(
          "activation '"
              + config.hiddenAct()
              + "' is not supported for training; use gelu_new (GPT-2's tanh GELU)");
    }
    this.backend = backend;
    this.config = config;
    this.family = Family.of(config);
    this.options = options;
    this.loraPaths = options.lora() == null ? Set.of() : options.lora().targetedPaths(config);
    this.store = new ParameterStore(backend, slots(), compactDType());
    Tensor inv = null;
    try {
      if (family.rotary()) {
        float[] freq =
            Rope.inverseFrequencies(config.headDim(), config.ropeTheta(), config.ropeScaling());
        inv = backend.allocate(DType.F32, freq.length);
        try (Arena host = Arena.ofConfined()) {
          Tensor h = hostF32(host, freq);
          Tensor up = backend.upload(h);
          backend.convert(inv, up);
          if (up != h) {
            backend.free(up);
          }
        }
      }
      if (options.lora() != null) {
        LoraInit.initialize(store, options.lora(), loraModulePaths());
      }
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    this.invFreq = inv;
  }

  /**
   * Loads a Hugging Face model folder ({@code config.json} + safetensors, sharded or not): base
   * weights from the files, LoRA adapters freshly initialized from the LoRA seed.
   */
  public static Decoder load(Backend backend, Path folder, Options options) {
    ModelConfig config = ModelConfig.load(folder);
    Decoder d = new Decoder(backend, config, options);
    try (SafetensorsFolder files = SafetensorsFolder.open(folder)) {
      HfCheckpoint.load(d, files, folder.toString());
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private DType compactDType() {
    return options.frozenDType() == DType.F32 ? DType.BF16 : options.frozenDType();
  }

  // ---------------------------------------------------------------- parameters

  private List<Slot> slots() {
    boolean full = options.lora() == null;
    Storage vector = full ? Storage.TRAINABLE : Storage.FROZEN;
    Storage matrix =
        full
            ? Storage.TRAINABLE
            : options.frozenDType() == DType.F32 ? Storage.FROZEN : Storage.FROZEN_COMPACT;
    boolean transposed = family.linearsTransposedInFiles();
    long c = config.hiddenSize();
    List<Slot> s = new ArrayList<>();
    // Embedding tables are matrices too: the backend's lookup reads BF16/F16 tables.
    s.add(new Slot(family.tokenEmbedding(), new long[] {config.vocabSize(), c}, matrix, false));
    if (family.positionEmbedding() != null) {
      s.add(
          new Slot(
              family.positionEmbedding(), new long[] {config.maxPositions(), c}, matrix, false));
    }
    for (int l = 0; l < config.numLayers(); l++) {
      String p = family.layerPrefix(l);
      addNorm(s, p + family.attentionNorm(), vector);
      boolean mlpNormAdded = false;
      for (ModelConfig.LayerLinear lin : config.layerLinears()) {
        if (!mlpNormAdded && lin.path().startsWith("mlp.")) {
          addNorm(s, p + family.mlpNorm(), vector);
          mlpNormAdded = true;
        }
        String module = p + lin.path();
        s.add(new Slot(module + ".weight", new long[] {lin.out(), lin.in()}, matrix, transposed));
        if (lin.bias()) {
          s.add(new Slot(module + ".bias", new long[] {lin.out()}, vector, false));
        }
        if (loraPaths.contains(lin.path())) {
          int r = options.lora().rank();
          s.add(
              new Slot(
                  LoraConfig.loraAName(module),
                  new long[] {r, lin.in()},
                  Storage.TRAINABLE,
                  false));
          s.add(
              new Slot(
                  LoraConfig.loraBName(module),
                  new long[] {lin.out(), r},
                  Storage.TRAINABLE,
                  false));
        }
      }
    }
    addNorm(s, family.finalNorm(), vector);
    if (!config.tieWordEmbeddings()) {
      s.add(new Slot(family.lmHead(), new long[] {config.vocabSize(), c}, matrix, false));
    }
    return s;
  }

  private void addNorm(List<Slot> s, String module, Storage storage) {
    long c = config.hiddenSize();
    s.add(new Slot(module + ".weight", new long[] {c}, storage, false));
    if (family.layerNorm()) {
      s.add(new Slot(module + ".bias", new long[] {c}, storage, false));
    }
  }

  /** Full module paths (e.g. model.layers.0.self_attn.q_proj) of every adapter, in slot order. */
  public List<String> loraModulePaths() {
    List<String> paths = new ArrayList<>();
    for (int l = 0; l < config.numLayers(); l++) {
      for (ModelConfig.LayerLinear lin : config.layerLinears()) {
        if (loraPaths.contains(lin.path())) {
          paths.add(family.layerPrefix(l) + lin.path());
        }
      }
    }
    return paths;
  }

  /**
   * Fills the base weights with random values, as Hugging Face initializes a fresh model: matrices
   * and embeddings normal(0, std), norm weights 1, biases 0; each tensor's values depend only on
   * the seed and its name. For benchmarks and tests on real shapes without a download.
   */
  public void initializeRandom(long seed, float std) {
    try (Arena arena = Arena.ofConfined()) {
      for (Slot s : store.slots()) {
        if (HfCheckpoint.isAdapter(s.name())) {
          continue;
        }
        long count = s.count();
        Tensor host =
            new Tensor(
                DType.F32, s.shape(), arena.allocate(ValueLayout.JAVA_FLOAT, count), Device.CPU);
        boolean vector = s.shape().length == 1;
        boolean bias = s.name().endsWith(".bias");
        java.util.SplittableRandom rng =
            new java.util.SplittableRandom(ParameterStore.slotSeed(seed, s.name()));
        for (long i = 0; i < count; i++) {
          float v = vector ? (bias ? 0f : 1f) : (float) (gaussian(rng) * std);
          host.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
        }
        store.copyFromHost(s.name(), host);
      }
    }
  }

  private static double gaussian(java.util.SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble(); // (0, 1]
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  public Backend backend() {
    return backend;
  }

  public ModelConfig config() {
    return config;
  }

  public Family family() {
    return family;
  }

  public Options options() {
    return options;
  }

  public ParameterStore store() {
    return store;
  }

  /** Runs the base model alone (LoRA skipped) while true. */
  public void setAdaptersDisabled(boolean disabled) {
    adaptersDisabled = disabled;
    for (LoraLinear l : loraLayers) {
      l.setDisabled(disabled);
    }
  }

  // ---------------------------------------------------------------- activations

  private void plan(long b, long t) {
    if (b == planB && t == planT) {
      return;
    }
    long n = b * t;
    long c = config.hiddenSize();
    long qDim = config.qDim();
    long kvDim = config.kvDim();
    long f = config.intermediateSize();
    long v = config.vocabSize();
    int layers = config.numLayers();
    SlotLayout.Builder lb = SlotLayout.builder();
    for (int l = 0; l <= layers; l++) {
      lb.add("x." + l, n, c);
    }
    if (options.gradientCheckpointing()) {
      declareBlock(lb, "rec.", b, t);
    } else {
      for (int l = 0; l < layers; l++) {
        declareBlock(lb, "l" + l + ".", b, t);
      }
    }
    lb.add("lnf", n, c);
    if (family.layerNorm()) {
      lb.add("meanf", n);
    }
    lb.add("rstdf", n).add("losses", n).add("dlnf", n, c).add("dres", n, c);
    lb.add("branch", n, c).add("dln", n, c);
    lb.add("datt", n, qDim).add("dq", n, qDim).add("dk", n, kvDim).add("dv", n, kvDim);
    lb.add("dh1", n, f).add("dact", n, f);
    if (family.swiglu()) {
      lb.add("dh2", n, f);
    }
    if (!loraPaths.isEmpty()) {
      long maxIn = 0;
      for (ModelConfig.LayerLinear lin : config.layerLinears()) {
        if (loraPaths.contains(lin.path())) {
          maxIn = Math.max(maxIn, lin.in());
        }
      }
      lb.add("lora.dh", n, options.lora().rank());
      if (options.lora().dropout() > 0) {
        lb.add("lora.dropped", n, maxIn).add("lora.dxd", n, maxIn);
      }
    }
    long k = CrossEntropy.chunkRows(v, n, LOGITS_CHUNK_ELEMENTS);
    lb.add("logits", k, v);
    SlotLayout layout = lb.build();
    if (arena == null || arena.elementCount() < layout.totalElements()) {
      releaseActivations(); // an allocation failure below leaves no stale plan behind
      arena = backend.allocate(DType.F32, layout.totalElements());
    }
    acts = layout.carve(arena);
    planB = b;
    planT = t;
    buildLayers(k);
  }

  /**
   * Frees the activation arena (e.g. after an out-of-memory failure, before retrying with a smaller
   * micro-batch); the next forward plans and allocates it again.
   */
  public void releaseActivations() {
    if (arena != null) {
      backend.free(arena);
      arena = null;
    }
    acts = Map.of();
    planB = -1;
    planT = -1;
  }

  /** Elements of the activation arena now allocated (F32), for memory reports. */
  public long activationElements() {
    return arena == null ? 0 : arena.elementCount();
  }

  private void declareBlock(SlotLayout.Builder lb, String p, long b, long t) {
    long n = b * t;
    long c = config.hiddenSize();
    long f = config.intermediateSize();
    lb.add(p + "ln1", n, c).add(p + "rstd1", n).add(p + "ln2", n, c).add(p + "rstd2", n);
    if (family.layerNorm()) {
      lb.add(p + "mean1", n).add(p + "mean2", n);
    }
    lb.add(p + "q", n, config.qDim())
        .add(p + "k", n, config.kvDim())
        .add(p + "v", n, config.kvDim());
    lb.add(p + "att", n, config.qDim()).add(p + "lse", b, config.numHeads(), t);
    lb.add(p + "res1", n, c).add(p + "h1", n, f).add(p + "act", n, f);
    if (family.swiglu()) {
      lb.add(p + "h2", n, f);
    }
    for (String path : loraPaths) {
      lb.add(p + "lora." + path, n, options.lora().rank());
    }
  }

  private Tensor act(String name) {
    return acts.get(name);
  }

  private Scratch scratch(String name) {
    Tensor t = acts.get(name);
    return t == null ? null : new Scratch(t);
  }

  private Block.Saved saved(int layer) {
    String p = options.gradientCheckpointing() ? "rec." : "l" + layer + ".";
    List<ModelConfig.LayerLinear> linears = config.layerLinears();
    List<Tensor> attnLora = new ArrayList<>();
    List<Tensor> mlpLora = new ArrayList<>();
    for (ModelConfig.LayerLinear lin : linears) {
      Tensor saved = act(p + "lora." + lin.path());
      (lin.path().startsWith("mlp.") ? mlpLora : attnLora).add(saved);
    }
    Tensor outLora = attnLora.removeLast(); // o_proj / attn.c_proj comes last among attention's
    Attention.Saved attention =
        new Attention.Saved(
            act(p + "q"),
            act(p + "k"),
            act(p + "v"),
            act(p + "att"),
            act(p + "lse"),
            attnLora.toArray(Tensor[]::new),
            outLora);
    Mlp.Saved mlp =
        new Mlp.Saved(act(p + "h1"), act(p + "h2"), act(p + "act"), mlpLora.toArray(Tensor[]::new));
    return new Block.Saved(
        act(p + "ln1"),
        act(p + "mean1"),
        act(p + "rstd1"),
        attention,
        act(p + "res1"),
        act(p + "ln2"),
        act(p + "mean2"),
        act(p + "rstd2"),
        mlp);
  }

  private void buildLayers(long chunkRows) {
    loraLayers.clear();
    tokens = embedding(family.tokenEmbedding());
    positionTable =
        family.positionEmbedding() == null ? null : embedding(family.positionEmbedding());
    blocks = new Block[config.numLayers()];
    for (int l = 0; l < blocks.length; l++) {
      String p = family.layerPrefix(l);
      Map<String, Projection> byPath = new LinkedHashMap<>();
      for (ModelConfig.LayerLinear lin : config.layerLinears()) {
        byPath.put(lin.path(), projection(p, lin));
      }
      List<Projection> all = new ArrayList<>(byPath.values());
      Attention attention;
      Mlp mlp;
      Rope rope = invFreq == null ? null : new Rope(backend, invFreq);
      if (family.swiglu()) {
        attention =
            attention(new Projection[] {all.get(0), all.get(1), all.get(2)}, all.get(3), rope);
        mlp =
            new SwiGlu(
                backend,
                all.get(4),
                all.get(5),
                all.get(6),
                scratch("dh1"),
                scratch("dh2"),
                scratch("dact"));
      } else {
        attention = attention(new Projection[] {all.get(0)}, all.get(1), rope);
        mlp = new Gelu(backend, all.get(2), all.get(3), scratch("dh1"), scratch("dact"));
      }
      blocks[l] =
          new Block(
              backend,
              norm(p + family.attentionNorm()),
              attention,
              norm(p + family.mlpNorm()),
              mlp,
              scratch("branch"),
              scratch("dln"));
    }
    finalNorm = norm(family.finalNorm());
    String headName = config.tieWordEmbeddings() ? family.tokenEmbedding() : family.lmHead();
    head =
        new CrossEntropy(
            backend, store.param(headName), store.grad(headName), scratch("logits"), chunkRows);
    setAdaptersDisabled(adaptersDisabled);
  }

  private Attention attention(Projection[] qkv, Projection out, Rope rope) {
    return new Attention(
        backend,
        qkv,
        out,
        rope,
        config.numHeads(),
        config.numKvHeads(),
        config.headDim(),
        scratch("datt"),
        scratch("dq"),
        scratch("dk"),
        scratch("dv"));
  }

  private Embedding embedding(String name) {
    return new Embedding(backend, store.param(name), store.grad(name), scratch("branch"));
  }

  private Norm norm(String module) {
    String w = module + ".weight";
    float eps = (float) config.normEps();
    if (family.layerNorm()) {
      String b = module + ".bias";
      return new LayerNorm(
          backend, store.param(w), store.param(b), store.grad(w), store.grad(b), eps);
    }
    return new RmsNorm(backend, store.param(w), store.grad(w), eps);
  }

  private Projection projection(String prefix, ModelConfig.LayerLinear lin) {
    String module = prefix + lin.path();
    String w = module + ".weight";
    String b = module + ".bias";
    Linear base =
        new Linear(
            backend,
            store.param(w),
            lin.bias() ? store.param(b) : null,
            store.grad(w),
            lin.bias() ? store.grad(b) : null);
    if (!loraPaths.contains(lin.path())) {
      return base;
    }
    String a = LoraConfig.loraAName(module);
    String bb = LoraConfig.loraBName(module);
    LoraLinear lora =
        new LoraLinear(
            backend,
            base,
            store.param(a),
            store.param(bb),
            store.grad(a),
            store.grad(bb),
            options.lora().scale(),
            (float) options.lora().dropout(),
            scratch("lora.dropped"),
            scratch("lora.dh"),
            scratch("lora.dxd"));
    loraLayers.add(lora);
    return lora;
  }

  // ---------------------------------------------------------------- batch

  private void setBatch(Batch b) {
    Integer window = config.slidingWindow();
    if (window != null && b.seqLen() > window) {
      throw new EngineException(
          "sequences of "
              + b.seqLen()
              + " tokens exceed the model's sliding_window of "
              + window
              + "; sliding-window attention is not implemented, so keep max_seq_length <= "
              + window);
    }
    plan(b.batchSize(), b.seqLen());
    releaseBatch();
    batchArena = Arena.ofShared();
    long n = (long) b.batchSize() * b.seqLen();
    ids = uploadIds(b.inputIds(), n);
    targets = uploadIds(b.targets(), n);
    positions = uploadIds(b.positions(), n);
    segments = uploadIds(b.segments(), b.batchSize(), b.seqLen());
    for (int p : b.positions()) {
      if (p < 0 || (positionTable != null && p >= config.maxPositions())) {
        throw new EngineException(
            "position " + p + " is outside the model's " + config.maxPositions() + " positions");
      }
    }
    for (int id : b.inputIds()) {
      if (id < 0 || id >= config.vocabSize()) {
        throw new EngineException(
            "token id " + id + " is outside the vocabulary of " + config.vocabSize());
      }
    }
    for (int id : b.targets()) {
      if (id != CrossEntropy.IGNORE_INDEX && (id < 0 || id >= config.vocabSize())) {
        throw new EngineException("target id " + id + " is outside the vocabulary");
      }
    }
    batch = b;
  }

  private Tensor uploadIds(int[] values, long... shape) {
    Tensor host =
        new Tensor(
            DType.I32, shape, batchArena.allocate(ValueLayout.JAVA_INT, values.length), Device.CPU);
    host.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(values));
    Tensor dev = backend.upload(host);
    if (dev != host) {
      batchDevice.add(dev);
    }
    return dev;
  }

  private void releaseBatch() {
    for (Tensor t : batchDevice) {
      backend.free(t);
    }
    batchDevice.clear();
    if (batchArena != null) {
      batchArena.close();
      batchArena = null;
    }
  }

  private Block.Inputs inputs() {
    return new Block.Inputs(positions, segments, batch.batchSize(), batch.seqLen());
  }

  private long blockSeed(long stepSeed, int layer) {
    long z = stepSeed * 0x9E3779B97F4A7C15L + (layer + 1) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return (z ^ (z >>> 31)) & ~0xFL; // low bits free for the projection index
  }

  // ---------------------------------------------------------------- forward and backward

  private void forwardHidden(Batch b, boolean training, long stepSeed) {
    setBatch(b);
    for (LoraLinear l : loraLayers) {
      l.setTraining(training);
    }
    Tensor x0 = act("x.0");
    tokens.forward(x0, ids, false);
    if (positionTable != null) {
      positionTable.forward(x0, positions, true);
    }
    Block.Inputs in = inputs();
    for (int l = 0; l < blocks.length; l++) {
      blocks[l].forward(act("x." + (l + 1)), saved(l), act("x." + l), in, blockSeed(stepSeed, l));
    }
    finalNorm.forward(act("lnf"), act("meanf"), act("rstdf"), act("x." + blocks.length));
  }

  /**
   * Forward, loss and backward for one micro-batch, accumulating gradients of {@code lossScale}
   * times the batch's mean token loss ({@code lossScale} = 1/accumulation steps, or this batch's
   * share of the tokens of the whole step). {@code stepSeed} drives LoRA dropout. Returns the mean
   * loss over the batch's targets (0 when it has none; then nothing is accumulated).
   */
  public float forwardBackward(Batch b, float lossScale, long stepSeed) {
    long count = b.targetCount();
    forwardHidden(b, true, stepSeed);
    if (count == 0) {
      return 0f;
    }
    Tensor dlnf = act("dlnf");
    backend.zero(dlnf);
    head.forwardBackward(
        act("losses"), dlnf, act("lnf"), targets, lossScale / count, head.emptyChunks(b.targets()));
    float loss = (float) (backend.sum(act("losses")) / count);
    Tensor dres = act("dres");
    backend.zero(dres);
    finalNorm.backward(dres, dlnf, act("x." + blocks.length), act("meanf"), act("rstdf"));
    Block.Inputs in = inputs();
    for (int l = blocks.length - 1; l >= 0; l--) {
      long seed = blockSeed(stepSeed, l);
      Block.Saved s = saved(l);
      if (options.gradientCheckpointing()) {
        blocks[l].forward(act("x." + (l + 1)), s, act("x." + l), in, seed);
      }
      blocks[l].backward(dres, s, act("x." + l), in, seed);
    }
    tokens.backward(dres, ids);
    if (positionTable != null) {
      positionTable.backward(dres, positions);
    }
    return loss;
  }

  /** The mean token loss of a batch, without dropout and without touching gradients. */
  public float loss(Batch b) {
    long count = b.targetCount();
    forwardHidden(b, false, 0);
    if (count == 0) {
      return 0f;
    }
    head.forwardBackward(
        act("losses"), null, act("lnf"), targets, 1f, head.emptyChunks(b.targets()));
    return (float) (backend.sum(act("losses")) / count);
  }

  /**
   * Logits of the given rows (indices into the batch's B*T rows) as a host array (rows.length, V),
   * computed a chunk of consecutive rows at a time; no dropout, no gradients.
   */
  public float[] logits(Batch b, int[] rows) {
    forwardHidden(b, false, 0);
    long v = config.vocabSize();
    long n = (long) b.batchSize() * b.seqLen();
    long chunk = act("logits").dim(0);
    float[] out = new float[Math.toIntExact(rows.length * v)];
    Tensor lnf = act("lnf");
    try (Arena host = Arena.ofConfined()) {
      int i = 0;
      while (i < rows.length) {
        int run = 1;
        while (i + run < rows.length && rows[i + run] == rows[i] + run && run < chunk) {
          run++;
        }
        if (rows[i] < 0 || rows[i] + run > n) {
          throw new IllegalArgumentException("row " + rows[i] + " outside the batch's " + n);
        }
        Tensor lg = new Scratch(act("logits")).view(run, v);
        head.logits(lg, lnf.rows(rows[i], run));
        Tensor h = new Tensor(DType.F32, lg.shape(), host.allocate(lg.byteSize(), 64), Device.CPU);
        backend.download(h, lg);
        java.lang.foreign.MemorySegment.copy(
            h.data(), ValueLayout.JAVA_FLOAT, 0, out, (int) (i * v), (int) (run * v));
        i += run;
      }
    }
    return out;
  }

  static Tensor hostF32(Arena arena, float[] values) {
    Tensor t =
        new Tensor(
            DType.F32,
            new long[] {values.length},
            arena.allocate(ValueLayout.JAVA_FLOAT, values.length),
            Device.CPU);
    t.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(values));
    return t;
  }

  @Override
  public void close() {
    releaseBatch();
    releaseActivations();
    if (invFreq != null) {
      backend.free(invFreq);
    }
    store.close();
  }
}
