// Dimension legend: L layers, S cache capacity (positions), K rows per decoding call, C channels,
// NH query heads, NKV key/value heads, HS head size, F intermediate size, R LoRA rank, V
// vocabulary.
// Convention: keys are stored after RoPE, so a cached row never changes once written; the cache
// holds positions 0 .. length()-1 of ONE sequence, and the next call's tokens continue it.
package dev.entity.engine.generate;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * The key/value cache of one decoding stream, plus the small work buffers a decoding call needs
 * (sized for at most {@link #chunkRows()} new tokens per call), all F32 on the decoder's backend.
 * {@link Decoder#decode} appends to it; {@link #reset} starts a new sequence without reallocating.
 */
public final class KvCache implements AutoCloseable {

  /**
   * Work buffers of one decoding call; callers view the first n rows.
   *
   * @param x (K, C) residual stream
   * @param ln (K, C) normalized input of attention or MLP
   * @param mean (K) LayerNorm mean (unused by RMSNorm)
   * @param rstd (K)
   * @param q (K, NH*HS) queries after RoPE
   * @param att (K, NH*HS) attention output
   * @param y (K, C) a branch's output before it joins the residual
   * @param h1 (K, F) gate or c_fc output
   * @param h2 (K, F) up projection (SwiGLU)
   * @param act (K, F) activation fed to the down projection
   * @param lora (K, R) LoRA's A x, or null without adapters
   * @param logits (1, V) logits of the last row
   * @param hostIds (K) I32 on the host: the call's token ids, uploaded from here
   * @param hostPositions (K) I32 on the host: their positions
   * @param hostLogits (1, V) on the host: the logits, downloaded here
   */
  public record Workspace(
      Tensor x,
      Tensor ln,
      Tensor mean,
      Tensor rstd,
      Tensor q,
      Tensor att,
      Tensor y,
      Tensor h1,
      Tensor h2,
      Tensor act,
      Tensor lora,
      Tensor logits,
      Tensor hostIds,
      Tensor hostPositions,
      Tensor hostLogits) {}

  private final Backend backend;
  private final int capacity;
  private final int chunkRows;
  private final Tensor[] keys; // L x (S, NKV*HS)
  private final Tensor[] values; // L x (S, NKV*HS)
  private final Workspace work;
  private final List<Tensor> owned = new ArrayList<>();
  private final Arena hostArena = Arena.ofShared(); // kernels on worker threads read host inputs
  private int length;

  /**
   * A cache for {@code capacity} positions of {@code decoder}'s model, taking at most {@code
   * chunkRows} new tokens per decoding call (longer prompts are fed in chunks).
   */
  public KvCache(Decoder decoder, int capacity, int chunkRows) {
    ModelConfig c = decoder.config();
    if (capacity <= 0 || chunkRows <= 0) {
      throw new EngineException("a KV cache needs a positive capacity and chunk size");
    }
    this.backend = decoder.backend();
    this.capacity = capacity;
    this.chunkRows = Math.min(chunkRows, capacity);
    long k = this.chunkRows;
    try {
      keys = new Tensor[c.numLayers()];
      values = new Tensor[c.numLayers()];
      for (int l = 0; l < keys.length; l++) {
        keys[l] = alloc(DType.F32, capacity, c.kvDim());
        values[l] = alloc(DType.F32, capacity, c.kvDim());
      }
      long f = c.intermediateSize();
      int rank = decoder.options().lora() == null ? 0 : decoder.options().lora().rank();
      work =
          new Workspace(
              alloc(DType.F32, k, c.hiddenSize()),
              alloc(DType.F32, k, c.hiddenSize()),
              alloc(DType.F32, k),
              alloc(DType.F32, k),
              alloc(DType.F32, k, c.qDim()),
              alloc(DType.F32, k, c.qDim()),
              alloc(DType.F32, k, c.hiddenSize()),
              alloc(DType.F32, k, f),
              alloc(DType.F32, k, f),
              alloc(DType.F32, k, f),
              rank == 0 ? null : alloc(DType.F32, k, rank),
              alloc(DType.F32, 1, c.vocabSize()),
              host(DType.I32, k),
              host(DType.I32, k),
              host(DType.F32, 1, c.vocabSize()));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private Tensor host(DType dtype, long... shape) {
    long count = Tensor.elementCount(shape);
    return new Tensor(dtype, shape, hostArena.allocate(count * dtype.bytes(), 64), Device.CPU);
  }

  private Tensor alloc(DType dtype, long... shape) {
    Tensor t = backend.allocate(dtype, shape);
    owned.add(t);
    return t;
  }

  /** Positions the cache can hold. */
  public int capacity() {
    return capacity;
  }

  /** Most new tokens one decoding call takes. */
  public int chunkRows() {
    return chunkRows;
  }

  /** Positions filled so far (the position of the next token). */
  public int length() {
    return length;
  }

  /** Layer {@code l}'s keys (S, NKV*HS), after RoPE. */
  public Tensor keys(int layer) {
    return keys[layer];
  }

  /** Layer {@code l}'s values (S, NKV*HS). */
  public Tensor values(int layer) {
    return values[layer];
  }

  public Workspace work() {
    return work;
  }

  /** Records {@code n} more positions as filled (called by the decoder after writing them). */
  public void advance(int n) {
    if (n < 0 || length + n > capacity) {
      throw new EngineException(
          "the KV cache holds " + capacity + " positions; cannot add " + n + " to " + length);
    }
    length += n;
  }

  /** Forgets every position (the buffers are kept for the next sequence). */
  public void reset() {
    length = 0;
  }

  /**
   * Drops positions from {@code newLength} on, e.g. to re-run the end of a conversation; rows
   * before it stay valid.
   */
  public void truncate(int newLength) {
    if (newLength < 0 || newLength > length) {
      throw new EngineException("cannot truncate a cache of " + length + " to " + newLength);
    }
    length = newLength;
  }

  /**
   * Copies the filled positions of {@code other} (a cache of the same model) into this one, which
   * must hold at least as many; used to grow a cache without running its sequence again.
   */
  public void copyFrom(KvCache other) {
    if (other.keys.length != keys.length || other.length > capacity) {
      throw new EngineException(
          "cannot copy a cache of " + other.length + " positions into one of " + capacity);
    }
    for (int l = 0; l < keys.length; l++) {
      if (other.length > 0) {
        backend.convert(keys[l].rows(0, other.length), other.keys[l].rows(0, other.length));
        backend.convert(values[l].rows(0, other.length), other.values[l].rows(0, other.length));
      }
    }
    length = other.length;
  }

  /** Bytes of device memory held (cache and work buffers). */
  public long byteSize() {
    long bytes = 0; // device buffers only; the host staging buffers are small
    for (Tensor t : owned) {
      bytes += t.byteSize();
    }
    return bytes;
  }

  @Override
  public void close() {
    for (Tensor t : owned) {
      backend.free(t);
    }
    owned.clear();
    if (hostArena.scope().isAlive()) {
      hostArena.close();
    }
  }
}
