// Shapes are small and arbitrary but chosen to reach every branch: a BF16 norm weight (converted
// into scratch), a null dweight, a segment tensor, grouped heads, same-dtype and cross-dtype
// converts.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;

/** Calls every {@link CudaKernelOps} op once or more on fake device tensors of a recorder. */
final class OpDriver {

  private OpDriver() {}

  static void runEveryOp(CudaKernelOps ops, RecordingLauncher r) {
    long n = 6, c = 16, v = 40;
    Tensor x = r.tensor(DType.F32, n, c);
    Tensor y = r.tensor(DType.F32, n, c);
    Tensor z = r.tensor(DType.F32, n, c);
    Tensor half = r.tensor(DType.BF16, n, c);
    Tensor rowStat = r.tensor(DType.F32, n);
    Tensor rowStat2 = r.tensor(DType.F32, n);
    Tensor weight = r.tensor(DType.F32, c);
    Tensor weightBf16 = r.tensor(DType.BF16, c);
    Tensor biasF16 = r.tensor(DType.F16, c);
    Tensor dweight = r.tensor(DType.F32, c);

    ops.zero(x);
    ops.zero(r.tensor(DType.U8, 7));
    ops.convert(half, x);
    ops.convert(y, x);
    ops.add(z, x, y);
    ops.scale(x, 0.5f);
    ops.axpy(x, y, 2f);
    ops.addBias(x, biasF16);
    ops.biasBackward(dweight, x);

    Tensor ids = r.tensor(DType.I32, n);
    Tensor table = r.tensor(DType.BF16, v, c);
    ops.embeddingForward(x, ids, table);
    ops.embeddingBackward(r.tensor(DType.F32, v, c), x, ids);

    ops.rmsNormForward(y, rowStat, x, weight, 1e-5f);
    ops.rmsNormForward(y, rowStat, x, weightBf16, 1e-5f);
    ops.rmsNormBackward(z, dweight, y, x, weight, rowStat);
    ops.rmsNormBackward(z, null, y, x, weightBf16, rowStat);
    ops.layerNormForward(y, rowStat, rowStat2, x, weightBf16, biasF16, 1e-5f);
    ops.layerNormForward(y, rowStat, rowStat2, x, weight, null, 1e-5f);
    ops.layerNormBackward(z, dweight, r.tensor(DType.F32, c), y, x, weight, rowStat, rowStat2);
    ops.layerNormBackward(z, null, null, y, x, weightBf16, rowStat, rowStat2);

    Tensor positions = r.tensor(DType.I32, n);
    ops.rope(r.tensor(DType.F32, n, 2, 8), positions, r.tensor(DType.F32, 4), false);

    long b = 2, t = 5, nh = 4, nkv = 2, hs = 64;
    Tensor q = r.tensor(DType.F32, b, t, nh, hs);
    Tensor k = r.tensor(DType.F32, b, t, nkv, hs);
    Tensor vv = r.tensor(DType.F32, b, t, nkv, hs);
    Tensor out = r.tensor(DType.F32, b, t, nh, hs);
    Tensor lse = r.tensor(DType.F32, b, nh, t);
    Tensor segments = r.tensor(DType.I32, b, t);
    ops.attentionForward(out, lse, q, k, vv, segments, 0.125f);
    ops.attentionBackward(
        r.tensor(DType.F32, b, t, nh, hs),
        r.tensor(DType.F32, b, t, nkv, hs),
        r.tensor(DType.F32, b, t, nkv, hs),
        r.tensor(DType.F32, b, t, nh, hs),
        q,
        k,
        vv,
        out,
        lse,
        null,
        0.125f);
    Tensor cache = r.tensor(DType.F32, 9, nkv, hs);
    ops.attentionDecode(
        r.tensor(DType.F32, 2, nh, hs), r.tensor(DType.F32, 2, nh, hs), cache, cache, 3, 0.125f);

    ops.swigluForward(z, x, y);
    ops.swigluBackward(z, x, y, x, y);
    ops.geluForward(z, x);
    ops.geluBackward(z, x, y);
    ops.dropout(z, x, 0.1f, 7);

    ops.crossEntropyForwardBackward(rowStat, r.tensor(DType.F32, n, v), ids, -100, 1f);
    ops.sum(x);
    ops.sumOfSquares(x);

    long values = 300;
    ops.nf4Dequantize(
        r.tensor(DType.BF16, values), r.tensor(DType.U8, 150), r.tensor(DType.F32, 5));
    ops.nf4AbsmaxDequantize(
        r.tensor(DType.F32, 5),
        r.tensor(DType.U8, 5),
        r.tensor(DType.F32, 1),
        r.tensor(DType.F32, 1));
    ops.adamw(x, y, z, r.tensor(DType.F32, n, c), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1f, 3);
  }
}
