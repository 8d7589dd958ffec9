// Dimensions: N rows, C channels. Statistics (mean, rstd) are computed per row in double and saved
// as F32; backward reads them back instead of recomputing.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.read;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm and LayerNorm forward and backward on the host. The weight (and LayerNorm bias) may be a
 * frozen BF16/F16 tensor; their gradients, when asked for, are F32 and accumulate.
 */
final class CpuNorms {

  private CpuNorms() {}

  /** N and C of one call: x (N, C), weight (C), per-row statistics (N). */
  static long[] dims(Tensor x, Tensor weight, Tensor... rowStats) {
    OperandChecks.requireF32(x);
    OperandChecks.requireFloat(weight);
    long c = weight.elementCount();
    if (c == 0 || x.elementCount() % c != 0) {
      throw new IllegalArgumentException("x " + x + " is not a stack of rows of " + c);
    }
    long n = x.elementCount() / c;
    for (Tensor s : rowStats) {
      OperandChecks.requireF32(s);
      OperandChecks.requireCount(s, n, "per-row statistic (N)");
    }
    return new long[] {n, c};
  }

  /** out (N, C) = x * rstd * weight; rstd (N) = 1 / sqrt(mean(x^2) + eps). */
  static void rmsForwardScalar(
      Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps, long rowFrom, long rowTo) {
    long c = weight.elementCount();
    MemorySegment os = out.data(), xs = x.data();
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * c;
      double ss = 0;
      for (long i = 0; i < c; i++) {
        float xv = getF32(xs, base + i);
        ss += (double) xv * xv;
      }
      float rs = (float) (1.0 / Math.sqrt(ss / c + eps));
      setF32(rstd.data(), r, rs);
      for (long i = 0; i < c; i++) {
        setF32(os, base + i, getF32(xs, base + i) * rs * read(weight, i));
      }
    }
  }

  /**
   * dx += rstd (g w - x rstd^2 mean(g w x)); dweight += g x rstd. dweight rows are summed in row
   * order, so the caller must not split rows when dweight is not null.
   */
  static void rmsBackwardScalar(
      Tensor dx,
      Tensor dweight,
      Tensor dout,
      Tensor x,
      Tensor weight,
      Tensor rstd,
      long rowFrom,
      long rowTo) {
    long c = weight.elementCount();
    MemorySegment dxs = dx.data(), gs = dout.data(), xs = x.data();
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * c;
      float rs = getF32(rstd.data(), r);
      double dotGwx = 0;
      for (long i = 0; i < c; i++) {
        dotGwx += (double) getF32(gs, base + i) * read(weight, i) * getF32(xs, base + i);
      }
      float k = (float) (dotGwx / c) * rs * rs;
      for (long i = 0; i < c; i++) {
        float g = getF32(gs, base + i);
        float xv = getF32(xs, base + i);
        setF32(dxs, base + i, getF32(dxs, base + i) + rs * (g * read(weight, i) - xv * k));
      }
    }
    if (dweight != null) {
      MemorySegment dws = dweight.data();
      for (long r = rowFrom; r < rowTo; r++) {
        long base = r * c;
        float rs = getF32(rstd.data(), r);
        for (long i = 0; i < c; i++) {
          setF32(dws, i, getF32(dws, i) + getF32(gs, base + i) * getF32(xs, base + i) * rs);
        }
      }
    }
  }

  /** out (N, C) = (x - mean) * rstd * weight + bias. */
  static void layerForwardScalar(
      Tensor out,
      Tensor mean,
      Tensor rstd,
      Tensor x,
      Tensor weight,
      Tensor bias,
      float eps,
      long rowFrom,
      long rowTo) {
    long c = weight.elementCount();
    MemorySegment os = out.data(), xs = x.data();
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * c;
      double s = 0;
      for (long i = 0; i < c; i++) {
        s += getF32(xs, base + i);
      }
      double mu = s / c;
      double var = 0;
      for (long i = 0; i < c; i++) {
        double dv = getF32(xs, base + i) - mu;
        var += dv * dv;
      }
      float m = (float) mu;
      float rs = (float) (1.0 / Math.sqrt(var / c + eps));
      setF32(mean.data(), r, m);
      setF32(rstd.data(), r, rs);
      for (long i = 0; i < c; i++) {
        float norm = (getF32(xs, base + i) - m) * rs;
        float b = bias == null ? 0f : read(bias, i);
        setF32(os, base + i, norm * read(weight, i) + b);
      }
    }
  }

  /**
   * dx += rstd (g w - mean(g w) - norm mean(g w norm)); dweight += g norm; dbias += g. The rows of
   * dx are independent and dweight/dbias are summed per column in row order, so the parallel path
   * (dx split by rows, the parameter gradients by columns) gives the same bits.
   */
  static void layerBackwardScalar(
      Tensor dx,
      Tensor dweight,
      Tensor dbias,
      Tensor dout,
      Tensor x,
      Tensor weight,
      Tensor mean,
      Tensor rstd) {
    long c = weight.elementCount();
    layerBackwardDx(dx, dout, x, weight, mean, rstd, 0, x.elementCount() / c);
    layerBackwardParams(dweight, dbias, dout, x, mean, rstd, 0, c);
  }

  /** dx rows [rowFrom, rowTo). */
  static void layerBackwardDx(
      Tensor dx,
      Tensor dout,
      Tensor x,
      Tensor weight,
      Tensor mean,
      Tensor rstd,
      long rowFrom,
      long rowTo) {
    long c = weight.elementCount();
    MemorySegment dxs = dx.data(), gs = dout.data(), xs = x.data();
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * c;
      float m = getF32(mean.data(), r);
      float rs = getF32(rstd.data(), r);
      double sumG = 0, sumGn = 0;
      for (long i = 0; i < c; i++) {
        double gw = (double) getF32(gs, base + i) * read(weight, i);
        sumG += gw;
        sumGn += gw * ((getF32(xs, base + i) - m) * rs);
      }
      float meanG = (float) (sumG / c);
      float meanGn = (float) (sumGn / c);
      for (long i = 0; i < c; i++) {
        float norm = (getF32(xs, base + i) - m) * rs;
        float gw = getF32(gs, base + i) * read(weight, i);
        setF32(dxs, base + i, getF32(dxs, base + i) + rs * (gw - meanG - norm * meanGn));
      }
    }
  }

  /** dweight and dbias (either may be null) columns [colFrom, colTo), rows summed in order. */
  static void layerBackwardParams(
      Tensor dweight,
      Tensor dbias,
      Tensor dout,
      Tensor x,
      Tensor mean,
      Tensor rstd,
      long colFrom,
      long colTo) {
    if (dweight == null && dbias == null) {
      return;
    }
    long c = (dweight != null ? dweight : dbias).elementCount();
    long n = x.elementCount() / c;
    MemorySegment gs = dout.data(), xs = x.data();
    for (long i = colFrom; i < colTo; i++) {
      float dw = dweight == null ? 0f : getF32(dweight.data(), i);
      float db = dbias == null ? 0f : getF32(dbias.data(), i);
      for (long r = 0; r < n; r++) {
        float g = getF32(gs, r * c + i);
        dw += g * ((getF32(xs, r * c + i) - getF32(mean.data(), r)) * getF32(rstd.data(), r));
        db += g;
      }
      if (dweight != null) {
        setF32(dweight.data(), i, dw);
      }
      if (dbias != null) {
        setF32(dbias.data(), i, db);
      }
    }
  }

  // ---- vectorized RMSNorm (F32 weight) ---------------------------------------------------------
  // Rows are independent in forward and in dx; dweight is split by columns, each column summing
  // the rows in order, so any split gives the same bits.

  static void rmsForwardVector(
      Tensor out, Tensor rstd, Tensor x, Tensor weight, float eps, long rowFrom, long rowTo) {
    long c = weight.elementCount();
    MemorySegment os = out.data(), xs = x.data(), ws = weight.data();
    float[] lanes = new float[CpuVectorMath.LANES];
    long vc = c / CpuVectorOps.LANES * CpuVectorOps.LANES;
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * c;
      FloatVector acc = FloatVector.zero(CpuVectorMath.F);
      for (long i = 0; i < vc; i += CpuVectorOps.LANES) {
        FloatVector v = CpuVectorOps.load(xs, base + i);
        acc = v.fma(v, acc);
      }
      double ss = CpuVectorMath.sumLanes(acc, lanes);
      for (long i = vc; i < c; i++) {
        float xv = getF32(xs, base + i);
        ss += (double) xv * xv;
      }
      float rs = (float) (1.0 / Math.sqrt(ss / c + eps));
      setF32(rstd.data(), r, rs);
      for (long i = 0; i < vc; i += CpuVectorOps.LANES) {
        CpuVectorOps.store(
            CpuVectorOps.load(xs, base + i).mul(rs).mul(CpuVectorOps.load(ws, i)), os, base + i);
      }
      for (long i = vc; i < c; i++) {
        setF32(os, base + i, getF32(xs, base + i) * rs * getF32(ws, i));
      }
    }
  }

  /**
   * dx rows [rowFrom, rowTo) += rstd (g w - x rstd^2 mean(g w x)), each row in chunks of heap
   * copies (see HostChunks): one pass for the dot product, one for the update.
   */
  static void rmsBackwardDxVector(
      Tensor dx, Tensor dout, Tensor x, Tensor weight, Tensor rstd, long rowFrom, long rowTo) {
    long c = weight.elementCount();
    MemorySegment dxs = dx.data(), gs = dout.data(), xs = x.data(), ws = weight.data();
    long vc = c / CpuVectorOps.LANES * CpuVectorOps.LANES;
    float[][] b = HostChunks.local();
    float[] acc = b[4];
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * c;
      float rs = getF32(rstd.data(), r);
      java.util.Arrays.fill(acc, 0, CpuVectorOps.LANES, 0f);
      for (long i = 0; i < vc; i += HostChunks.CHUNK) {
        int n = (int) Math.min(HostChunks.CHUNK, vc - i);
        HostChunks.load(b[0], gs, base + i, n);
        HostChunks.load(b[1], ws, i, n);
        HostChunks.load(b[2], xs, base + i, n);
        dotChunk(acc, b[0], b[1], b[2], n);
      }
      float lanes = 0f; // the lanes added in order, then widened
      for (int l = 0; l < CpuVectorOps.LANES; l++) {
        lanes += acc[l];
      }
      double dot = lanes;
      for (long i = vc; i < c; i++) {
        dot += (double) getF32(gs, base + i) * getF32(ws, i) * getF32(xs, base + i);
      }
      float k = (float) (dot / c) * rs * rs;
      for (long i = 0; i < vc; i += HostChunks.CHUNK) {
        int n = (int) Math.min(HostChunks.CHUNK, vc - i);
        HostChunks.load(b[0], gs, base + i, n);
        HostChunks.load(b[1], ws, i, n);
        HostChunks.load(b[2], xs, base + i, n);
        HostChunks.load(b[3], dxs, base + i, n);
        dxChunk(b[3], b[0], b[1], b[2], k, rs, n);
        HostChunks.store(b[3], dxs, base + i, n);
      }
      for (long i = vc; i < c; i++) {
        float d = rs * (getF32(gs, base + i) * getF32(ws, i) - getF32(xs, base + i) * k);
        setF32(dxs, base + i, getF32(dxs, base + i) + d);
      }
    }
  }

  /** acc (one vector) += g w x over [0, n), one fma per vector, in order. */
  private static void dotChunk(float[] acc, float[] g, float[] w, float[] x, int n) {
    VectorSpecies<Float> f = CpuVectorOps.F;
    FloatVector a = FloatVector.fromArray(f, acc, 0);
    for (int i = 0; i < n; i += CpuVectorOps.LANES) {
      a =
          FloatVector.fromArray(f, g, i)
              .mul(FloatVector.fromArray(f, w, i))
              .fma(FloatVector.fromArray(f, x, i), a);
    }
    a.intoArray(acc, 0);
  }

  /** dx += rs (g w - x k) over [0, n). */
  private static void dxChunk(
      float[] dx, float[] g, float[] w, float[] x, float k, float rs, int n) {
    VectorSpecies<Float> f = CpuVectorOps.F;
    for (int i = 0; i < n; i += CpuVectorOps.LANES) {
      FloatVector gw = FloatVector.fromArray(f, g, i).mul(FloatVector.fromArray(f, w, i));
      FloatVector d = gw.sub(FloatVector.fromArray(f, x, i).mul(k)).mul(rs);
      FloatVector.fromArray(f, dx, i).add(d).intoArray(dx, i);
    }
  }

  /** dweight columns [colFrom, colTo) += sum over all rows, in order, of g x rstd. */
  static void rmsBackwardDweightVector(
      Tensor dweight, Tensor dout, Tensor x, Tensor rstd, long colFrom, long colTo) {
    long c = dweight.elementCount();
    long n = x.elementCount() / c;
    MemorySegment dws = dweight.data(), gs = dout.data(), xs = x.data(), rss = rstd.data();
    long end = CpuVectorOps.vectorEnd(colFrom, colTo);
    for (long i = colFrom; i < end; i += CpuVectorOps.LANES) {
      FloatVector acc = CpuVectorOps.load(dws, i);
      for (long r = 0; r < n; r++) {
        acc =
            acc.add(
                CpuVectorOps.load(gs, r * c + i)
                    .mul(CpuVectorOps.load(xs, r * c + i))
                    .mul(getF32(rss, r)));
      }
      CpuVectorOps.store(acc, dws, i);
    }
    for (long i = end; i < colTo; i++) {
      float acc = getF32(dws, i);
      for (long r = 0; r < n; r++) {
        acc += getF32(gs, r * c + i) * getF32(xs, r * c + i) * getF32(rss, r);
      }
      setF32(dws, i, acc);
    }
  }
}
