// Convention: sizes that a tensor also carries (vocabulary, widths) are taken from the metadata
// and then checked against the tensors by the loader, so a file whose metadata lies is refused
// instead of read out of shape. Llama 3 RoPE scaling is recovered from the rope_freqs tensor,
// the only place llama.cpp's converter (and ours) records it.
package dev.entity.engine.format.gguf;

import dev.entity.engine.EngineException;
import dev.entity.engine.layer.Rope;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link ModelConfig} read from a GGUF model's metadata: {@code general.architecture} (llama,
 * qwen2, gpt2) and the {@code <arch>.*} keys GgufExport writes (context length, widths, block
 * count, heads, norm epsilon, RoPE base), biases and tied embeddings from which tensors exist, and
 * the BOS/EOS ids from the tokenizer metadata.
 */
public final class GgufModelConfig {

  private static final double FACTOR_TOLERANCE = 1e-5;

  private GgufModelConfig() {}

  /** The architecture named by {@code general.architecture}, or an error listing those known. */
  public static Architecture architecture(GgufReader r) {
    GgufValue v = r.value("general.architecture");
    String name = v.type() == GgufValueType.STRING ? v.asString() : String.valueOf(v.value());
    for (Architecture a : Architecture.values()) {
      if (GgufTensorPlan.architectureName(a).equals(name)) {
        return a;
      }
    }
    List<String> known = new ArrayList<>();
    for (Architecture a : Architecture.values()) {
      known.add(GgufTensorPlan.architectureName(a));
    }
    throw new EngineException(
        r.file()
            + ": GGUF metadata \"general.architecture\" is \""
            + name
            + "\"; the engine runs "
            + String.join(", ", known));
  }

  /** The config of the model in {@code r}. */
  public static ModelConfig read(GgufReader r) {
    Architecture arch = architecture(r);
    String a = GgufTensorPlan.architectureName(arch);
    boolean gpt2 = arch == Architecture.GPT2;
    int hidden = u32(r, a + ".embedding_length");
    int heads = u32(r, a + ".attention.head_count");
    int kvHeads = gpt2 ? heads : optionalU32(r, a + ".attention.head_count_kv", heads);
    int headDim = optionalU32(r, a + ".attention.key_length", heads > 0 ? hidden / heads : 0);
    long[] embd = r.tensor("token_embd.weight").shape();
    int vocab = optionalU32(r, a + ".vocab_size", (int) embd[0]);
    double eps =
        gpt2
            ? f32(r, a + ".attention.layer_norm_epsilon")
            : f32(r, a + ".attention.layer_norm_rms_epsilon");
    double theta = gpt2 ? 10000 : optionalF32(r, a + ".rope.freq_base", 10000);
    boolean tied = !r.hasTensor("output.weight");
    boolean qkvBias = r.hasTensor("blk.0.attn_q.bias");
    boolean outBias = r.hasTensor("blk.0.attn_output.bias");
    boolean mlpBias = r.hasTensor("blk.0.ffn_up.bias");
    Map<String, GgufValue> m = r.metadata();
    Integer bos = idOrNull(m.get("tokenizer.ggml.bos_token_id"));
    Integer eos = idOrNull(m.get("tokenizer.ggml.eos_token_id"));
    try {
      ModelConfig base =
          new ModelConfig(
              arch,
              arch.modelTypes().getFirst(),
              vocab,
              hidden,
              u32(r, a + ".block_count"),
              heads,
              kvHeads,
              headDim,
              u32(r, a + ".feed_forward_length"),
              u32(r, a + ".context_length"),
              eps,
              theta,
              null,
              tied,
              gpt2 || qkvBias,
              gpt2 || outBias,
              gpt2 || mlpBias,
              gpt2 ? "gelu_new" : "silu",
              bos,
              eos == null ? List.of() : List.of(eos),
              null,
              null);
      if (!r.hasTensor("rope_freqs.weight")) {
        return base;
      }
      return withScaling(base, ropeScaling(r, base));
    } catch (EngineException e) {
      if (e.getMessage().startsWith(r.file().toString())) {
        throw e;
      }
      throw new EngineException(r.file() + ": GGUF metadata: " + e.getMessage(), e);
    }
  }

  /** {@code c} with RoPE scaling {@code s} (null for none). */
  static ModelConfig withScaling(ModelConfig c, ModelConfig.RopeScaling s) {
    return new ModelConfig(
        c.architecture(),
        c.modelType(),
        c.vocabSize(),
        c.hiddenSize(),
        c.numLayers(),
        c.numHeads(),
        c.numKvHeads(),
        c.headDim(),
        c.intermediateSize(),
        c.maxPositions(),
        c.normEps(),
        c.ropeTheta(),
        s,
        c.tieWordEmbeddings(),
        c.attentionBias(),
        c.attentionOutputBias(),
        c.mlpBias(),
        c.hiddenAct(),
        c.bosTokenId(),
        c.eosTokenIds(),
        c.torchDtype(),
        c.slidingWindow());
  }

  /**
   * Llama 3 scaling parameters that reproduce the {@code rope_freqs} factors. Inside the smooth
   * band a factor f at wavelength w satisfies {@code 1/f = 1/F + (1 - 1/F) s} with {@code s = v/w -
   * u}, {@code v = original / (high - low)} and {@code u = low / (high - low)}; only u and v (and
   * F) change any factor, so high - low is chosen to make the original context a whole number.
   */
  static ModelConfig.RopeScaling ropeScaling(GgufReader r, ModelConfig c) {
    float[] factors;
    try (Arena arena = Arena.ofConfined()) {
      var t = r.readF32("rope_freqs.weight", arena);
      if (t.elementCount() != c.headDim() / 2) {
        throw new EngineException(
            r.file()
                + ": tensor \"rope_freqs.weight\" has "
                + t.elementCount()
                + " factors; head width "
                + c.headDim()
                + " needs "
                + c.headDim() / 2);
      }
      factors = t.data().toArray(ValueLayout.JAVA_FLOAT);
    }
    float[] inv = Rope.inverseFrequencies(c.headDim(), c.ropeTheta(), null);
    double big = 1;
    for (float f : factors) {
      if (!(f >= 1 - FACTOR_TOLERANCE)) {
        throw notLlama3(r, "factor " + f + " is below 1");
      }
      big = Math.max(big, f);
    }
    if (big - 1 < FACTOR_TOLERANCE) {
      return null;
    }
    double k = 1 - 1 / big;
    // x = 1 / wavelength falls as i grows; s(x) = v x - u is 1 at the band's short end, 0 at its
    // long end
    List<double[]> band = new ArrayList<>(); // {x, s}
    double shortX = Double.NaN; // smallest x with factor 1
    double longX = Double.NaN; // largest x with factor F
    for (int i = 0; i < factors.length; i++) {
      double x = inv[i] / (2 * Math.PI);
      if (Math.abs(factors[i] - 1) < FACTOR_TOLERANCE) {
        shortX = Double.isNaN(shortX) ? x : Math.min(shortX, x);
      } else if (Math.abs(factors[i] - big) < FACTOR_TOLERANCE * big) {
        longX = Double.isNaN(longX) ? x : Math.max(longX, x);
      } else {
        band.add(new double[] {x, (1 / factors[i] - 1 / big) / k});
      }
    }
    double u;
    double v;
    if (band.size() >= 2) {
      double[] p = band.getFirst();
      double[] q = band.getLast();
      v = (p[1] - q[1]) / (p[0] - q[0]);
      u = v * p[0] - p[1];
    } else if (band.size() == 1) {
      double x0 = band.getFirst()[0];
      double s0 = band.getFirst()[1];
      double need = 1;
      if (!Double.isNaN(shortX)) {
        need = Math.max(need, (1 - s0) / (shortX - x0));
      }
      if (!Double.isNaN(longX)) {
        need = Math.max(need, s0 / (x0 - longX));
      }
      v = 2 * need;
      u = v * x0 - s0;
    } else {
      double lo = Double.isNaN(longX) ? shortX / 2 : longX;
      double hi = Double.isNaN(shortX) ? longX * 2 : shortX;
      v = 1 / (hi - lo);
      u = v * lo;
    }
    if (!(v > 0) || !(u > 0)) {
      throw notLlama3(r, "the factors do not fall from long to short wavelengths");
    }
    int original = (int) Math.max(1, Math.round(3 * v));
    double width = original / v;
    ModelConfig.RopeScaling s =
        new ModelConfig.RopeScaling(big, u * width, u * width + width, original);
    float[] scaled = Rope.inverseFrequencies(c.headDim(), c.ropeTheta(), s);
    for (int i = 0; i < factors.length; i++) {
      double want = inv[i] / factors[i];
      if (Math.abs(scaled[i] - want) > FACTOR_TOLERANCE * want) {
        throw notLlama3(r, "factor " + i + " (" + factors[i] + ") is off the smooth band");
      }
    }
    return s;
  }

  private static EngineException notLlama3(GgufReader r, String why) {
    return new EngineException(
        r.file()
            + ": tensor \"rope_freqs.weight\" is not Llama 3 RoPE scaling ("
            + why
            + "); only llama3-type scaling is supported");
  }

  private static Integer idOrNull(GgufValue v) {
    if (v == null || !(v.value() instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
      return null;
    }
    return (int) (long) l;
  }

  private static int u32(GgufReader r, String key) {
    GgufValue v = r.value(key);
    if (!(v.value() instanceof Long l) || v.type() == GgufValueType.ARRAY) {
      throw new EngineException(
          r.file() + ": GGUF metadata \"" + key + "\" is " + v + "; expected an integer");
    }
    if (l <= 0 || l > Integer.MAX_VALUE) {
      throw new EngineException(
          r.file() + ": GGUF metadata \"" + key + "\" is " + l + "; expected a positive size");
    }
    return (int) (long) l;
  }

  private static int optionalU32(GgufReader r, String key, int fallback) {
    return r.metadata().containsKey(key) ? u32(r, key) : fallback;
  }

  private static double f32(GgufReader r, String key) {
    GgufValue v = r.value(key);
    if (!(v.value() instanceof Double d)) {
      throw new EngineException(
          r.file() + ": GGUF metadata \"" + key + "\" is " + v + "; expected a float");
    }
    return d;
  }

  private static double optionalF32(GgufReader r, String key, double fallback) {
    return r.metadata().containsKey(key) ? f32(r, key) : fallback;
  }
}
