// Dimension legend: B batch, T time, N = B*T rows, C channels, F intermediate size, V vocabulary,
// K rows per logits chunk, R LoRA rank.
// Convention: every activation is a named view of ONE arena; names are "x.<l>" for the residual
// stream entering block l, "<p><what>" for a block's saved state (p = "l<l>." or, when
// checkpointing, the one shared "rec."), and plain names for work buffers shared by all layers.
package dev.entity.engine.model;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.layer.Attention;
import dev.entity.engine.layer.CrossEntropy;
import dev.entity.engine.layer.Mlp;
import dev.entity.engine.layer.Scratch;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decoder's activations, planned per (B, T): one F32 arena reallocated only when a shape needs
 * more than it holds, carved into the residual stream, each block's saved state (or one shared set
 * plus the block inputs under gradient checkpointing), gradient work buffers and the logits chunk.
 */
final class Activations {

  private final Backend backend;
  private final ModelConfig config;
  private final Family family;
  private final Decoder.Options options;
  private final Set<String> loraPaths;
  private Tensor arena; // F32, carved per (B, T)
  private Map<String, Tensor> acts = Map.of();
  private long planB = -1;
  private long planT = -1;

  Activations(
      Backend backend,
      ModelConfig config,
      Family family,
      Decoder.Options options,
      Set<String> loraPaths) {
    this.backend = backend;
    this.config = config;
    this.family = family;
    this.options = options;
    this.loraPaths = loraPaths;
  }

  /**
   * Lays out the arena for a (B, T) batch; returns false when the shape is the one already planned
   * (views unchanged), true when the views were carved anew.
   */
  boolean plan(long b, long t) {
    if (b == planB && t == planT) {
      return false;
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
    lb.add("logits", CrossEntropy.chunkRows(v, n, CrossEntropy.DEFAULT_CHUNK_ELEMENTS), v);
    SlotLayout layout = lb.build();
    if (arena == null || arena.elementCount() < layout.totalElements()) {
      release(); // an allocation failure below leaves no stale plan behind
      arena = backend.allocate(DType.F32, layout.totalElements());
    }
    acts = layout.carve(arena);
    planB = b;
    planT = t;
    return true;
  }

  /** Frees the arena; the next {@link #plan} allocates it again. */
  void release() {
    if (arena != null) {
      backend.free(arena);
      arena = null;
    }
    acts = Map.of();
    planB = -1;
    planT = -1;
  }

  /** Elements now allocated (F32). */
  long elements() {
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

  /** The view named {@code name} of the current plan, or null when this model has none. */
  Tensor get(String name) {
    return acts.get(name);
  }

  /** The named view as a work buffer, or null when this model has none. */
  Scratch scratch(String name) {
    Tensor t = acts.get(name);
    return t == null ? null : new Scratch(t);
  }

  /** What block {@code layer} saves (the one shared set when checkpointing). */
  Block.Saved saved(int layer) {
    String p = options.gradientCheckpointing() ? "rec." : "l" + layer + ".";
    List<ModelConfig.LayerLinear> linears = config.layerLinears();
    List<Tensor> attnLora = new ArrayList<>();
    List<Tensor> mlpLora = new ArrayList<>();
    for (ModelConfig.LayerLinear lin : linears) {
      Tensor saved = get(p + "lora." + lin.path());
      (lin.path().startsWith("mlp.") ? mlpLora : attnLora).add(saved);
    }
    Tensor outLora = attnLora.removeLast(); // o_proj / attn.c_proj comes last among attention's
    Attention.Saved attention =
        new Attention.Saved(
            get(p + "q"),
            get(p + "k"),
            get(p + "v"),
            get(p + "att"),
            get(p + "lse"),
            attnLora.toArray(Tensor[]::new),
            outLora);
    Mlp.Saved mlp =
        new Mlp.Saved(get(p + "h1"), get(p + "h2"), get(p + "act"), mlpLora.toArray(Tensor[]::new));
    return new Block.Saved(
        get(p + "ln1"),
        get(p + "mean1"),
        get(p + "rstd1"),
        attention,
        get(p + "res1"),
        get(p + "ln2"),
        get(p + "mean2"),
        get(p + "rstd2"),
        mlp);
  }
}
