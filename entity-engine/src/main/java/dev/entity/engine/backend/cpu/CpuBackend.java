// Dispatch only: every op checks its operands, then runs either the scalar reference or the
// optimized kernel of its concept class (CpuMatmul, CpuAttention, ...). -Dentity.cpu.scalar=true
// forces the references everywhere.
package dev.entity.engine.backend.cpu;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The pure-Java backend: host tensors in 64-byte aligned off-heap memory, kernels written with the
 * Vector API and run on a fixed {@link WorkerPool}. With the same thread count the results are
 * bit-identical from run to run.
 */
public final class CpuBackend implements Backend {

  /** System property that forces every op onto its scalar reference kernel. */
  public static final String SCALAR_PROPERTY = "entity.cpu.scalar";

  static final long ALIGNMENT = 64;

  private final WorkerPool pool;
  private final boolean scalar;
  private final Map<MemorySegment, Arena> allocations = new IdentityHashMap<>();
  private CpuRope.Angles ropeAngles; // the last frequencies' cos/sin table, see rope()
  private boolean closed;

  /** A backend with {@code threads} workers (0 = all cores); scalar when the property says so. */
  public CpuBackend(int threads) {
    this(threads, Boolean.getBoolean(SCALAR_PROPERTY));
  }

  /** A backend that runs only the scalar reference kernels when {@code scalar} is true. */
  public CpuBackend(int threads, boolean scalar) {
    this.pool = new WorkerPool(threads);
    this.scalar = scalar;
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public Device device() {
    return Device.CPU;
  }

  /** Worker threads, the caller included. */
  public int threads() {
    return pool.threads();
  }

  /** True when every op runs its scalar reference. */
  public boolean scalar() {
    return scalar;
  }

  // ---- memory ---------------------------------------------------------------------------------

  @Override
  public synchronized Tensor allocate(DType dtype, long... shape) {
    if (closed) {
      throw new IllegalStateException("the cpu backend is closed");
    }
    long bytes = Math.multiplyExact(Tensor.elementCount(shape), dtype.bytes());
    Arena arena = Arena.ofShared();
    MemorySegment segment = arena.allocate(bytes, ALIGNMENT); // zero-filled
    allocations.put(segment, arena);
    return new Tensor(dtype, shape, segment, Device.CPU);
  }

  /**
   * Frees a tensor made by {@link #allocate} (or a reshape of one). Anything else is left alone: on
   * the CPU {@link #upload} returns the host tensor itself, so device-portable code that frees what
   * it uploaded must not fail here; views and already-freed tensors are ignored the same way.
   */
  @Override
  public synchronized void free(Tensor t) {
    Arena arena = allocations.remove(t.data());
    if (arena != null) {
      arena.close();
    }
  }

  /** True while {@code t} (or the tensor it reshapes) is an allocation of this backend. */
  synchronized boolean owns(Tensor t) {
    return allocations.containsKey(t.data());
  }

  @Override
  public Tensor upload(Tensor host) {
    requireHost(host);
    return host;
  }

  @Override
  public void download(Tensor dst, Tensor src) {
    requireHost(dst);
    requireHost(src);
    if (dst.dtype() != src.dtype()) {
      throw new IllegalArgumentException("download needs equal dtypes: " + dst + " <- " + src);
    }
    OperandChecks.requireSameCount(dst, src);
    if (dst.data() != src.data()) {
      MemorySegment.copy(src.data(), 0, dst.data(), 0, src.byteSize());
    }
  }

  private static void requireHost(Tensor t) {
    if (!(t.device() instanceof Device.Cpu)) {
      throw new IllegalArgumentException("the cpu backend cannot touch " + t);
    }
  }

  @Override
  public void zero(Tensor t) {
    t.data().fill((byte) 0);
  }

  @Override
  public void convert(Tensor dst, Tensor src) {
    OperandChecks.requireSameCount(dst, src);
    if (dst.dtype() == src.dtype()) {
      MemorySegment.copy(src.data(), 0, dst.data(), 0, src.byteSize());
      return;
    }
    OperandChecks.requireFloat(dst);
    OperandChecks.requireFloat(src);
    pool.range(
        src.elementCount(),
        1 << 14,
        (from, to) -> CpuElementwise.convertScalar(dst, src, from, to));
  }

  // ---- elementwise ----------------------------------------------------------------------------

  @Override
  public void add(Tensor out, Tensor a, Tensor b) {
    OperandChecks.requireF32(out, a, b);
    OperandChecks.requireSameCount(out, a);
    OperandChecks.requireSameCount(out, b);
    pool.range(
        out.elementCount(),
        1 << 14,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.addScalar(out, a, b, from, to);
          } else {
            CpuVectorOps.add(out, a, b, from, to);
          }
        });
  }

  @Override
  public void scale(Tensor x, float s) {
    OperandChecks.requireF32(x);
    pool.range(
        x.elementCount(),
        1 << 14,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.scaleScalar(x, s, from, to);
          } else {
            CpuVectorOps.scale(x, s, from, to);
          }
        });
  }

  @Override
  public void axpy(Tensor out, Tensor x, float alpha) {
    OperandChecks.requireF32(out, x);
    OperandChecks.requireSameCount(out, x);
    pool.range(
        out.elementCount(),
        1 << 14,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.axpyScalar(out, x, alpha, from, to);
          } else {
            CpuVectorOps.axpy(out, x, alpha, from, to);
          }
        });
  }

  // ---- matrix products ------------------------------------------------------------------------

  @Override
  public void matmul(
      Tensor out,
      Tensor a,
      Tensor b,
      boolean transA,
      boolean transB,
      float alpha,
      boolean accumulate) {
    CpuMatmul.Dims d = CpuMatmul.Dims.of(out, a, b, transA, transB);
    if (scalar) {
      CpuMatmul.scalar(out, a, b, transA, transB, alpha, accumulate, d);
    } else {
      CpuMatmul.fast(pool, out, a, b, transA, transB, alpha, accumulate, d);
    }
  }

  @Override
  public void matmulPlusLowRank(
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
    CpuMatmul.Dims d = CpuMatmul.Dims.of(out, a, b, false, transB);
    if (scalar
        || !(dropout >= 0f && dropout < 1f)
        || !CpuMatmul.fusesLowRank(out, a, b, h, w, transW, d)
        || CpuMatmulDot.applies(a, b, false, transB, d)) {
      Backend.super.matmulPlusLowRank(
          out, a, b, transB, accumulate, h, w, transW, scale, dropout, seed, work);
      return;
    }
    CpuMatmul.blocked(
        pool,
        out,
        a,
        b,
        false,
        transB,
        1f,
        accumulate,
        d,
        new CpuMatmul.LowRank(h, w, transW, scale, dropout, seed));
  }

  @Override
  public void addBias(Tensor out, Tensor bias) {
    OperandChecks.requireF32(out);
    OperandChecks.requireFloat(bias);
    long oc = bias.elementCount();
    if (oc == 0 || out.elementCount() % oc != 0) {
      throw new IllegalArgumentException("out " + out + " is not rows of bias " + bias);
    }
    pool.range(
        out.elementCount() / oc,
        Math.max(1, (1 << 14) / oc),
        (from, to) -> {
          if (scalar || bias.dtype() != DType.F32) {
            CpuElementwise.addBiasScalar(out, bias, from, to);
          } else {
            CpuVectorOps.addBias(out, bias, from, to);
          }
        });
  }

  @Override
  public void biasBackward(Tensor dbias, Tensor dout) {
    OperandChecks.requireF32(dbias, dout);
    long oc = dbias.elementCount();
    if (oc == 0 || dout.elementCount() % oc != 0) {
      throw new IllegalArgumentException("dout " + dout + " is not rows of dbias " + dbias);
    }
    pool.range(
        oc,
        64,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.biasBackwardScalar(dbias, dout, from, to);
          } else {
            CpuVectorOps.biasBackward(dbias, dout, from, to);
          }
        });
  }

  // ---- embedding ------------------------------------------------------------------------------

  @Override
  public void embeddingForward(Tensor out, Tensor ids, Tensor table) {
    checkEmbedding(out, ids, table);
    pool.range(
        ids.elementCount(), 16, (from, to) -> CpuEmbedding.forward(out, ids, table, from, to));
  }

  @Override
  public void embeddingBackward(Tensor dtable, Tensor dout, Tensor ids) {
    OperandChecks.requireF32(dtable);
    checkEmbedding(dout, ids, dtable);
    long c = dtable.elementCount() / dtable.dim(0);
    pool.range(c, 64, (from, to) -> CpuEmbedding.backward(dtable, dout, ids, from, to));
  }

  private static void checkEmbedding(Tensor rows, Tensor ids, Tensor table) {
    OperandChecks.requireF32(rows);
    OperandChecks.requireI32(ids);
    OperandChecks.requireFloat(table);
    if (table.rank() < 2 || table.dim(0) == 0) {
      throw new IllegalArgumentException("embedding table must be (V, C), got " + table);
    }
    long c = table.elementCount() / table.dim(0);
    OperandChecks.requireCount(rows, ids.elementCount() * c, "embedding rows (N, C)");
  }

  // ---- normalization --------------------------------------------------------------------------

  @Override
  public void rmsNormForward(Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps) {
    long[] nc = CpuNorms.dims(x, weight, rstd);
    OperandChecks.requireF32(out);
    OperandChecks.requireSameCount(x, out);
    pool.range(
        nc[0],
        Math.max(1, 4096 / nc[1]),
        (from, to) -> {
          if (scalar || weight.dtype() != DType.F32) {
            CpuNorms.rmsForwardScalar(out, rstd, x, weight, eps, from, to);
          } else {
            CpuNorms.rmsForwardVector(out, rstd, x, weight, eps, from, to);
          }
        });
  }

  @Override
  public void rmsNormBackward(
      Tensor dx, Tensor dweight, Tensor dout, Tensor x, Tensor weight, Tensor rstd) {
    long[] nc = CpuNorms.dims(x, weight, rstd);
    OperandChecks.requireF32(dx, dout, dweight);
    OperandChecks.requireSameCount(x, dx);
    OperandChecks.requireSameCount(x, dout);
    if (dweight != null) {
      OperandChecks.requireCount(dweight, nc[1], "dweight (C)");
    }
    if (scalar || weight.dtype() != DType.F32) {
      CpuNorms.rmsBackwardScalar(dx, dweight, dout, x, weight, rstd, 0, nc[0]);
      return;
    }
    pool.range(
        nc[0],
        Math.max(1, 4096 / nc[1]),
        (from, to) -> CpuNorms.rmsBackwardDxVector(dx, dout, x, weight, rstd, from, to));
    if (dweight != null) {
      pool.range(
          nc[1],
          4L * CpuVectorOps.LANES,
          (from, to) -> CpuNorms.rmsBackwardDweightVector(dweight, dout, x, rstd, from, to));
    }
  }

  @Override
  public void layerNormForward(
      Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps) {
    long[] nc = CpuNorms.dims(x, weight, mean, rstd);
    OperandChecks.requireF32(out);
    OperandChecks.requireSameCount(x, out);
    if (bias != null) {
      OperandChecks.requireFloat(bias);
      OperandChecks.requireCount(bias, nc[1], "bias (C)");
    }
    pool.range(
        nc[0],
        Math.max(1, 4096 / nc[1]),
        (from, to) -> CpuNorms.layerForwardScalar(out, mean, rstd, x, weight, bias, eps, from, to));
  }

  @Override
  public void layerNormBackward(
      Tensor dx,
      Tensor dweight,
      Tensor dbias,
      Tensor dout,
      Tensor x,
      Tensor weight,
      Tensor mean,
      Tensor rstd) {
    long[] nc = CpuNorms.dims(x, weight, mean, rstd);
    OperandChecks.requireF32(dx, dout, dweight, dbias);
    OperandChecks.requireSameCount(x, dx);
    OperandChecks.requireSameCount(x, dout);
    if (dweight != null) {
      OperandChecks.requireCount(dweight, nc[1], "dweight (C)");
    }
    if (dbias != null) {
      OperandChecks.requireCount(dbias, nc[1], "dbias (C)");
    }
    if (scalar) {
      CpuNorms.layerBackwardScalar(dx, dweight, dbias, dout, x, weight, mean, rstd);
      return;
    }
    pool.range(
        nc[0],
        Math.max(1, 4096 / nc[1]),
        (from, to) -> CpuNorms.layerBackwardDx(dx, dout, x, weight, mean, rstd, from, to));
    pool.range(
        nc[1],
        16,
        (from, to) -> CpuNorms.layerBackwardParams(dweight, dbias, dout, x, mean, rstd, from, to));
  }

  // ---- positions ------------------------------------------------------------------------------

  @Override
  public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    OperandChecks.requireF32(x, invFreq);
    OperandChecks.requireI32(positions);
    long n = positions.elementCount();
    long hs = 2 * invFreq.elementCount();
    if (n == 0 || hs == 0 || x.elementCount() % (n * hs) != 0) {
      throw new IllegalArgumentException(
          "x " + x + " is not (N=" + n + ", H, HS=" + hs + ") for rope");
    }
    CpuRope.Angles angles = scalar ? null : ropeAngles(invFreq, positions);
    if (angles == null) {
      pool.range(n, 4, (from, to) -> CpuRope.apply(x, positions, invFreq, inverse, from, to));
    } else {
      pool.range(n, 4, (from, to) -> CpuRope.applyTable(x, positions, angles, inverse, from, to));
    }
  }

  /**
   * The cached cos/sin table for these frequencies, grown to cover the largest position; null when
   * a position is negative or beyond {@link CpuRope#MAX_TABLE_POSITIONS}.
   */
  private synchronized CpuRope.Angles ropeAngles(Tensor invFreq, Tensor positions) {
    int max = 0;
    for (long i = 0; i < positions.elementCount(); i++) {
      int p = CpuElements.getI32(positions.data(), i);
      if (p < 0 || p >= CpuRope.MAX_TABLE_POSITIONS) {
        return null;
      }
      max = Math.max(max, p);
    }
    float[] frequencies = invFreq.data().toArray(CpuElements.F32);
    if (ropeAngles == null || !ropeAngles.covers(frequencies, max)) {
      int size = ropeAngles == null ? 0 : ropeAngles.positions(); // grown by doubling
      ropeAngles =
          CpuRope.Angles.of(
              frequencies, Math.min(CpuRope.MAX_TABLE_POSITIONS, Math.max(max + 1, 2 * size)));
    }
    return ropeAngles;
  }

  // ---- attention ------------------------------------------------------------------------------

  @Override
  public void attentionForward(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    CpuAttention.Dims d = CpuAttention.Dims.of(out, lse, q, k, v, segments);
    if (scalar) {
      CpuAttention.forwardScalar(out, lse, q, k, v, segments, scale, d);
    } else {
      CpuAttention.forwardBlocked(pool, out, lse, q, k, v, segments, scale, d);
    }
  }

  @Override
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
    CpuAttention.Dims d = CpuAttention.Dims.of(out, lse, q, k, v, segments);
    OperandChecks.requireF32(dq, dk, dv, dout);
    OperandChecks.requireSameCount(q, dq);
    OperandChecks.requireSameCount(k, dk);
    OperandChecks.requireSameCount(v, dv);
    OperandChecks.requireSameCount(out, dout);
    if (scalar) {
      CpuAttention.backwardScalar(dq, dk, dv, dout, q, k, v, out, lse, segments, scale, d);
    } else {
      CpuAttention.backwardBlocked(pool, dq, dk, dv, dout, q, k, v, out, lse, segments, scale, d);
    }
  }

  @Override
  public void attentionDecode(
      Tensor out, Tensor q, Tensor keys, Tensor values, long start, float scale) {
    CpuDecodeAttention.forward(pool, scalar, out, q, keys, values, start, scale);
  }

  // ---- activations ----------------------------------------------------------------------------

  @Override
  public void swigluForward(Tensor out, Tensor gate, Tensor up) {
    OperandChecks.requireF32(out, gate, up);
    OperandChecks.requireSameCount(out, gate);
    OperandChecks.requireSameCount(out, up);
    pool.range(
        out.elementCount(),
        1 << 13,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.swigluForwardScalar(out, gate, up, from, to);
          } else {
            CpuVectorOps.swigluForward(out, gate, up, from, to);
          }
        });
  }

  @Override
  public void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up) {
    OperandChecks.requireF32(dgate, dup, dout, gate, up);
    for (Tensor t : new Tensor[] {dgate, dup, dout, up}) {
      OperandChecks.requireSameCount(gate, t);
    }
    pool.range(
        gate.elementCount(),
        1 << 13,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.swigluBackwardScalar(dgate, dup, dout, gate, up, from, to);
          } else {
            CpuVectorOps.swigluBackward(dgate, dup, dout, gate, up, from, to);
          }
        });
  }

  @Override
  public void geluForward(Tensor out, Tensor x) {
    OperandChecks.requireF32(out, x);
    OperandChecks.requireSameCount(out, x);
    pool.range(
        x.elementCount(),
        1 << 13,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.geluForwardScalar(out, x, from, to);
          } else {
            CpuVectorOps.geluForward(out, x, from, to);
          }
        });
  }

  @Override
  public void geluBackward(Tensor dx, Tensor dout, Tensor x) {
    OperandChecks.requireF32(dx, dout, x);
    OperandChecks.requireSameCount(dx, x);
    OperandChecks.requireSameCount(dout, x);
    pool.range(
        x.elementCount(),
        1 << 13,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.geluBackwardScalar(dx, dout, x, from, to);
          } else {
            CpuVectorOps.geluBackward(dx, dout, x, from, to);
          }
        });
  }

  @Override
  public void dropout(Tensor out, Tensor x, float p, long seed) {
    OperandChecks.requireF32(out, x);
    OperandChecks.requireSameCount(out, x);
    if (!(p >= 0f && p < 1f)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    }
    pool.range(
        x.elementCount(),
        1 << 13,
        (from, to) -> {
          if (scalar) {
            CpuElementwise.dropoutScalar(out, x, p, seed, from, to);
          } else {
            CpuVectorOps.dropout(out, x, p, seed, from, to);
          }
        });
  }

  // ---- loss -----------------------------------------------------------------------------------

  @Override
  public void crossEntropyForwardBackward(
      Tensor losses, Tensor logits, Tensor targets, int ignoreIndex, float gradScale) {
    long v = CpuLoss.vocab(losses, logits, targets);
    pool.range(
        targets.elementCount(),
        1,
        (from, to) -> {
          if (scalar) {
            CpuLoss.forwardBackwardScalar(
                losses, logits, targets, ignoreIndex, gradScale, v, from, to);
          } else {
            CpuLoss.forwardBackwardVector(
                losses, logits, targets, ignoreIndex, gradScale, v, from, to);
          }
        });
  }

  @Override
  public double sum(Tensor x) {
    OperandChecks.requireF32(x);
    return scalar
        ? CpuReductions.sumScalar(x, false, 0, x.elementCount())
        : CpuReductions.sumChunked(pool, x, false);
  }

  // ---- optimizer ------------------------------------------------------------------------------

  @Override
  public double sumOfSquares(Tensor x) {
    OperandChecks.requireF32(x);
    return scalar
        ? CpuReductions.sumScalar(x, true, 0, x.elementCount())
        : CpuReductions.sumChunked(pool, x, true);
  }

  @Override
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
    OperandChecks.requireF32(param, grad, m, v);
    OperandChecks.requireSameCount(param, grad);
    OperandChecks.requireSameCount(param, m);
    OperandChecks.requireSameCount(param, v);
    CpuAdamW.Step s = CpuAdamW.Step.of(lr, beta1, beta2, eps, weightDecay, gradScale, step);
    pool.range(
        param.elementCount(),
        1 << 14,
        (from, to) -> {
          if (scalar) {
            CpuAdamW.scalar(param, grad, m, v, s, from, to);
          } else {
            CpuAdamW.vector(param, grad, m, v, s, from, to);
          }
        });
  }

  @Override
  public void nf4Dequantize(Tensor out, Tensor packed, Tensor absmax) {
    CpuNf4.checkNf4(out, packed, absmax);
    pool.range(
        absmax.elementCount(), 256, (from, to) -> CpuNf4.dequantize(out, packed, absmax, from, to));
  }

  @Override
  public void nf4AbsmaxDequantize(Tensor out, Tensor codes, Tensor scales, Tensor offset) {
    CpuNf4.checkAbsmax(out, codes, scales, offset);
    float shift = CpuElements.getF32(offset.data(), 0);
    pool.range(
        out.elementCount(),
        1 << 14,
        (from, to) -> CpuNf4.absmax(out, codes, scales, shift, from, to));
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    pool.close();
    for (Arena arena : allocations.values()) {
      arena.close();
    }
    allocations.clear();
  }
}
