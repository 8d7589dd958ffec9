// Convention: memory and matrix products are done here (driver, cuBLASLt); every other op is one
// of our kernels and delegated to CudaKernelOps unchanged. A device tensor's segment is
// MemorySegment.ofAddress(devicePointer).reinterpret(bytes): it carries the address and the size,
// and is never dereferenced on the host.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The engine on one NVIDIA GPU, through the FFM API: tensors in device memory from a caching
 * allocator, copies and fills with the CUDA driver, matrix products with cuBLASLt (F32 compute and
 * F32 output; F32, BF16 or F16 operands), and the rest with our own kernels ({@link
 * CudaKernelOps}). All work runs in order on one stream; only {@link #download}, {@link #sum} and
 * {@link #sumOfSquares} wait for it.
 *
 * <p>A product of an F32 activation with a BF16 (or F16) frozen weight converts the activation to
 * the weight's type in a reusable staging buffer and runs a BF16 x BF16 product with F32
 * accumulation, the tensor-core path — rather than widening the weight, which would need a buffer
 * as large as the weight and twice the memory traffic. The price is the activation's rounding to
 * BF16 (relative error about 2^-8), the precision mixed-precision training accepts everywhere.
 */
public final class CudaBackend implements Backend {

  /** cuBLASLt's workspace: NVIDIA recommends 32 MiB on Hopper, 4 MiB before; one size for all. */
  static final long WORKSPACE_BYTES = 32L << 20;

  private final CudaContext context;
  private final Device device;
  private final CudaKernelOps kernels;
  private final CudaMatmul matmul;
  private final long workspace;
  private long staging;
  private long stagingBytes;

  CudaBackend(CudaContext context, CublasLt lt) {
    this.context = context;
    this.device = new Device.Cuda(context.properties().ordinal());
    this.kernels = new CudaKernelOps(context);
    this.workspace = context.allocator().allocate(WORKSPACE_BYTES);
    this.matmul = new CudaMatmul(lt, context.stream(), workspace, WORKSPACE_BYTES);
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public Device device() {
    return device;
  }

  /** The GPU this backend runs on. */
  public CudaDeviceProperties properties() {
    return context.properties();
  }

  /** Free and total device memory as the driver reports them now, in bytes. */
  public long[] memoryInfo() {
    return context.memoryInfo();
  }

  /** Waits until every enqueued op has finished (for timing; ops never need it). */
  public void synchronize() {
    context.synchronize();
  }

  /**
   * GPU time of the ops {@code work} enqueues, in milliseconds, measured with two events on the
   * stream (host-side launch overhead excluded); waits for the work to finish.
   */
  public float timeMillis(Runnable work) {
    return context.timeMillis(work);
  }

  // ---- memory ---------------------------------------------------------------------------------

  @Override
  public Tensor allocate(DType dtype, long... shape) {
    long bytes = Math.multiplyExact(Tensor.elementCount(shape), dtype.bytes());
    context.makeCurrent();
    long address = context.allocator().allocate(bytes);
    context.fill(address, bytes);
    return wrap(dtype, shape, address, bytes);
  }

  private Tensor wrap(DType dtype, long[] shape, long address, long bytes) {
    return new Tensor(dtype, shape, MemorySegment.ofAddress(address).reinterpret(bytes), device);
  }

  /**
   * Frees a tensor made by {@link #allocate} or {@link #upload} (or a reshape of one). Views of
   * fewer bytes — {@code rows(0, n)} shares its base's address — and foreign tensors are ignored,
   * as on the CPU.
   */
  @Override
  public void free(Tensor t) {
    long address = t.data().address();
    if (device.equals(t.device()) && context.allocator().requestedBytes(address) == t.byteSize()) {
      context.allocator().free(address);
    }
  }

  @Override
  public Tensor upload(Tensor host) {
    requireHost(host);
    long bytes = host.byteSize();
    context.makeCurrent();
    long address = context.allocator().allocate(bytes);
    context.copyToDevice(address, host.data(), bytes);
    return wrap(host.dtype(), host.shape(), address, bytes);
  }

  @Override
  public void download(Tensor dst, Tensor src) {
    requireHost(dst);
    requireHere(src);
    if (dst.dtype() != src.dtype() || dst.elementCount() != src.elementCount()) {
      throw new IllegalArgumentException(
          "download needs equal dtype and size: " + dst + " <- " + src);
    }
    context.copyToHost(dst.data(), src.data().address(), src.byteSize());
  }

  @Override
  public void zero(Tensor t) {
    requireHere(t);
    context.fill(t.data().address(), t.byteSize());
  }

  @Override
  public void convert(Tensor dst, Tensor src) {
    requireHere(dst);
    requireHere(src);
    if (dst.elementCount() != src.elementCount()) {
      throw new IllegalArgumentException("convert needs equal sizes: " + dst + " <- " + src);
    }
    if (dst.dtype() == src.dtype()) {
      context.copyOnDevice(dst.data().address(), src.data().address(), src.byteSize());
    } else {
      kernels.convert(dst, src);
    }
  }

  private static void requireHost(Tensor t) {
    if (!(t.device() instanceof Device.Cpu)) {
      throw new IllegalArgumentException("expected a host tensor, got " + t);
    }
  }

  private void requireHere(Tensor t) {
    if (!device.equals(t.device())) {
      throw new IllegalArgumentException("the " + device + " backend cannot use " + t);
    }
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
    requireHere(out);
    requireHere(a);
    requireHere(b);
    if (out.dtype() != DType.F32) {
      throw new IllegalArgumentException("matmul writes F32: out " + out);
    }
    long[] mkn = MatmulLayout.dims(out, a, b, transA, transB);
    long m = mkn[0];
    long k = mkn[1];
    long n = mkn[2];
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      if (!accumulate) {
        zero(out);
      }
      return;
    }
    context.makeCurrent();
    DType type = operandType(a.dtype(), b.dtype());
    long aAddress = a.data().address();
    long bAddress = b.data().address();
    if (a.dtype() != type) {
      aAddress = staged(a, type);
    } else if (b.dtype() != type) {
      bAddress = staged(b, type);
    }
    matmul.run(
        out.data().address(), aAddress, bAddress, type, transA, transB, m, n, k, alpha, accumulate);
  }

  /**
   * The one dtype both operands are multiplied in: the narrower one when they differ (the weight's
   * BF16 or F16), else their own. Only floating-point operands are accepted.
   */
  static DType operandType(DType a, DType b) {
    CudaMatmul.dataType(a);
    CudaMatmul.dataType(b);
    if (a == b) {
      return a;
    }
    return b != DType.F32 ? b : a;
  }

  /** {@code t} converted to {@code type} in the staging buffer; its device address. */
  private long staged(Tensor t, DType type) {
    long bytes = Math.multiplyExact(t.elementCount(), type.bytes());
    if (bytes > stagingBytes) {
      if (staging != 0) {
        context.allocator().free(staging);
        staging = 0;
        stagingBytes = 0;
      }
      staging = context.allocator().allocate(bytes);
      stagingBytes = CachingAllocator.sizeClass(bytes);
    }
    Tensor view =
        new Tensor(type, t.shape(), MemorySegment.ofAddress(staging).reinterpret(bytes), device);
    kernels.convert(view, t);
    return staging;
  }

  // ---- kernels --------------------------------------------------------------------------------

  @Override
  public void add(Tensor out, Tensor a, Tensor b) {
    kernels.add(out, a, b);
  }

  @Override
  public void scale(Tensor x, float s) {
    kernels.scale(x, s);
  }

  @Override
  public void axpy(Tensor out, Tensor x, float alpha) {
    kernels.axpy(out, x, alpha);
  }

  @Override
  public void addBias(Tensor out, Tensor bias) {
    kernels.addBias(out, bias);
  }

  @Override
  public void biasBackward(Tensor dbias, Tensor dout) {
    kernels.biasBackward(dbias, dout);
  }

  @Override
  public void embeddingForward(Tensor out, Tensor ids, Tensor table) {
    kernels.embeddingForward(out, ids, table);
  }

  @Override
  public void embeddingBackward(Tensor dtable, Tensor dout, Tensor ids) {
    kernels.embeddingBackward(dtable, dout, ids);
  }

  @Override
  public void rmsNormForward(Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps) {
    kernels.rmsNormForward(out, rstd, x, weight, eps);
  }

  @Override
  public void rmsNormBackward(
      Tensor dx, Tensor dweight, Tensor dout, Tensor x, Tensor weight, Tensor rstd) {
    kernels.rmsNormBackward(dx, dweight, dout, x, weight, rstd);
  }

  @Override
  public void layerNormForward(
      Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps) {
    kernels.layerNormForward(out, mean, rstd, x, weight, bias, eps);
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
    kernels.layerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd);
  }

  @Override
  public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    kernels.rope(x, positions, invFreq, inverse);
  }

  @Override
  public void attentionForward(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    kernels.attentionForward(out, lse, q, k, v, segments, scale);
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
    kernels.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, segments, scale);
  }

  @Override
  public void attentionDecode(
      Tensor out, Tensor q, Tensor keys, Tensor values, long start, float scale) {
    kernels.attentionDecode(out, q, keys, values, start, scale);
  }

  @Override
  public void swigluForward(Tensor out, Tensor gate, Tensor up) {
    kernels.swigluForward(out, gate, up);
  }

  @Override
  public void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up) {
    kernels.swigluBackward(dgate, dup, dout, gate, up);
  }

  @Override
  public void geluForward(Tensor out, Tensor x) {
    kernels.geluForward(out, x);
  }

  @Override
  public void geluBackward(Tensor dx, Tensor dout, Tensor x) {
    kernels.geluBackward(dx, dout, x);
  }

  @Override
  public void dropout(Tensor out, Tensor x, float p, long seed) {
    kernels.dropout(out, x, p, seed);
  }

  @Override
  public void crossEntropyForwardBackward(
      Tensor losses, Tensor logits, Tensor targets, int ignoreIndex, float gradScale) {
    kernels.crossEntropyForwardBackward(losses, logits, targets, ignoreIndex, gradScale);
  }

  @Override
  public double sum(Tensor x) {
    return kernels.sum(x);
  }

  @Override
  public void nf4Dequantize(Tensor out, Tensor packed, Tensor absmax) {
    kernels.nf4Dequantize(out, packed, absmax);
  }

  @Override
  public void nf4AbsmaxDequantize(Tensor out, Tensor codes, Tensor scales, Tensor offset) {
    kernels.nf4AbsmaxDequantize(out, codes, scales, offset);
  }

  @Override
  public double sumOfSquares(Tensor x) {
    return kernels.sumOfSquares(x);
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
    kernels.adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, gradScale, step);
  }

  // ---- accounting -----------------------------------------------------------------------------

  /** Live tensors plus the allocator's cache (workspace and staging included). */
  @Override
  public long deviceBytesInUse() {
    return context.allocator().reservedBytes();
  }

  @Override
  public long peakDeviceBytes() {
    return context.allocator().peakReservedBytes();
  }

  @Override
  public void close() {
    try {
      matmul.close();
    } finally {
      context.close();
    }
  }
}
