// Launch geometry constants mirror the #defines of the kernel files (CudaKernelCompileTest checks
// that they agree); every op returns early on an empty tensor, since a grid cannot be empty.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.quant.DynamicMap;
import dev.entity.engine.quant.Nf4;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Every {@link dev.entity.engine.backend.Backend} op that runs as one of our own kernels (all but
 * memory management and matrix products, which the runtime does with the driver and cuBLASLt). Each
 * method has the Backend method's signature and contract, checks its operands as the CPU backend
 * does, and enqueues kernels from {@link CudaKernelSources} on the launcher's stream; CudaBackend
 * delegates to it.
 *
 * <p>Determinism: no kernel uses atomics, and every reduction (norm rows, per-column gradient sums,
 * embedding backward, attention backward, cross-entropy, sum) has an order fixed by the shapes
 * alone, so every op is bit-reproducible for the same inputs on the same GPU model. Results differ
 * from the CPU backend only by summation order and {@code expf}/{@code tanhf} rounding (F32 ~1e-6
 * relative), except where the CPU's arithmetic is reproduced operation for operation (the _rn
 * intrinsics keep the compiler from fusing into FMAs): casts, dropout masks, AdamW, NF4
 * dequantization and embedding give the CPU's bits; RoPE does too up to the last bit of CUDA's
 * double-precision cos/sin. Two differences a user can see: a token id outside the vocabulary gives
 * a zero embedding row (the CPU throws), and a label outside the vocabulary that is not the ignore
 * index gives a NaN loss (the CPU throws) — checking either on the host would need a sync per step.
 */
public final class CudaKernelOps {

  /** Threads of a per-row block ({@code ROW_THREADS} in reductions.cu). */
  static final int ROW_THREADS = 256;

  /** Rows per partial in per-column sums ({@code COL_CHUNK} in reductions.cu). */
  static final int COL_CHUNK = 64;

  /** Elements per partial of {@link #sum} ({@code SUM_CHUNK} in reductions.cu). */
  static final int SUM_CHUNK = 8192;

  /** The largest attention head size the kernels hold ({@code HS_MAX} in attention.cu). */
  static final int HS_MAX = 128;

  /** Keys per attention tile ({@code BK}), query rows per forward and dq block. */
  static final int BK = 32;

  static final int FWD_ROWS = 16;
  static final int DQ_ROWS = 8;
  static final int KV_WARPS = 8;
  static final int DEC_WARPS = 4;

  /** Vocabulary slices of the embedding backward (more blocks, the same order of additions). */
  static final int EMBEDDING_SLICES = 64;

  private static final int BLOCK = 256;

  private final KernelLauncher launcher;

  public CudaKernelOps(KernelLauncher launcher) {
    this.launcher = launcher;
  }

  // ---- memory ---------------------------------------------------------------------------------

  public void zero(Tensor t) {
    device(t);
    long n = t.byteSize();
    if (n > 0) {
      launcher.launch("zero_bytes", byteShape(n, t), new KernelArgs().ptr(t).i64(n));
    }
  }

  public void convert(Tensor dst, Tensor src) {
    OperandChecks.requireSameCount(dst, src);
    device(dst, src);
    if (dst.elementCount() == 0) {
      return;
    }
    if (dst.dtype() == src.dtype()) {
      long n = src.byteSize();
      launcher.launch(
          "copy_bytes", byteShape(n, dst, src), new KernelArgs().ptr(dst).ptr(src).i64(n));
      return;
    }
    OperandChecks.requireFloat(dst);
    OperandChecks.requireFloat(src);
    launcher.launch(
        "convert_float",
        elements(src.elementCount()),
        new KernelArgs().ptr(dst).i32(code(dst)).ptr(src).i32(code(src)).i64(src.elementCount()));
  }

  // ---- elementwise ----------------------------------------------------------------------------

  public void add(Tensor out, Tensor a, Tensor b) {
    requireF32(out, a, b);
    OperandChecks.requireSameCount(out, a);
    OperandChecks.requireSameCount(out, b);
    elementwise("add_f32", out.elementCount(), new KernelArgs().ptr(out).ptr(a).ptr(b));
  }

  public void scale(Tensor x, float s) {
    requireF32(x);
    elementwise("scale_f32", x.elementCount(), new KernelArgs().ptr(x).f32(s));
  }

  public void axpy(Tensor out, Tensor x, float alpha) {
    requireF32(out, x);
    OperandChecks.requireSameCount(out, x);
    elementwise("axpy_f32", out.elementCount(), new KernelArgs().ptr(out).ptr(x).f32(alpha));
  }

  public void addBias(Tensor out, Tensor bias) {
    requireF32(out);
    OperandChecks.requireFloat(bias);
    long oc = bias.elementCount();
    if (oc == 0 || out.elementCount() % oc != 0) {
      throw new IllegalArgumentException("out " + out + " is not rows of bias " + bias);
    }
    device(bias);
    long rows = out.elementCount() / oc;
    if (rows > 0) {
      launcher.launch(
          "add_bias",
          elements(out.elementCount()),
          new KernelArgs().ptr(out).ptr(bias).i32(code(bias)).i64(rows).i64(oc));
    }
  }

  public void biasBackward(Tensor dbias, Tensor dout) {
    requireF32(dbias, dout);
    long oc = dbias.elementCount();
    if (oc == 0 || dout.elementCount() % oc != 0) {
      throw new IllegalArgumentException("dout " + dout + " is not rows of dbias " + dbias);
    }
    long n = dout.elementCount() / oc;
    if (n == 0) {
      return;
    }
    long chunks = chunks(n);
    long partials = launcher.scratch(chunks * oc * 4);
    launcher.launch(
        "bias_backward_partials",
        columnGrid(oc, chunks),
        new KernelArgs().ptr(partials).ptr(dout).i64(n).i64(oc));
    columnReduce(dbias, partials, chunks, oc);
  }

  // ---- embedding ------------------------------------------------------------------------------

  public void embeddingForward(Tensor out, Tensor ids, Tensor table) {
    long c = checkEmbedding(out, ids, table);
    if (out.elementCount() == 0) {
      return;
    }
    launcher.launch(
        "embedding_forward",
        elements(out.elementCount()),
        new KernelArgs()
            .ptr(out)
            .ptr(ids)
            .ptr(table)
            .i32(code(table))
            .i64(ids.elementCount())
            .i64(c)
            .i64(table.dim(0)));
  }

  public void embeddingBackward(Tensor dtable, Tensor dout, Tensor ids) {
    requireF32(dtable);
    long c = checkEmbedding(dout, ids, dtable);
    long v = dtable.dim(0);
    if (ids.elementCount() == 0 || c == 0) {
      return;
    }
    int slices = (int) Math.min(v, EMBEDDING_SLICES);
    launcher.launch(
        "embedding_backward",
        LaunchShape.of(blocks(c, BLOCK), slices, BLOCK, 0),
        new KernelArgs().ptr(dtable).ptr(dout).ptr(ids).i64(ids.elementCount()).i64(c).i64(v));
  }

  private static long checkEmbedding(Tensor rows, Tensor ids, Tensor table) {
    requireF32(rows);
    OperandChecks.requireI32(ids);
    OperandChecks.requireFloat(table);
    if (table.rank() < 2 || table.dim(0) == 0) {
      throw new IllegalArgumentException("embedding table must be (V, C), got " + table);
    }
    long c = table.elementCount() / table.dim(0);
    OperandChecks.requireCount(rows, ids.elementCount() * c, "embedding rows (N, C)");
    device(rows, ids, table);
    return c;
  }

  // ---- normalization --------------------------------------------------------------------------

  public void rmsNormForward(Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps) {
    long[] nc = normDims(x, weight, rstd);
    requireF32(out);
    OperandChecks.requireSameCount(x, out);
    if (nc[0] == 0) {
      return;
    }
    long w = f32Weights(nc[1], weight, null)[0];
    launcher.launch(
        "rmsnorm_forward",
        rowGrid(nc[0]),
        new KernelArgs().ptr(out).ptr(rstd).ptr(x).ptr(w).i64(nc[1]).f32(eps));
  }

  public void rmsNormBackward(
      Tensor dx, Tensor dweight, Tensor dout, Tensor x, Tensor weight, Tensor rstd) {
    long[] nc = normDims(x, weight, rstd);
    requireF32(dx, dout, dweight);
    OperandChecks.requireSameCount(x, dx);
    OperandChecks.requireSameCount(x, dout);
    if (dweight != null) {
      OperandChecks.requireCount(dweight, nc[1], "dweight (C)");
      device(dweight);
    }
    long n = nc[0], c = nc[1];
    if (n == 0) {
      return;
    }
    long chunks = chunks(n);
    long[] buffers = f32Weights(c, weight, null, dweight == null ? 0 : chunks * c);
    launcher.launch(
        "rmsnorm_backward_dx",
        rowGrid(n),
        new KernelArgs().ptr(dx).ptr(dout).ptr(x).ptr(buffers[0]).ptr(rstd).i64(c));
    if (dweight != null) {
      launcher.launch(
          "rmsnorm_backward_dweight_partials",
          columnGrid(c, chunks),
          new KernelArgs().ptr(buffers[2]).ptr(dout).ptr(x).ptr(rstd).i64(n).i64(c));
      columnReduce(dweight, buffers[2], chunks, c);
    }
  }

  public void layerNormForward(
      Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps) {
    long[] nc = normDims(x, weight, mean, rstd);
    requireF32(out);
    OperandChecks.requireSameCount(x, out);
    if (bias != null) {
      OperandChecks.requireFloat(bias);
      OperandChecks.requireCount(bias, nc[1], "bias (C)");
      device(bias);
    }
    if (nc[0] == 0) {
      return;
    }
    long[] wb = f32Weights(nc[1], weight, bias);
    launcher.launch(
        "layernorm_forward",
        rowGrid(nc[0]),
        new KernelArgs()
            .ptr(out)
            .ptr(mean)
            .ptr(rstd)
            .ptr(x)
            .ptr(wb[0])
            .ptr(wb[1])
            .i64(nc[1])
            .f32(eps));
  }

  public void layerNormBackward(
      Tensor dx,
      Tensor dweight,
      Tensor dbias,
      Tensor dout,
      Tensor x,
      Tensor weight,
      Tensor mean,
      Tensor rstd) {
    long[] nc = normDims(x, weight, mean, rstd);
    requireF32(dx, dout, dweight, dbias);
    OperandChecks.requireSameCount(x, dx);
    OperandChecks.requireSameCount(x, dout);
    if (dweight != null) {
      OperandChecks.requireCount(dweight, nc[1], "dweight (C)");
      device(dweight);
    }
    if (dbias != null) {
      OperandChecks.requireCount(dbias, nc[1], "dbias (C)");
      device(dbias);
    }
    long n = nc[0], c = nc[1];
    if (n == 0) {
      return;
    }
    boolean params = dweight != null || dbias != null;
    long chunks = chunks(n);
    long[] buffers = f32Weights(c, weight, null, params ? 2 * chunks * c : 0);
    launcher.launch(
        "layernorm_backward_dx",
        rowGrid(n),
        new KernelArgs().ptr(dx).ptr(dout).ptr(x).ptr(buffers[0]).ptr(mean).ptr(rstd).i64(c));
    if (params) {
      launcher.launch(
          "layernorm_backward_params_partials",
          columnGrid(c, chunks),
          new KernelArgs().ptr(buffers[2]).ptr(dout).ptr(x).ptr(mean).ptr(rstd).i64(n).i64(c));
      columnReduce(dweight, buffers[2], chunks, c);
      columnReduce(dbias, buffers[2] + chunks * c * 4, chunks, c);
    }
  }

  /** N and C of a norm call: x (N, C), weight (C), per-row statistics (N). */
  private static long[] normDims(Tensor x, Tensor weight, Tensor... rowStats) {
    requireF32(x);
    OperandChecks.requireFloat(weight);
    long c = weight.elementCount();
    if (c == 0 || x.elementCount() % c != 0) {
      throw new IllegalArgumentException("x " + x + " is not a stack of rows of " + c);
    }
    long n = x.elementCount() / c;
    for (Tensor s : rowStats) {
      requireF32(s);
      OperandChecks.requireCount(s, n, "per-row statistic (N)");
      device(s);
    }
    device(x, weight);
    return new long[] {n, c};
  }

  /**
   * Device addresses {weight, bias, extra} as F32: a tensor that is F32 already is used as is, a
   * BF16/F16 one is converted into the scratch buffer; {@code extra} more floats of scratch follow
   * (0 when none is asked for). Null stays a null pointer.
   */
  private long[] f32Weights(long c, Tensor weight, Tensor bias, long... extraFloats) {
    long extra = extraFloats.length == 0 ? 0 : extraFloats[0];
    long slot = align(c * 4);
    boolean convertW = weight.dtype() != DType.F32;
    boolean convertB = bias != null && bias.dtype() != DType.F32;
    long bytes = (convertW ? slot : 0) + (convertB ? slot : 0) + extra * 4;
    long base = bytes == 0 ? 0 : launcher.scratch(bytes);
    long next = base;
    long w = weight.data().address();
    if (convertW) {
      w = toF32(next, weight);
      next += slot;
    }
    long b = bias == null ? 0 : bias.data().address();
    if (convertB) {
      b = toF32(next, bias);
      next += slot;
    }
    return new long[] {w, b, extra == 0 ? 0 : next};
  }

  private long toF32(long dst, Tensor src) {
    launcher.launch(
        "convert_float",
        elements(src.elementCount()),
        new KernelArgs()
            .ptr(dst)
            .i32(code(DType.F32))
            .ptr(src)
            .i32(code(src))
            .i64(src.elementCount()));
    return dst;
  }

  private void columnReduce(Tensor dst, long partials, long chunks, long c) {
    if (dst != null) {
      launcher.launch(
          "column_reduce",
          LaunchShape.covering(c, BLOCK),
          new KernelArgs().ptr(dst).ptr(partials).i64(chunks).i64(c));
    }
  }

  // ---- positions ------------------------------------------------------------------------------

  public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    requireF32(x, invFreq);
    OperandChecks.requireI32(positions);
    long n = positions.elementCount();
    long half = invFreq.elementCount();
    long hs = 2 * half;
    if (n == 0 || hs == 0 || x.elementCount() % (n * hs) != 0) {
      throw new IllegalArgumentException(
          "x " + x + " is not (N=" + n + ", H, HS=" + hs + ") for rope");
    }
    device(x, positions, invFreq);
    long heads = x.elementCount() / (n * hs);
    if (heads == 0) {
      return;
    }
    launcher.launch(
        "rope_f32",
        elements(n * heads * half),
        new KernelArgs()
            .ptr(x)
            .ptr(positions)
            .ptr(invFreq)
            .i64(n)
            .i64(heads)
            .i64(half)
            .i32(inverse ? 1 : 0));
  }

  // ---- attention ------------------------------------------------------------------------------

  /** The shape of one attention call, checked against every operand. */
  private record AttentionDims(int b, int t, int nh, int nkv, int hs) {

    static AttentionDims of(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments) {
      OperandChecks.AttentionShape s = OperandChecks.attention(out, lse, q, k, v, segments);
      requireHeadSize(s.hs());
      if (s.b() > 65535 || s.nh() > 65535 || s.t() > Integer.MAX_VALUE / 2) {
        throw new IllegalArgumentException("attention shape too large for one launch: q=" + q);
      }
      device(out, lse, q, k, v, segments);
      return new AttentionDims((int) s.b(), (int) s.t(), (int) s.nh(), (int) s.nkv(), (int) s.hs());
    }

    boolean empty() {
      return b == 0 || t == 0 || nh == 0 || hs == 0;
    }
  }

  public void attentionForward(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    AttentionDims d = AttentionDims.of(out, lse, q, k, v, segments);
    if (d.empty()) {
      return;
    }
    launcher.launch(
        "attention_forward",
        new LaunchShape(blocks(d.t(), FWD_ROWS), d.nh(), d.b(), 128, 1, 1, 0),
        new KernelArgs()
            .ptr(out)
            .ptr(lse)
            .ptr(q)
            .ptr(k)
            .ptr(v)
            .ptr(segments)
            .i32(d.t())
            .i32(d.nh())
            .i32(d.nkv())
            .i32(d.hs())
            .f32(scale));
  }

  public void attentionBackward(
      Tensor dq,
      Tensor dk,
      Tensor dv,
      Tensor dout,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor out,
      Tensor lse,
      Tensor segments,
      float scale) {
    AttentionDims d = AttentionDims.of(out, lse, q, k, v, segments);
    requireF32(dq, dk, dv, dout);
    OperandChecks.requireSameCount(q, dq);
    OperandChecks.requireSameCount(k, dk);
    OperandChecks.requireSameCount(v, dv);
    OperandChecks.requireSameCount(out, dout);
    device(dq, dk, dv, dout);
    if (d.empty()) {
      return;
    }
    long rows = (long) d.b() * d.t() * d.nh();
    long delta = launcher.scratch(rows * 4);
    launcher.launch(
        "attention_backward_delta",
        LaunchShape.of(blocks(rows, 4), 1, 128, 0),
        new KernelArgs()
            .ptr(delta)
            .ptr(dout)
            .ptr(out)
            .i32(d.b())
            .i32(d.t())
            .i32(d.nh())
            .i32(d.hs()));
    launcher.launch(
        "attention_backward_dq",
        new LaunchShape(blocks(d.t(), DQ_ROWS), d.nh(), d.b(), 128, 1, 1, 0),
        attentionArgs(new KernelArgs().ptr(dq), dout, q, k, v, lse, delta, segments, d, scale));
    launcher.launch(
        "attention_backward_dkv",
        new LaunchShape(blocks(d.t(), BK), d.nkv(), d.b(), KV_WARPS * 32, 1, 1, 0),
        attentionArgs(
            new KernelArgs().ptr(dk).ptr(dv), dout, q, k, v, lse, delta, segments, d, scale));
  }

  private static KernelArgs attentionArgs(
      KernelArgs outputs,
      Tensor dout,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor lse,
      long delta,
      Tensor segments,
      AttentionDims d,
      float scale) {
    return outputs
        .ptr(dout)
        .ptr(q)
        .ptr(k)
        .ptr(v)
        .ptr(lse)
        .ptr(delta)
        .ptr(segments)
        .i32(d.t())
        .i32(d.nh())
        .i32(d.nkv())
        .i32(d.hs())
        .f32(scale);
  }

  public void attentionDecode(
      Tensor out, Tensor q, Tensor keys, Tensor values, long start, float scale) {
    OperandChecks.DecodeShape shape = OperandChecks.decode(out, q, keys, values, start);
    long n = shape.n(), nh = shape.nh(), hs = shape.hs(), s = shape.cacheRows();
    long nkv = shape.nkv();
    requireHeadSize(hs);
    device(out, q, keys, values);
    if (n == 0 || nh == 0 || hs == 0) {
      return;
    }
    launcher.launch(
        "attention_decode",
        LaunchShape.of(blocks(n * nh, DEC_WARPS), 1, DEC_WARPS * 32, 0),
        new KernelArgs()
            .ptr(out)
            .ptr(q)
            .ptr(keys)
            .ptr(values)
            .i32(Math.toIntExact(n))
            .i32((int) nh)
            .i32((int) nkv)
            .i32((int) hs)
            .i64(start)
            .f32(scale));
  }

  // ---- activations ----------------------------------------------------------------------------

  public void swigluForward(Tensor out, Tensor gate, Tensor up) {
    requireF32(out, gate, up);
    OperandChecks.requireSameCount(out, gate);
    OperandChecks.requireSameCount(out, up);
    elementwise("swiglu_forward", out.elementCount(), new KernelArgs().ptr(out).ptr(gate).ptr(up));
  }

  public void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up) {
    requireF32(dgate, dup, dout, gate, up);
    for (Tensor t : new Tensor[] {dgate, dup, dout, up}) {
      OperandChecks.requireSameCount(gate, t);
    }
    elementwise(
        "swiglu_backward",
        gate.elementCount(),
        new KernelArgs().ptr(dgate).ptr(dup).ptr(dout).ptr(gate).ptr(up));
  }

  public void geluForward(Tensor out, Tensor x) {
    requireF32(out, x);
    OperandChecks.requireSameCount(out, x);
    elementwise("gelu_forward", x.elementCount(), new KernelArgs().ptr(out).ptr(x));
  }

  public void geluBackward(Tensor dx, Tensor dout, Tensor x) {
    requireF32(dx, dout, x);
    OperandChecks.requireSameCount(dx, x);
    OperandChecks.requireSameCount(dout, x);
    elementwise("gelu_backward", x.elementCount(), new KernelArgs().ptr(dx).ptr(dout).ptr(x));
  }

  public void dropout(Tensor out, Tensor x, float p, long seed) {
    requireF32(out, x);
    OperandChecks.requireSameCount(out, x);
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    float keepScale = 1f / (1f - p);
    elementwise(
        "dropout_f32",
        x.elementCount(),
        new KernelArgs().ptr(out).ptr(x).f32(p).f32(keepScale).i64(seed));
  }

  // ---- loss -----------------------------------------------------------------------------------

  public void crossEntropyForwardBackward(
      Tensor losses, Tensor logits, Tensor targets, int ignoreIndex, float gradScale) {
    requireF32(losses, logits);
    OperandChecks.requireI32(targets);
    long n = targets.elementCount();
    OperandChecks.requireCount(losses, n, "losses (N)");
    device(losses, logits, targets);
    if (n == 0) {
      return;
    }
    long v = logits.dim(-1);
    OperandChecks.requireCount(logits, n * v, "logits (N, V)");
    launcher.launch(
        "cross_entropy_forward_backward",
        rowGrid(n),
        new KernelArgs()
            .ptr(losses)
            .ptr(logits)
            .ptr(targets)
            .i64(v)
            .i32(ignoreIndex)
            .f32(gradScale));
  }

  public double sum(Tensor x) {
    return reduce(x, false);
  }

  public double sumOfSquares(Tensor x) {
    return reduce(x, true);
  }

  /**
   * Two fixed-order passes: SUM_CHUNK-element pieces summed in double into scratch, then one block
   * adds the pieces; the double result is copied back (the one sync of the op).
   */
  private double reduce(Tensor x, boolean squares) {
    requireF32(x);
    device(x);
    long n = x.elementCount();
    if (n == 0) {
      return 0;
    }
    long pieces = (n + SUM_CHUNK - 1) / SUM_CHUNK;
    long scratch = launcher.scratch(align(pieces * 8) + 8);
    long result = scratch + align(pieces * 8);
    launcher.launch(
        "sum_partials",
        LaunchShape.of(Math.toIntExact(pieces), 1, ROW_THREADS, 0),
        new KernelArgs().ptr(scratch).ptr(x).i64(n).i32(squares ? 1 : 0));
    launcher.launch(
        "sum_final",
        LaunchShape.of(1, 1, ROW_THREADS, 0),
        new KernelArgs().ptr(result).ptr(scratch).i64(pieces));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment host = arena.allocate(ValueLayout.JAVA_DOUBLE);
      launcher.copyToHost(host, result, 8);
      return host.get(ValueLayout.JAVA_DOUBLE, 0);
    }
  }

  // ---- quantization ---------------------------------------------------------------------------

  public void nf4Dequantize(Tensor out, Tensor packed, Tensor absmax) {
    long n = out.elementCount();
    OperandChecks.requireFloat(out);
    requireF32(absmax);
    requireU8(packed, "NF4 codes");
    OperandChecks.requireCount(packed, Nf4.packedBytes(n), "packed NF4 codes");
    OperandChecks.requireCount(absmax, Nf4.blocks(n), "NF4 absmax");
    device(out, packed, absmax);
    elementwise(
        "nf4_dequantize", n, new KernelArgs().ptr(out).i32(code(out)).ptr(packed).ptr(absmax));
  }

  public void nf4AbsmaxDequantize(Tensor out, Tensor codes, Tensor scales, Tensor offset) {
    long m = out.elementCount();
    requireF32(out, scales, offset);
    OperandChecks.requireCount(offset, 1, "absmax offset");
    requireU8(codes, "absmax codes");
    OperandChecks.requireCount(codes, m, "absmax codes");
    OperandChecks.requireCount(scales, DynamicMap.blocks(m), "absmax scales");
    device(out, codes, scales, offset);
    elementwise(
        "nf4_absmax_dequantize", m, new KernelArgs().ptr(out).ptr(codes).ptr(scales).ptr(offset));
  }

  // ---- optimizer ------------------------------------------------------------------------------

  /** Per-step scalars are computed on the host exactly as CpuAdamW does, so the bits agree. */
  public void adamw(
      Tensor param,
      Tensor grad,
      Tensor m,
      Tensor v,
      float lr,
      float beta1,
      float beta2,
      float eps,
      float weightDecay,
      float gradScale,
      long step) {
    requireF32(param, grad, m, v);
    OperandChecks.requireSameCount(param, grad);
    OperandChecks.requireSameCount(param, m);
    OperandChecks.requireSameCount(param, v);
    if (step < 1) {
      throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
    }
    double bc1 = 1.0 - Math.pow(beta1, step);
    double bc2 = 1.0 - Math.pow(beta2, step);
    elementwise(
        "adamw_f32",
        param.elementCount(),
        new KernelArgs()
            .ptr(param)
            .ptr(grad)
            .ptr(m)
            .ptr(v)
            .f32(beta1)
            .f32(beta2)
            .f32(eps)
            .f32(gradScale)
            .f32(1f - lr * weightDecay)
            .f32((float) (lr / bc1))
            .f32((float) (1.0 / Math.sqrt(bc2))));
  }

  KernelLauncher launcher() {
    return launcher;
  }

  // ---- launch geometry ------------------------------------------------------------------------

  /** A one-thread-per-element kernel whose last argument is the element count n. */
  private void elementwise(String kernel, long n, KernelArgs args) {
    if (n > 0) {
      launcher.launch(kernel, elements(n), args.i64(n));
    }
  }

  private static LaunchShape elements(long n) {
    return LaunchShape.covering(n, BLOCK);
  }

  /** zero_bytes/copy_bytes: a thread per 4-byte word when every address is 4-aligned. */
  private static LaunchShape byteShape(long bytes, Tensor... ts) {
    boolean aligned = true;
    for (Tensor t : ts) {
      aligned &= (t.data().address() & 3) == 0;
    }
    return LaunchShape.covering(aligned ? Math.max(bytes >> 2, bytes & 3) : bytes, BLOCK);
  }

  private static LaunchShape rowGrid(long rows) {
    return LaunchShape.of(Math.toIntExact(rows), 1, ROW_THREADS, 0);
  }

  private static long chunks(long rows) {
    return (rows + COL_CHUNK - 1) / COL_CHUNK;
  }

  private static LaunchShape columnGrid(long columns, long chunks) {
    if (chunks > 65535) {
      throw new IllegalArgumentException(
          "too many rows for one per-column reduction: " + chunks * COL_CHUNK);
    }
    return LaunchShape.of(blocks(columns, BLOCK), (int) chunks, BLOCK, 0);
  }

  private static int blocks(long n, int per) {
    return Math.toIntExact(Math.max(1, (n + per - 1) / per));
  }

  private static long align(long bytes) {
    return (bytes + 255) & ~255L;
  }

  // ---- argument checks ------------------------------------------------------------------------

  /** The dtype code of the kernels: 0 F32, 1 BF16, 2 F16. */
  static int code(DType dtype) {
    return switch (dtype) {
      case F32 -> 0;
      case BF16 -> 1;
      case F16 -> 2;
      case I32, U8 -> throw new IllegalArgumentException("not a float dtype: " + dtype);
    };
  }

  private static int code(Tensor t) {
    return code(t.dtype());
  }

  /** Refuses host tensors: their addresses mean nothing to the GPU. Nulls pass. */
  private static void device(Tensor... ts) {
    for (Tensor t : ts) {
      if (t != null && !(t.device() instanceof Device.Cuda)) {
        throw new IllegalArgumentException("a CUDA kernel cannot read the host tensor " + t);
      }
    }
  }

  /** F32 tensors on this device. */
  private static void requireF32(Tensor... ts) {
    OperandChecks.requireF32(ts);
    device(ts);
  }

  private static void requireHeadSize(long hs) {
    if (hs > HS_MAX) {
      throw new IllegalArgumentException(
          "head size " + hs + " exceeds the CUDA attention kernels' maximum of " + HS_MAX);
    }
  }

  private static void requireU8(Tensor t, String what) {
    if (t.dtype() != DType.U8) {
      throw new IllegalArgumentException(what + " must be U8: " + t);
    }
  }
}
