package dev.entity.engine.backend.cuda;

import dev.entity.engine.tensor.Tensor;

/**
 * Every {@link dev.entity.engine.backend.Backend} op that runs as one of our own kernels (all but
 * memory management and matrix products, which the runtime does with the driver and cuBLASLt). Each
 * method has the Backend method's signature and contract; CudaBackend delegates to it.
 *
 * <p>Skeleton: the kernels are being written; until then each op says so.
 */
public final class CudaKernelOps {

  private final KernelLauncher launcher;

  public CudaKernelOps(KernelLauncher launcher) {
    this.launcher = launcher;
  }

  private UnsupportedOperationException notYet(String op) {
    return new UnsupportedOperationException("CUDA kernel for " + op + " is not written yet");
  }

  public void zero(Tensor t) {
    throw notYet("zero");
  }

  public void convert(Tensor dst, Tensor src) {
    throw notYet("convert");
  }

  public void add(Tensor out, Tensor a, Tensor b) {
    throw notYet("add");
  }

  public void scale(Tensor x, float s) {
    throw notYet("scale");
  }

  public void axpy(Tensor out, Tensor x, float alpha) {
    throw notYet("axpy");
  }

  public void addBias(Tensor out, Tensor bias) {
    throw notYet("addBias");
  }

  public void biasBackward(Tensor dbias, Tensor dout) {
    throw notYet("biasBackward");
  }

  public void embeddingForward(Tensor out, Tensor ids, Tensor table) {
    throw notYet("embeddingForward");
  }

  public void embeddingBackward(Tensor dtable, Tensor dout, Tensor ids) {
    throw notYet("embeddingBackward");
  }

  public void rmsNormForward(Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps) {
    throw notYet("rmsNormForward");
  }

  public void rmsNormBackward(
      Tensor dx, Tensor dweight, Tensor dout, Tensor x, Tensor weight, Tensor rstd) {
    throw notYet("rmsNormBackward");
  }

  public void layerNormForward(
      Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor weight, Tensor bias, float eps) {
    throw notYet("layerNormForward");
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
    throw notYet("layerNormBackward");
  }

  public void rope(Tensor x, Tensor positions, Tensor invFreq, boolean inverse) {
    throw notYet("rope");
  }

  public void attentionForward(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale) {
    throw notYet("attentionForward");
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
    throw notYet("attentionBackward");
  }

  public void attentionDecode(
      Tensor out, Tensor q, Tensor keys, Tensor values, long start, float scale) {
    throw notYet("attentionDecode");
  }

  public void swigluForward(Tensor out, Tensor gate, Tensor up) {
    throw notYet("swigluForward");
  }

  public void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up) {
    throw notYet("swigluBackward");
  }

  public void geluForward(Tensor out, Tensor x) {
    throw notYet("geluForward");
  }

  public void geluBackward(Tensor dx, Tensor dout, Tensor x) {
    throw notYet("geluBackward");
  }

  public void dropout(Tensor out, Tensor x, float p, long seed) {
    throw notYet("dropout");
  }

  public void crossEntropyForwardBackward(
      Tensor losses, Tensor logits, Tensor targets, int ignoreIndex, float gradScale) {
    throw notYet("crossEntropyForwardBackward");
  }

  public double sum(Tensor x) {
    throw notYet("sum");
  }

  public void nf4Dequantize(Tensor out, Tensor packed, Tensor absmax) {
    throw notYet("nf4Dequantize");
  }

  public void nf4AbsmaxDequantize(Tensor out, Tensor codes, Tensor scales, Tensor offset) {
    throw notYet("nf4AbsmaxDequantize");
  }

  public double sumOfSquares(Tensor x) {
    throw notYet("sumOfSquares");
  }

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
    throw notYet("adamw");
  }

  KernelLauncher launcher() {
    return launcher;
  }
}
