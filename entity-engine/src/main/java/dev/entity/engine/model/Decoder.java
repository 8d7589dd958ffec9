// Dimension legend: B batch, T time, N = B*T rows, C channels, NH query heads, NKV key/value heads,
// HS head size, F intermediate size, V vocabulary, L layers, K rows per logits chunk, R LoRA rank.
// Convention: the layer objects are cheap views over the parameter store and the activation arena
// ({@link Activations}); they are rebuilt whenever the batch shape changes, so no layer keeps a
// buffer of another shape.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.generate.KvCache;
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
import dev.entity.engine.quant.Nf4Config;
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
 * only the adapters ({@link Options#lora()}), with frozen matrices optionally kept in BF16; QLoRA
 * ({@link Options#nf4()}) keeps the blocks' linear weights in NF4.
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
   * @param frozenDType dtype of frozen matrices that are not NF4 (F32, BF16 or F16)
   * @param gradientCheckpointing recompute each block in backward instead of keeping its state
   * @param nf4 QLoRA: every linear weight of the blocks frozen in NF4 (embeddings, norms and the LM
   *     head are not quantized, as in bitsandbytes), or null
   */
  public record Options(
      LoraConfig lora, DType frozenDType, boolean gradientCheckpointing, Nf4Config nf4) {
    public Options {
      if (!frozenDType.isFloat()) {
        throw new EngineException("frozen weights must be F32, BF16 or F16, not " + frozenDType);
      }
      if (nf4 != null && lora == null) {
        throw new EngineException(
            "4-bit (NF4) base weights are frozen, so they need LoRA adapters to train: use"
                + " training_method: qlora with LoRA settings, or drop load_in_4bit");
      }
    }

    public Options(LoraConfig lora, DType frozenDType, boolean gradientCheckpointing) {
      this(lora, frozenDType, gradientCheckpointing, null);
    }

    /** QLoRA: LoRA adapters over NF4 block linears ({@code training_method: qlora}). */
    public static Options qlora(LoraConfig lora, Nf4Config nf4) {
      return new Options(lora, DType.F32, false, nf4);
    }

    public static Options full() {
      return new Options(null, DType.F32, false);
    }

    public static Options lora(LoraConfig lora) {
      return new Options(lora, DType.F32, false);
    }

    public Options withFrozenDType(DType dtype) {
      return new Options(lora, dtype, gradientCheckpointing, nf4);
    }

    public Options withGradientCheckpointing(boolean on) {
      return new Options(lora, frozenDType, on, nf4);
    }

    public Options withNf4(Nf4Config config) {
      return new Options(lora, frozenDType, gradientCheckpointing, config);
    }
  }

  private final Backend backend;
  private final ModelConfig config;
  private final Family family;
  private final Options options;
  private final Set<String> loraPaths; // module paths inside a block that carry an adapter
  private final ParameterStore store;
  private final Tensor invFreq; // (HS/2) or null

  private final Activations acts;
  private Embedding tokens;
  private Embedding positionTable;
  private Block[] blocks;
  private Norm finalNorm;
  private CrossEntropy head;
  private final List<LoraLinear> loraLayers = new ArrayList<>();
  private boolean adaptersDisabled;

  private DeviceBatch current;

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
    this.store = new ParameterStore(backend, slots(), compactDType(), options.nf4());
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
    this.acts = new Activations(backend, config, family, options, loraPaths);
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
    Storage linear = options.nf4() != null ? Storage.FROZEN_NF4 : matrix;
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
        s.add(new Slot(module + ".weight", new long[] {lin.out(), lin.in()}, linear, transposed));
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
   * Fills the base weights with random values as a fresh Hugging Face model is initialized (see
   * {@link RandomWeights}); for benchmarks and tests on real shapes without a download.
   */
  public void initializeRandom(long seed, float std) {
    RandomWeights.fill(store, seed, std);
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

  /** Whether the LoRA adapters are now skipped ({@link #setAdaptersDisabled}). */
  public boolean adaptersDisabled() {
    return adaptersDisabled;
  }

  /**
   * Frees the activation arena (e.g. after an out-of-memory failure, before retrying with a smaller
   * micro-batch); the next forward plans and allocates it again.
   */
  public void releaseActivations() {
    acts.release();
  }

  /** Elements of the activation arena now allocated (F32), for memory reports. */
  public long activationElements() {
    return acts.elements();
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
                acts.scratch("dh1"),
                acts.scratch("dh2"),
                acts.scratch("dact"));
      } else {
        attention = attention(new Projection[] {all.get(0)}, all.get(1), rope);
        mlp = new Gelu(backend, all.get(2), all.get(3), acts.scratch("dh1"), acts.scratch("dact"));
      }
      blocks[l] =
          new Block(
              backend,
              norm(p + family.attentionNorm()),
              attention,
              norm(p + family.mlpNorm()),
              mlp,
              acts.scratch("branch"),
              acts.scratch("dln"));
    }
    finalNorm = norm(family.finalNorm());
    String headName = config.tieWordEmbeddings() ? family.tokenEmbedding() : family.lmHead();
    head =
        new CrossEntropy(
            backend,
            store.param(headName),
            store.grad(headName),
            acts.scratch("logits"),
            chunkRows);
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
        acts.scratch("datt"),
        acts.scratch("dq"),
        acts.scratch("dk"),
        acts.scratch("dv"));
  }

  private Embedding embedding(String name) {
    return new Embedding(backend, store.param(name), store.grad(name), acts.scratch("branch"));
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
        store.slot(w).storage() == Storage.FROZEN_NF4
            ? new Linear(
                backend,
                store.nf4(w),
                lin.bias() ? store.param(b) : null,
                lin.bias() ? store.grad(b) : null,
                store.nf4Scratch())
            : new Linear(
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
            acts.scratch("lora.dropped"),
            acts.scratch("lora.dh"),
            acts.scratch("lora.dxd"));
    loraLayers.add(lora);
    return lora;
  }

  // ---------------------------------------------------------------- batch

  private void setBatch(Batch b) {
    DeviceBatch next = new DeviceBatch(backend, b, config, family.positionEmbedding() != null);
    releaseBatch();
    current = next;
    if (acts.plan(b.batchSize(), b.seqLen())) {
      buildLayers(acts.get("logits").dim(0));
    }
  }

  private void releaseBatch() {
    if (current != null) {
      current.close();
      current = null;
    }
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
    Tensor x0 = acts.get("x.0");
    tokens.forward(x0, current.ids, false);
    if (positionTable != null) {
      positionTable.forward(x0, current.positions, true);
    }
    Block.Inputs in = current.inputs();
    for (int l = 0; l < blocks.length; l++) {
      blocks[l].forward(
          acts.get("x." + (l + 1)), acts.saved(l), acts.get("x." + l), in, blockSeed(stepSeed, l));
    }
    finalNorm.forward(
        acts.get("lnf"), acts.get("meanf"), acts.get("rstdf"), acts.get("x." + blocks.length));
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
    Tensor dlnf = acts.get("dlnf");
    backend.zero(dlnf);
    head.forwardBackward(
        acts.get("losses"),
        dlnf,
        acts.get("lnf"),
        current.targets,
        lossScale / count,
        head.emptyChunks(b.targets()));
    float loss = (float) (backend.sum(acts.get("losses")) / count);
    Tensor dres = acts.get("dres");
    backend.zero(dres);
    finalNorm.backward(
        dres, dlnf, acts.get("x." + blocks.length), acts.get("meanf"), acts.get("rstdf"));
    Block.Inputs in = current.inputs();
    for (int l = blocks.length - 1; l >= 0; l--) {
      long seed = blockSeed(stepSeed, l);
      Block.Saved s = acts.saved(l);
      if (options.gradientCheckpointing()) {
        blocks[l].forward(acts.get("x." + (l + 1)), s, acts.get("x." + l), in, seed);
      }
      blocks[l].backward(dres, s, acts.get("x." + l), in, seed);
    }
    tokens.backward(dres, current.ids);
    if (positionTable != null) {
      positionTable.backward(dres, current.positions);
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
        acts.get("losses"),
        null,
        acts.get("lnf"),
        current.targets,
        1f,
        head.emptyChunks(b.targets()));
    return (float) (backend.sum(acts.get("losses")) / count);
  }

  /**
   * Logits of the given rows (indices into the batch's B*T rows) as a host array (rows.length, V),
   * computed a chunk of consecutive rows at a time; no dropout, no gradients.
   */
  public float[] logits(Batch b, int[] rows) {
    forwardHidden(b, false, 0);
    long v = config.vocabSize();
    long n = (long) b.batchSize() * b.seqLen();
    long chunk = acts.get("logits").dim(0);
    float[] out = new float[Math.toIntExact(rows.length * v)];
    Tensor lnf = acts.get("lnf");
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
        Tensor lg = new Scratch(acts.get("logits")).view(run, v);
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

  // ---------------------------------------------------------------- cached decoding

  /**
   * Runs {@code tokens} (at most {@code cache.chunkRows()} of them) through the model as the
   * continuation of the sequence in {@code cache}, at positions {@code cache.length()} onward:
   * their keys and values are appended to the cache and the logits (V) of the last token are
   * returned. No dropout, no gradients; the adapter switch ({@link #setAdaptersDisabled}) applies.
   */
  public float[] decode(KvCache cache, int[] tokens) {
    int n = tokens.length;
    int start = cache.length();
    if (n == 0 || n > cache.chunkRows()) {
      throw new EngineException(
          "a decoding call takes 1 to " + cache.chunkRows() + " tokens, not " + n);
    }
    if (start + n > cache.capacity()) {
      throw new EngineException(
          "the sequence would reach "
              + (start + n)
              + " tokens but the KV cache holds "
              + cache.capacity());
    }
    int[] positions = new int[n];
    for (int i = 0; i < n; i++) {
      positions[i] = start + i;
      if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
        throw new EngineException(
            "token id " + tokens[i] + " is outside the vocabulary of " + config.vocabSize());
      }
    }
    if (family.positionEmbedding() != null && start + n > config.maxPositions()) {
      throw new EngineException(
          "position " + (start + n - 1) + " is outside the model's " + config.maxPositions());
    }
    if (blocks == null) {
      acts.plan(1, 1);
      buildLayers(acts.get("logits").dim(0));
    }
    for (LoraLinear l : loraLayers) {
      l.setTraining(false);
    }
    KvCache.Workspace w = cache.work();
    Tensor ids = uploadI32(w.hostIds().rows(0, n), tokens);
    Tensor pos = uploadI32(w.hostPositions().rows(0, n), positions);
    try {
      Tensor x = w.x().rows(0, n); // (n, C)
      Tensor y = w.y().rows(0, n); // (n, C)
      backend.embeddingForward(x, ids, store.param(family.tokenEmbedding()));
      if (family.positionEmbedding() != null) {
        backend.embeddingForward(y, pos, store.param(family.positionEmbedding()));
        backend.add(x, x, y);
      }
      Tensor ln = w.ln().rows(0, n);
      Tensor mean = w.mean().rows(0, n);
      Tensor rstd = w.rstd().rows(0, n);
      Tensor lora = w.lora() == null ? null : w.lora().rows(0, n);
      Tensor q = w.q().rows(0, n);
      Tensor att = w.att().rows(0, n);
      int heads = config.numHeads();
      int kvHeads = config.numKvHeads();
      int hs = config.headDim();
      for (int l = 0; l < blocks.length; l++) {
        String p = family.layerPrefix(l);
        Attention a = blocks[l].attention();
        Tensor k = cache.keys(l).rows(start, n); // (n, NKV*HS)
        Tensor v = cache.values(l).rows(start, n);
        norm(p + family.attentionNorm()).forward(ln, mean, rstd, x);
        Projection[] qkv = a.qkv();
        if (qkv.length == 1) {
          qkv[0].forward(new Tensor[] {q, k, v}, saved(qkv[0], lora), ln, 0);
        } else {
          qkv[0].forward(q, saved(qkv[0], lora), ln, 0);
          qkv[1].forward(k, saved(qkv[1], lora), ln, 0);
          qkv[2].forward(v, saved(qkv[2], lora), ln, 0);
        }
        if (invFreq != null) {
          backend.rope(q.reshape(n, heads, hs), pos, invFreq, false);
          backend.rope(k.reshape(n, kvHeads, hs), pos, invFreq, false);
        }
        backend.attentionDecode(
            att.reshape(n, heads, hs),
            q.reshape(n, heads, hs),
            cache.keys(l).reshape(cache.capacity(), kvHeads, hs),
            cache.values(l).reshape(cache.capacity(), kvHeads, hs),
            start,
            (float) (1.0 / Math.sqrt(hs)));
        a.out().forward(y, saved(a.out(), lora), att, 0);
        backend.add(x, x, y);
        norm(p + family.mlpNorm()).forward(ln, mean, rstd, x);
        Mlp mlp = blocks[l].mlp();
        Projection[] mp = mlp.projections();
        Tensor[] mlpLora = new Tensor[mp.length];
        for (int i = 0; i < mp.length; i++) {
          mlpLora[i] = saved(mp[i], lora);
        }
        mlp.forward(
            y,
            new Mlp.Saved(
                w.h1().rows(0, n),
                mlp.needsSecondHidden() ? w.h2().rows(0, n) : null,
                w.act().rows(0, n),
                mlpLora),
            ln,
            0);
        backend.add(x, x, y);
      }
      Tensor last = ln.rows(n - 1, 1); // (1, C)
      finalNorm.forward(last, mean.rows(0, 1), rstd.rows(0, 1), x.rows(n - 1, 1));
      head.logits(w.logits(), last);
      cache.advance(n);
      backend.download(w.hostLogits(), w.logits());
      return w.hostLogits().data().toArray(ValueLayout.JAVA_FLOAT);
    } finally {
      freeUpload(ids);
      freeUpload(pos);
    }
  }

  private static Tensor saved(Projection p, Tensor lora) {
    return p.savedWidth() > 0 ? lora : null;
  }

  private Tensor uploadI32(Tensor host, int[] values) {
    host.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(values));
    return backend.upload(host);
  }

  private void freeUpload(Tensor t) {
    if (t.device() != Device.CPU) { // on the host, upload returned the staging tensor itself
      backend.free(t);
    }
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
    acts.release();
    if (invFreq != null) {
      backend.free(invFreq);
    }
    store.close();
  }
}
