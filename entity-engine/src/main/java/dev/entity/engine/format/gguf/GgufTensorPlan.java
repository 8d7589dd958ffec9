// Convention: the plan is derived from the config (the tensors llama.cpp will ask for), not from
// the file's names, so a GGUF holds exactly the tensors llama.cpp expects: no buffers, no tied
// lm_head copy (llama.cpp reuses token_embd when output.weight is absent).
package dev.entity.engine.format.gguf;

import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Family;
import dev.entity.engine.model.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which Hugging Face tensor becomes which GGUF tensor, and how it is rearranged on the way: GPT-2's
 * Conv1D weights are transposed from (in, out) to (out, in); Llama's q/k projections (weights and
 * biases) get the row permutation that turns Hugging Face's half-split rotary layout into the
 * interleaved pairs of llama.cpp's LLAMA rope (Qwen2 uses llama.cpp's NEOX rope and needs none).
 */
public final class GgufTensorPlan {

  /** How a tensor's values are rearranged between the Hugging Face file and the GGUF file. */
  public enum Rearrangement {
    NONE,
    TRANSPOSE,
    PERMUTE_QUERY,
    PERMUTE_KEY
  }

  /**
   * One tensor of the export.
   *
   * @param hfName the Hugging Face state-dict name
   * @param ggufName the llama.cpp name
   * @param hfShape the shape in the Hugging Face file
   * @param rearrangement what happens to it on the way
   */
  public record Entry(String hfName, String ggufName, long[] hfShape, Rearrangement rearrangement) {
    /** The row-major shape in the GGUF file. */
    public long[] ggufShape() {
      return rearrangement == Rearrangement.TRANSPOSE
          ? new long[] {hfShape[1], hfShape[0]}
          : hfShape.clone();
    }
  }

  private static final Map<String, String> LINEAR_NAMES =
      Map.ofEntries(
          Map.entry("self_attn.q_proj", "attn_q"),
          Map.entry("self_attn.k_proj", "attn_k"),
          Map.entry("self_attn.v_proj", "attn_v"),
          Map.entry("self_attn.o_proj", "attn_output"),
          Map.entry("mlp.gate_proj", "ffn_gate"),
          Map.entry("mlp.up_proj", "ffn_up"),
          Map.entry("mlp.down_proj", "ffn_down"),
          Map.entry("attn.c_attn", "attn_qkv"),
          Map.entry("attn.c_proj", "attn_output"),
          Map.entry("mlp.c_fc", "ffn_up"),
          Map.entry("mlp.c_proj", "ffn_down"));

  private GgufTensorPlan() {}

  /** The llama.cpp architecture name of a family. */
  public static String architectureName(Architecture a) {
    return switch (a) {
      case LLAMA -> "llama";
      case QWEN2 -> "qwen2";
      case GPT2 -> "gpt2";
    };
  }

  /** The llama.cpp name of a per-block linear module path ("self_attn.q_proj" → "attn_q"). */
  public static String linearName(String path) {
    String n = LINEAR_NAMES.get(path);
    if (n == null) {
      throw new IllegalArgumentException("no GGUF name for module " + path);
    }
    return n;
  }

  /** Every tensor of a model of this config, in llama.cpp's usual order. */
  public static List<Entry> entries(ModelConfig c) {
    Family f = Family.of(c);
    long hidden = c.hiddenSize();
    List<Entry> out = new ArrayList<>();
    out.add(entry(f.tokenEmbedding(), "token_embd.weight", c.vocabSize(), hidden));
    if (f.positionEmbedding() != null) {
      out.add(entry(f.positionEmbedding(), "position_embd.weight", c.maxPositions(), hidden));
    }
    for (int l = 0; l < c.numLayers(); l++) {
      String p = f.layerPrefix(l);
      String blk = "blk." + l + ".";
      norm(out, f, p + f.attentionNorm(), blk + "attn_norm", hidden);
      boolean mlpNorm = false;
      for (ModelConfig.LayerLinear lin : c.layerLinears()) {
        if (!mlpNorm && lin.path().startsWith("mlp.")) {
          norm(out, f, p + f.mlpNorm(), blk + "ffn_norm", hidden);
          mlpNorm = true;
        }
        Rearrangement r = rearrangement(c, lin.path());
        String name = blk + linearName(lin.path());
        long[] shape =
            f.linearsTransposedInFiles()
                ? new long[] {lin.in(), lin.out()}
                : new long[] {lin.out(), lin.in()};
        out.add(new Entry(p + lin.path() + ".weight", name + ".weight", shape, r));
        if (lin.bias()) {
          Rearrangement br = r == Rearrangement.TRANSPOSE ? Rearrangement.NONE : r;
          out.add(new Entry(p + lin.path() + ".bias", name + ".bias", new long[] {lin.out()}, br));
        }
      }
    }
    norm(out, f, f.finalNorm(), "output_norm", hidden);
    if (!c.tieWordEmbeddings()) {
      out.add(entry(f.lmHead(), "output.weight", c.vocabSize(), hidden));
    }
    return out;
  }

  /** How the weights of the linear module at {@code path} are rearranged. */
  public static Rearrangement rearrangement(ModelConfig c, String path) {
    if (c.architecture() == Architecture.GPT2) {
      return Rearrangement.TRANSPOSE;
    }
    if (c.architecture() == Architecture.LLAMA) {
      if (path.equals("self_attn.q_proj")) {
        return Rearrangement.PERMUTE_QUERY;
      }
      if (path.equals("self_attn.k_proj")) {
        return Rearrangement.PERMUTE_KEY;
      }
    }
    return Rearrangement.NONE;
  }

  private static Entry entry(String hf, String gguf, long rows, long cols) {
    return new Entry(hf, gguf, new long[] {rows, cols}, Rearrangement.NONE);
  }

  private static void norm(List<Entry> out, Family f, String module, String gguf, long width) {
    out.add(
        new Entry(module + ".weight", gguf + ".weight", new long[] {width}, Rearrangement.NONE));
    if (f.layerNorm()) {
      out.add(new Entry(module + ".bias", gguf + ".bias", new long[] {width}, Rearrangement.NONE));
    }
  }

  /**
   * The rows of {@code src} (rows × cols F32 values) in llama.cpp's rotary order, into a new
   * segment of {@code arena}: within each of {@code heads} heads of {@code rows / heads} rows, row
   * {@code 2i + j} takes Hugging Face row {@code j * half + i} — the {@code reshape(n_head, 2,
   * hd/2, ...).swapaxes(1, 2)} of llama.cpp's converter.
   */
  public static MemorySegment permuteRows(
      MemorySegment src, long rows, long cols, int heads, Arena arena) {
    if (rows % (2L * heads) != 0) {
      throw new IllegalArgumentException(rows + " rows do not split into " + heads + " heads");
    }
    return moveRows(src, rows, cols, heads, false, arena);
  }

  /**
   * The inverse of {@link #permuteRows}: llama.cpp's interleaved rotary rows back in Hugging Face's
   * half-split order (what loading a GGUF needs).
   */
  public static MemorySegment unpermuteRows(
      MemorySegment src, long rows, long cols, int heads, Arena arena) {
    if (rows % (2L * heads) != 0) {
      throw new IllegalArgumentException(rows + " rows do not split into " + heads + " heads");
    }
    return moveRows(src, rows, cols, heads, true, arena);
  }

  private static MemorySegment moveRows(
      MemorySegment src, long rows, long cols, int heads, boolean inverse, Arena arena) {
    MemorySegment dst = arena.allocate(src.byteSize(), 64);
    long headRows = rows / heads;
    long half = headRows / 2;
    long rowBytes = cols * 4;
    for (long h = 0; h < heads; h++) {
      for (long i = 0; i < half; i++) {
        for (long j = 0; j < 2; j++) {
          long interleaved = h * headRows + 2 * i + j;
          long split = h * headRows + j * half + i;
          long to = inverse ? split : interleaved;
          long from = inverse ? interleaved : split;
          MemorySegment.copy(src, from * rowBytes, dst, to * rowBytes, rowBytes);
        }
      }
    }
    return dst;
  }

  /** The (cols, rows) transpose of a row-major (rows, cols) F32 matrix, into {@code arena}. */
  public static MemorySegment transpose(MemorySegment src, long rows, long cols, Arena arena) {
    MemorySegment dst = arena.allocate(src.byteSize(), 64);
    for (long i = 0; i < rows; i++) {
      for (long j = 0; j < cols; j++) {
        float v = src.getAtIndex(ValueLayout.JAVA_FLOAT, i * cols + j);
        dst.setAtIndex(ValueLayout.JAVA_FLOAT, j * rows + i, v);
      }
    }
    return dst;
  }
}
