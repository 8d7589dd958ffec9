package dev.entity.engine.backend;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;

/**
 * The ops the models need, each a forward/backward pair, on one device. Model code speaks only to
 * this interface. Argument order everywhere: outputs, saved state, inputs, weights, then dimensions
 * and scalars (llm.c's convention). Backward ops accumulate ({@code +=}) into parameter gradients;
 * into input gradients ({@code dx}) they also accumulate, so residual branches simply add up —
 * zeroing is always an explicit {@link #zero}.
 *
 * <p>Dimension legend: B batch, T time (sequence), C channels (hidden size), OC output channels, NH
 * query heads, NKV key/value heads, HS head size, V vocabulary, N rows (= B*T, or a chunk of them).
 *
 * <p>Activations, gradients and trainable parameters are F32. A matrix operand that is a frozen
 * weight may be BF16 or F16 (converted on the fly, accumulated in F32). Reductions have a fixed
 * order: the same inputs, machine and thread count give the same bits.
 */
public interface Backend extends AutoCloseable {

  /** Short name, as chosen with {@code --device}: "cpu", "cuda". */
  String name();

  Device device();

  // ---- memory ---------------------------------------------------------------------------------

  /** A new zero-filled tensor owned by this backend; freed by {@link #close()} or {@link #free}. */
  Tensor allocate(DType dtype, long... shape);

  /** Releases a tensor made by {@link #allocate} before the backend closes. */
  void free(Tensor t);

  /**
   * A copy of a host tensor on this device (the same tensor's bytes when the device is the host).
   */
  Tensor upload(Tensor host);

  /** Copies {@code src} into the host tensor {@code dst} (same dtype and element count). */
  void download(Tensor dst, Tensor src);

  void zero(Tensor t);

  /**
   * {@code dst = src}, converting between F32, BF16 and F16 (round to nearest even); for equal
   * dtypes (U8 and I32 included) a plain copy.
   */
  void convert(Tensor dst, Tensor src);

  // ---- elementwise ----------------------------------------------------------------------------

  /** {@code out = a + b} (same shape; {@code out} may alias {@code a}). */
  void add(Tensor out, Tensor a, Tensor b);

  /** {@code x *= s}. */
  void scale(Tensor x, float s);

  /** {@code out += alpha * x}. */
  void axpy(Tensor out, Tensor x, float alpha);

  // ---- matrix products ------------------------------------------------------------------------

  /**
   * {@code out = alpha * op(a) @ op(b) (+ out when accumulate)}, with {@code op(a)} of shape (M, K)
   * and {@code op(b)} of shape (K, N); {@code transA} means {@code a} is stored (K, M), {@code
   * transB} that {@code b} is stored (N, K) — the Hugging Face layout of a linear weight (OC, C).
   * Leading dimensions of {@code a} and {@code out} beyond two are flattened into rows.
   */
  void matmul(
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transA,
      boolean transB,
      float alpha,
      boolean accumulate);

  /**
   * A frozen product and a LoRA adapter's low-rank term in one call: out = a op(b) (+ out when
   * accumulating) + the term, where the term is scale h op(w) for h (M, R), and with {@code
   * dropout} > 0 that term masked and scaled as {@link #dropout} with {@code seed} masks an (M, N)
   * tensor. The forward of an adapter is {@code y = x W^T + scale (x A^T) B^T}; the backward
   * through its dropped input is {@code dx += dy W + dropout'(dh A)}. {@code work} (M, N) F32 is
   * scratch for a backend that does not fuse them; a backend that does adds the term as it stores
   * each tile of the product, and never writes the term out.
   */
  default void matmulPlusLowRank(
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transB,
      boolean accumulate,
      Tensor h,
      Tensor w,
      boolean transW,
      float scale,
      float dropout,
      long seed,
      Tensor work) {
    matmul(out, a, b, false, transB, 1f, accumulate);
    if (dropout == 0f) {
      matmul(out, h, w, false, transW, scale, true);
    } else {
      matmul(work, h, w, false, transW, scale, false);
      dropout(work, work, dropout, seed);
      add(out, out, work);
    }
  }

  /** {@code out[n, :] += bias} for every row n. out (N, OC), bias (OC). */
  void addBias(Tensor out, Tensor bias);

  /** {@code dbias += sum over rows of dout}. dbias (OC), dout (N, OC). */
  void biasBackward(Tensor dbias, Tensor dout);

  // ---- embedding ------------------------------------------------------------------------------

  /** out (N, C) = table[ids[n]]; ids (N) I32; table (V, C). */
  void embeddingForward(Tensor out, Tensor ids, Tensor table);

  /** dtable[ids[n]] += dout[n] (deterministic: rows that share an id add up in order of n). */
  void embeddingBackward(Tensor dtable, Tensor dout, Tensor ids);

  // ---- normalization --------------------------------------------------------------------------

  /** out (N, C) = x / rms(x) * weight; saves rstd (N). */
  void rmsNormForward(Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps);

  /** Accumulates dx (N, C) and dweight (C; may be null when frozen). */
  void rmsNormBackward(
      Tensor dx, Tensor dweight, Tensor dout, Tensor x, Tensor weight, Tensor rstd);

  /** out (N, C) = (x - mean) * rstd * weight + bias; saves mean (N) and rstd (N). */
  void layerNormForward(
      Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps);

  /** Accumulates dx, dweight and dbias (the last two may be null when frozen). */
  void layerNormBackward(
      Tensor dx,
      Tensor dweight,
      Tensor dbias,
      Tensor dout,
      Tensor x,
      Tensor weight,
      Tensor mean,
      Tensor rstd);

  // ---- positions ------------------------------------------------------------------------------

  /**
   * Rotary embedding in place, Hugging Face's rotate-half form: for each head the first and second
   * halves of HS are the pair. x (N, H, HS); positions (N) I32; invFreq (HS/2) F32 (already scaled,
   * e.g. by llama3 rope scaling). {@code inverse} rotates by the negative angle, which is the
   * backward of the forward rotation.
   */
  void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse);

  // ---- attention ------------------------------------------------------------------------------

  /**
   * Causal scaled-dot-product attention with grouped-query heads, computed in blocks without the
   * (T, T) score matrix. q (B, T, NH, HS); k, v (B, T, NKV, HS); out (B, T, NH, HS); saves the
   * log-sum-exp of each query row, lse (B, NH, T). segments (B, T) I32, may be null: a query
   * attends to a key only when both have the same segment id (packed samples do not see each other;
   * padding gets its own id).
   */
  void attentionForward(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale);

  /** Accumulates dq, dk, dv, recomputing probabilities from q, k and the saved lse. */
  void attentionBackward(
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
      float scale);

  /**
   * Inference attention of N new query rows against a key/value cache (no saved state, no
   * backward): query row i sits at position {@code start + i} and attends to cached rows {@code 0
   * .. start + i}. q, out (N, NH, HS); keys, values (S, NKV, HS) with S >= start + N, rows up to
   * {@code start + N} filled (the new rows' keys and values included).
   */
  void attentionDecode(Tensor out, Tensor q, Tensor keys, Tensor values, long start, float scale);

  // ---- activations ----------------------------------------------------------------------------

  /** out = silu(gate) * up. All (N, OC). */
  void swigluForward(Tensor out, Tensor gate, Tensor up);

  /** Accumulates dgate and dup. */
  void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up);

  /** out = gelu(x), tanh approximation (GPT-2's "gelu_new"). */
  void geluForward(Tensor out, Tensor x);

  /** Accumulates dx. */
  void geluBackward(Tensor dx, Tensor dout, Tensor x);

  /**
   * Inverted dropout with a counter-based generator: element i is kept iff hash(seed, i) >= p, so
   * backward regenerates the same mask from the seed with no mask stored. out = x * keep / (1 - p).
   * Used on LoRA inputs; backward is the same call on the gradient.
   */
  void dropout(Tensor out, Tensor x, float p, long seed);

  // ---- loss -----------------------------------------------------------------------------------

  /**
   * Cross-entropy over one chunk of rows, in place: on entry {@code logits} (N, V) holds logits; on
   * return it holds {@code dloss/dlogits * gradScale} (softmax minus one-hot, times gradScale) and
   * {@code losses[n]} holds the row's loss. Rows whose target is {@code ignoreIndex} get zero loss
   * and zero gradient. targets (N) I32. The caller chunks the rows so the full (B*T, V) logits
   * never exist at once.
   */
  void crossEntropyForwardBackward(
      Tensor losses, Tensor logits, Tensor targets, int ignoreIndex, float gradScale);

  /**
   * Sum of all elements, in a fixed order, read back to the host (a scalar per step is allowed).
   */
  double sum(Tensor x);

  // ---- quantization ---------------------------------------------------------------------------

  /**
   * NF4 dequantization in the bitsandbytes layout (see {@code dev.entity.engine.quant.Nf4}): {@code
   * out[i] = nf4[code i] * absmax[i / 64]}, computed in F32 and rounded to out's dtype (F32, BF16
   * or F16). out (N); packed (ceil(N/2)) U8, two codes per byte, the first value in the high
   * nibble; absmax (ceil(N/64)) F32.
   */
  void nf4Dequantize(Tensor out, Tensor packed, Tensor absmax);

  /**
   * Double-quantized NF4 absmax values: {@code out[i] = dynamic8[codes[i]] * scales[i / 256] +
   * offset[0]} with bitsandbytes' signed dynamic 8-bit map ({@code
   * dev.entity.engine.quant.DynamicMap}). out (M) F32; codes (M) U8; scales (ceil(M/256)) F32;
   * offset (1) F32, a device scalar, so reloading a weight needs no host-side state.
   */
  void nf4AbsmaxDequantize(Tensor out, Tensor codes, Tensor scales, Tensor offset);

  // ---- optimizer ------------------------------------------------------------------------------

  /** Sum of squares of all elements (for the global grad norm), in a fixed order. */
  double sumOfSquares(Tensor x);

  /**
   * One AdamW update with decoupled weight decay and bias correction, {@code step} counted from 1:
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m̂ / (sqrt(v̂) + eps) + wd p). The
   * gradient is multiplied by {@code gradScale} first (clipping and accumulation averaging).
   */
  void adamw(
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
      long step);

  // ---- accounting -----------------------------------------------------------------------------

  /**
   * Device memory this backend holds now (live tensors plus its allocator's cache), in bytes; -1
   * for a backend whose tensors live in host memory (the process's RSS counts those).
   */
  default long deviceBytesInUse() {
    return -1;
  }

  /** The largest {@link #deviceBytesInUse()} since the backend opened; -1 on the host. */
  default long peakDeviceBytes() {
    return -1;
  }

  @Override
  void close();
}
