// The only file besides the kernels' own that touches jdk.incubator.vector for elementwise work:
// full vectors over [from, to) with a scalar tail, using the platform's preferred float species.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized elementwise kernels over F32 element ranges; each matches its scalar reference in
 * {@link CpuElementwise} bit for bit (the same single rounding per element).
 */
final class CpuVectorOps {

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int LANES = F.length();
  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private CpuVectorOps() {}

  static FloatVector load(MemorySegment s, long index) {
    return FloatVector.fromMemorySegment(F, s, index * 4, ORDER);
  }

  static void store(FloatVector v, MemorySegment s, long index) {
    v.intoMemorySegment(s, index * 4, ORDER);
  }

  static long vectorEnd(long from, long to) {
    return from + (to - from) / LANES * LANES;
  }

  static void add(Tensor out, Tensor a, Tensor b, long from, long to) {
    MemorySegment o = out.data(), as = a.data(), bs = b.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      store(load(as, i).add(load(bs, i)), o, i);
    }
    for (long i = end; i < to; i++) {
      setF32(o, i, getF32(as, i) + getF32(bs, i));
    }
  }

  static void scale(Tensor x, float s, long from, long to) {
    MemorySegment xs = x.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      store(load(xs, i).mul(s), xs, i);
    }
    for (long i = end; i < to; i++) {
      setF32(xs, i, getF32(xs, i) * s);
    }
  }

  /** out += alpha x, as a multiply then an add (no FMA), to match the reference exactly. */
  static void axpy(Tensor out, Tensor x, float alpha, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      store(load(o, i).add(load(xs, i).mul(alpha)), o, i);
    }
    for (long i = end; i < to; i++) {
      setF32(o, i, getF32(o, i) + alpha * getF32(xs, i));
    }
  }

  /** out = silu(gate) * up with the deterministic vector sigmoid; the tail uses its scalar twin. */
  static void swigluForward(Tensor out, Tensor gate, Tensor up, long from, long to) {
    MemorySegment o = out.data(), gs = gate.data(), us = up.data();
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      FloatVector g = load(gs, i);
      store(g.mul(CpuVectorMath.sigmoid(g)).mul(load(us, i)), o, i);
    }
    for (long i = end; i < to; i++) {
      float g = getF32(gs, i);
      setF32(o, i, g * CpuVectorMath.sigmoid(g) * getF32(us, i));
    }
  }

  /**
   * Per chunk: the five inputs copied to heap buffers (see HostChunks), sigmoid in one pass, the
   * products in another (each small enough for C2 to keep its vectors in registers, see
   * CpuAttentionTiles on the inlining budget), the two gradients copied back.
   */
  static void swigluBackward(
      Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, long from, long to) {
    MemorySegment dgs = dgate.data(), dus = dup.data(), ds = dout.data();
    MemorySegment gs = gate.data(), us = up.data();
    long end = vectorEnd(from, to);
    float[][] b = HostChunks.local();
    for (long c = from; c < end; c += HostChunks.CHUNK) {
      int n = (int) Math.min(HostChunks.CHUNK, end - c);
      HostChunks.load(b[0], gs, c, n);
      HostChunks.load(b[1], ds, c, n);
      HostChunks.load(b[2], us, c, n);
      HostChunks.load(b[3], dgs, c, n);
      HostChunks.load(b[4], dus, c, n);
      sigmoidInto(b[5], b[0], n);
      swigluBackwardPass(b[3], b[4], b[1], b[0], b[2], b[5], n);
      HostChunks.store(b[3], dgs, c, n);
      HostChunks.store(b[4], dus, c, n);
    }
    for (long i = end; i < to; i++) {
      float g = getF32(gs, i), d = getF32(ds, i), sig = CpuVectorMath.sigmoid(g);
      float local = sig * (g * (1f - sig) + 1f);
      setF32(dgs, i, getF32(dgs, i) + d * getF32(us, i) * local);
      setF32(dus, i, getF32(dus, i) + d * g * sig);
    }
  }

  /** Per chunk of heap copies: the tanh argument, tanh in place, the product. */
  static void geluForward(Tensor out, Tensor x, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    float k = CpuElementwise.GELU_SCALE;
    long end = vectorEnd(from, to);
    float[][] b = HostChunks.local();
    for (long c = from; c < end; c += HostChunks.CHUNK) {
      int n = (int) Math.min(HostChunks.CHUNK, end - c);
      HostChunks.load(b[0], xs, c, n);
      geluArgument(b[1], b[0], n);
      tanhInPlace(b[1], n);
      geluProduct(b[0], b[1], n);
      HostChunks.store(b[0], o, c, n);
    }
    for (long i = end; i < to; i++) {
      float v = getF32(xs, i);
      float inner = (v * v * v * 0.044715f + v) * k;
      setF32(o, i, v * 0.5f * (CpuVectorMath.tanh(inner) + 1f));
    }
  }

  static void geluBackward(Tensor dx, Tensor dout, Tensor x, long from, long to) {
    MemorySegment dxs = dx.data(), ds = dout.data(), xs = x.data();
    float k = CpuElementwise.GELU_SCALE;
    long end = vectorEnd(from, to);
    float[][] b = HostChunks.local();
    for (long c = from; c < end; c += HostChunks.CHUNK) {
      int n = (int) Math.min(HostChunks.CHUNK, end - c);
      HostChunks.load(b[0], xs, c, n);
      HostChunks.load(b[1], ds, c, n);
      HostChunks.load(b[2], dxs, c, n);
      geluArgument(b[3], b[0], n);
      tanhInPlace(b[3], n);
      geluBackwardPass(b[2], b[1], b[0], b[3], n);
      HostChunks.store(b[2], dxs, c, n);
    }
    for (long i = end; i < to; i++) {
      float v = getF32(xs, i);
      float v2 = v * v;
      float th = CpuVectorMath.tanh((v2 * v * 0.044715f + v) * k);
      float sech2 = 1f - th * th;
      float local = (th + 1f) * 0.5f + v * 0.5f * sech2 * k * (v2 * (3f * 0.044715f) + 1f);
      setF32(dxs, i, getF32(dxs, i) + local * getF32(ds, i));
    }
  }

  // ---- the passes of the chunked kernels (arrays of HostChunks.CHUNK floats at most) ----------

  /** sig[i] = sigmoid(g[i]) for i < n (whole vectors). */
  private static void sigmoidInto(float[] sig, float[] g, int n) {
    for (int i = 0; i < n; i += LANES) {
      CpuVectorMath.sigmoid(FloatVector.fromArray(F, g, i)).intoArray(sig, i);
    }
  }

  private static void swigluBackwardPass(
      float[] dgs, float[] dus, float[] ds, float[] gs, float[] us, float[] sigs, int n) {
    for (int i = 0; i < n; i += LANES) {
      FloatVector g = FloatVector.fromArray(F, gs, i), d = FloatVector.fromArray(F, ds, i);
      FloatVector sig = FloatVector.fromArray(F, sigs, i);
      FloatVector local = sig.mul(g.mul(sig.neg().add(1f)).add(1f));
      FloatVector dg = FloatVector.fromArray(F, dgs, i);
      dg.add(d.mul(FloatVector.fromArray(F, us, i)).mul(local)).intoArray(dgs, i);
      FloatVector.fromArray(F, dus, i).add(d.mul(g).mul(sig)).intoArray(dus, i);
    }
  }

  /** th[i] = k (x + 0.044715 x^3), the tanh argument of GELU, for x = xs[i], i < n. */
  private static void geluArgument(float[] th, float[] xs, int n) {
    float k = CpuElementwise.GELU_SCALE;
    for (int i = 0; i < n; i += LANES) {
      FloatVector v = FloatVector.fromArray(F, xs, i);
      v.mul(v).mul(v).mul(0.044715f).add(v).mul(k).intoArray(th, i);
    }
  }

  private static void tanhInPlace(float[] x, int n) {
    for (int i = 0; i < n; i += LANES) {
      CpuVectorMath.tanh(FloatVector.fromArray(F, x, i)).intoArray(x, i);
    }
  }

  /** x[i] = x / 2 * (th[i] + 1), in place over x. */
  private static void geluProduct(float[] x, float[] th, int n) {
    for (int i = 0; i < n; i += LANES) {
      FloatVector v = FloatVector.fromArray(F, x, i);
      v.mul(0.5f).mul(FloatVector.fromArray(F, th, i).add(1f)).intoArray(x, i);
    }
  }

  private static void geluBackwardPass(float[] dxs, float[] ds, float[] xs, float[] tanh, int n) {
    float k = CpuElementwise.GELU_SCALE;
    for (int i = 0; i < n; i += LANES) {
      FloatVector v = FloatVector.fromArray(F, xs, i);
      FloatVector v2 = v.mul(v);
      FloatVector th = FloatVector.fromArray(F, tanh, i);
      FloatVector sech2 = th.mul(th).neg().add(1f);
      FloatVector local =
          th.add(1f)
              .mul(0.5f)
              .add(v.mul(0.5f).mul(sech2).mul(k).mul(v2.mul(3f * 0.044715f).add(1f)));
      FloatVector.fromArray(F, dxs, i)
          .add(local.mul(FloatVector.fromArray(F, ds, i)))
          .intoArray(dxs, i);
    }
  }

  /** out (N, OC) rows [rowFrom, rowTo) += bias (OC, F32): the same bits as the reference. */
  static void addBias(Tensor out, Tensor bias, long rowFrom, long rowTo) {
    long oc = bias.elementCount();
    long vc = oc / LANES * LANES;
    MemorySegment o = out.data(), bs = bias.data();
    for (long r = rowFrom; r < rowTo; r++) {
      long base = r * oc;
      for (long j = 0; j < vc; j += LANES) {
        store(load(o, base + j).add(load(bs, j)), o, base + j);
      }
      for (long j = vc; j < oc; j++) {
        setF32(o, base + j, getF32(o, base + j) + getF32(bs, j));
      }
    }
  }

  /**
   * dbias columns [colFrom, colTo) += the rows of dout in order: the same bits as the reference.
   */
  static void biasBackward(Tensor dbias, Tensor dout, long colFrom, long colTo) {
    long oc = dbias.elementCount();
    long n = dout.elementCount() / oc;
    MemorySegment db = dbias.data(), g = dout.data();
    long end = vectorEnd(colFrom, colTo);
    for (long j = colFrom; j < end; j += LANES) {
      FloatVector acc = load(db, j);
      for (long r = 0; r < n; r++) {
        acc = acc.add(load(g, r * oc + j));
      }
      store(acc, db, j);
    }
    CpuElementwise.biasBackwardScalar(dbias, dout, end, colTo);
  }

  static final VectorSpecies<Integer> I = F.withLanes(int.class);

  /**
   * Dropout on full vectors: the same key and hash as {@link CpuElementwise#dropoutUniform} in
   * 32-bit lanes, so the mask is bit-identical to the reference's.
   */
  static void dropout(Tensor out, Tensor x, float p, long seed, long from, long to) {
    MemorySegment o = out.data(), xs = x.data();
    float keepScale = 1f / (1f - p);
    long end = vectorEnd(from, to);
    for (long i = from; i < end; i += LANES) {
      if (straddles(i)) {
        CpuElementwise.dropoutScalar(out, x, p, seed, i, i + LANES);
        continue;
      }
      store(dropped(load(xs, i), i, p, keepScale, seed), o, i);
    }
    CpuElementwise.dropoutScalar(out, x, p, seed, end, to);
  }

  /** Whether elements [i, i + LANES) straddle a multiple of 2^32, where the vector key changes. */
  static boolean straddles(long i) {
    return (i >>> 32) != ((i + LANES - 1) >>> 32);
  }

  /**
   * v, elements [i, i + LANES) of a tensor, after dropout: times keepScale where kept, else 0. The
   * lanes must not {@link #straddles straddle} 2^32.
   */
  static FloatVector dropped(FloatVector v, long i, float p, float keepScale, long seed) {
    int mixed = (int) seed + CpuElementwise.fmix32((int) (seed >>> 32) ^ (int) (i >>> 32));
    IntVector h = IntVector.zero(I).addIndex(1).add((int) i).mul(0x9E3779B9).add(mixed);
    h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85ebca6b);
    h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xc2b2ae35);
    h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
    FloatVector u =
        ((FloatVector) h.lanewise(VectorOperators.LSHR, 8).convert(VectorOperators.I2F, 0))
            .mul(0x1.0p-24f);
    VectorMask<Float> keep = u.compare(VectorOperators.GE, p);
    return v.mul(keepScale).blend(0f, keep.not());
  }
}
