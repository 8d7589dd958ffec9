// Dimensions: B batch, T time, NH query heads, NKV key/value heads, HS head size; query head h
// reads
// key/value head h / (NH / NKV). Query t sees key s iff s <= t and both carry the same segment id.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.backend.OperandChecks;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention on the host, saving the log-sum-exp of each query row instead of
 * the probabilities; backward recomputes the probabilities from it. The scalar reference walks one
 * query row at a time; the blocked kernel is tested against it.
 */
final class CpuAttention {

  private CpuAttention() {}

  /** The shape of one attention call, checked against every operand. */
  record Dims(long b, long t, long nh, long nkv, long hs) {

    static Dims of(Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments) {
      OperandChecks.AttentionShape s = OperandChecks.attention(out, lse, q, k, v, segments);
      return new Dims(s.b(), s.t(), s.nh(), s.nkv(), s.hs());
    }

    long qIndex(long bi, long ti, long h) {
      return ((bi * t + ti) * nh + h) * hs;
    }

    long kvIndex(long bi, long ti, long h) {
      return ((bi * t + ti) * nkv + h) * hs;
    }

    long lseIndex(long bi, long h, long ti) {
      return (bi * nh + h) * t + ti;
    }
  }

  static boolean visible(MemorySegment seg, long rowBase, long query, long key) {
    return key <= query
        && (seg == null || getI32(seg, rowBase + key) == getI32(seg, rowBase + query));
  }

  static float dot(MemorySegment x, long xo, MemorySegment y, long yo, long n) {
    float acc = 0f;
    for (long i = 0; i < n; i++) {
      acc += getF32(x, xo + i) * getF32(y, yo + i);
    }
    return acc;
  }

  /** Reference forward: scores of one query row, softmax, weighted sum of values. */
  static void forwardScalar(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments, float scale, Dims d) {
    MemorySegment os = out.data(), ls = lse.data(), qs = q.data(), ks = k.data(), vs = v.data();
    MemorySegment seg = segments == null ? null : segments.data();
    long group = d.nh() / d.nkv();
    float[] scores = new float[(int) d.t()];
    for (long b = 0; b < d.b(); b++) {
      for (long h = 0; h < d.nh(); h++) {
        long kh = h / group;
        for (long t = 0; t < d.t(); t++) {
          long qo = d.qIndex(b, t, h);
          float max = Float.NEGATIVE_INFINITY;
          for (long s = 0; s <= t; s++) {
            if (visible(seg, b * d.t(), t, s)) {
              float sc = scale * dot(qs, qo, ks, d.kvIndex(b, s, kh), d.hs());
              scores[(int) s] = sc;
              max = Math.max(max, sc);
            }
          }
          float sum = 0f;
          for (long s = 0; s <= t; s++) {
            if (visible(seg, b * d.t(), t, s)) {
              float p = (float) Math.exp(scores[(int) s] - max);
              scores[(int) s] = p;
              sum += p;
            }
          }
          for (long i = 0; i < d.hs(); i++) {
            setF32(os, qo + i, 0f);
          }
          for (long s = 0; s <= t; s++) {
            if (visible(seg, b * d.t(), t, s)) {
              float p = scores[(int) s] / sum;
              long vo = d.kvIndex(b, s, kh);
              for (long i = 0; i < d.hs(); i++) {
                setF32(os, qo + i, getF32(os, qo + i) + p * getF32(vs, vo + i));
              }
            }
          }
          setF32(ls, d.lseIndex(b, h, t), max + (float) Math.log(sum));
        }
      }
    }
  }

  /**
   * Reference backward: p = exp(score - lse); dv += p dout; ds = p (dout.v - dout.out); dq += scale
   * ds k; dk += scale ds q.
   */
  static void backwardScalar(
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
      float scale,
      Dims d) {
    MemorySegment dqs = dq.data(), dks = dk.data(), dvs = dv.data(), dos = dout.data();
    MemorySegment qs = q.data(), ks = k.data(), vs = v.data(), os = out.data(), ls = lse.data();
    MemorySegment seg = segments == null ? null : segments.data();
    long group = d.nh() / d.nkv();
    long hs = d.hs();
    for (long b = 0; b < d.b(); b++) {
      for (long h = 0; h < d.nh(); h++) {
        long kh = h / group;
        for (long t = 0; t < d.t(); t++) {
          long qo = d.qIndex(b, t, h);
          float rowLse = getF32(ls, d.lseIndex(b, h, t));
          float delta = dot(dos, qo, os, qo, hs);
          for (long s = 0; s <= t; s++) {
            if (!visible(seg, b * d.t(), t, s)) {
              continue;
            }
            long ko = d.kvIndex(b, s, kh);
            float p = (float) Math.exp(scale * dot(qs, qo, ks, ko, hs) - rowLse);
            float dp = dot(dos, qo, vs, ko, hs);
            float ds = p * (dp - delta) * scale;
            for (long i = 0; i < hs; i++) {
              setF32(dvs, ko + i, getF32(dvs, ko + i) + p * getF32(dos, qo + i));
              setF32(dqs, qo + i, getF32(dqs, qo + i) + ds * getF32(ks, ko + i));
              setF32(dks, ko + i, getF32(dks, ko + i) + ds * getF32(qs, qo + i));
            }
          }
        }
      }
    }
  }

  // ---- the blocked kernels ---------------------------------------------------------------------
  //
  // Keys come in blocks of KB (CpuAttentionTiles). A forward task owns QP query positions of one
  // key/value head for all NH / NKV query heads of its group, so every key and value block it packs
  // serves group * QP rows. Its scores are transposed (KB keys x KB queries, 4 keys at a time in
  // registers), so the online softmax (running max and sum per query, flash attention) runs down
  // columns with whole vectors; then O += P V, 4 rows at a time. Queries are pre-multiplied by the
  // scale. The decode kernel reuses the row-wise pieces (onlineSoftmax). A backward task owns one
  // (batch, key/value head): for
  // each key block it recomputes P from the saved lse, forms dS, and adds dV += P^T dO, dK += dS^T
  // Q into block accumulators and dQ += dS K into per-task rows, each as one long ordered sum, so
  // no two tasks write the same element and the bits do not depend on the thread count.

  /** Query positions per forward task. */
  static final int QP = 128;

  private static final int KB = CpuAttentionTiles.KB;
  private static final int LANES = CpuAttentionTiles.LANES;
  private static final float NEG_INF = Float.NEGATIVE_INFINITY;

  static int padded(long hs) {
    return CpuAttentionTiles.padded((int) hs);
  }

  static int roundUp4(int n) {
    return (n + 3) & ~3;
  }

  /** Forward over (batch, key/value head, block of QP query positions), latest blocks first. */
  static void forwardBlocked(
      WorkerPool pool,
      Tensor out,
      Tensor lse,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor segments,
      float scale,
      Dims d) {
    int t = Math.toIntExact(d.t());
    int blocks = (t + QP - 1) / QP;
    long heads = d.b() * d.nkv();
    pool.run(
        Math.toIntExact(heads * blocks),
        task -> {
          int block = blocks - 1 - (int) (task / heads); // the causal work grows with the block
          long bh = task % heads;
          forwardTask(
              out, lse, q, k, v, segments, scale, d, bh / d.nkv(), bh % d.nkv(), block * QP);
        });
  }

  /** Segment ids of batch row b and, per position, where its run of equal ids starts. */
  private static void loadSegments(AttentionScratch sc, MemorySegment segs, long b, int t) {
    sc.segmentIds = AttentionScratch.grow(sc.segmentIds, t);
    sc.runStarts = AttentionScratch.grow(sc.runStarts, t);
    for (int p = 0; p < t; p++) {
      sc.segmentIds[p] = getI32(segs, b * t + p);
      sc.runStarts[p] = p > 0 && sc.segmentIds[p] == sc.segmentIds[p - 1] ? sc.runStarts[p - 1] : p;
    }
  }

  /**
   * True when every key of [s0, s0 + KB) is visible to each of the rows at positions p0 .. p0 +
   * count - 1: causally before them, all rows real (below limit), all in one run of a segment id.
   */
  private static boolean blockFullyVisible(
      AttentionScratch sc, boolean segmented, int s0, int p0, int count, int limit) {
    int last = p0 + count - 1;
    return s0 + KB - 1 <= p0 && last < limit && (!segmented || sc.runStarts[last] <= s0);
  }

  /** Sets to -inf the scores of a 4-row tile that their queries may not see. */
  private static void maskTile(
      AttentionScratch sc, boolean segmented, float[] s, int sOff, int s0, int p0, int limit) {
    for (int i = 0; i < 4; i++) {
      int pos = p0 + i;
      for (int j = 0; j < KB; j++) {
        int key = s0 + j;
        boolean visible =
            pos < limit && key <= pos && (!segmented || sc.segmentIds[key] == sc.segmentIds[pos]);
        if (!visible) {
          s[sOff + i * KB + j] = NEG_INF;
        }
      }
    }
  }

  /** dst (KB, hsp) = rows [s0, s0 + cols) of head kh, zero elsewhere. */
  static void loadRows(
      float[] dst, MemorySegment src, Dims d, long b, long kh, int s0, int cols, int hsp) {
    int hs = (int) d.hs();
    java.util.Arrays.fill(dst, 0, KB * hsp, 0f);
    for (int j = 0; j < cols; j++) {
      MemorySegment.copy(src, CpuElements.F32, d.kvIndex(b, s0 + j, kh) * 4, dst, j * hsp, hs);
    }
  }

  /** dstT (hs, KB) = rows (KB, hsp) transposed. */
  static void transpose(float[] dstT, float[] rows, int hs, int hsp) {
    for (int j = 0; j < KB; j++) {
      for (int x = 0; x < hs; x++) {
        dstT[x * KB + j] = rows[j * hsp + x];
      }
    }
  }

  /** dst[to .. to + hsp) = c * the HS floats of src at element offset from (pads stay zero). */
  static void loadScaled(
      float[] dst, int to, MemorySegment src, long from, int hs, int hsp, float c) {
    MemorySegment.copy(src, CpuElements.F32, from * 4, dst, to, hs);
    if (c != 1f) {
      CpuAttentionTiles.scaleRow(dst, to, hsp, c);
    }
  }

  /** The HS floats of dst at element offset at += c * src[from ..], through the line buffer. */
  private static void addToMemory(
      MemorySegment dst, long at, float[] src, int from, int hs, int hsp, float c, float[] line) {
    MemorySegment.copy(dst, CpuElements.F32, at * 4, line, 0, hs);
    CpuAttentionTiles.addScaled(line, 0, src, from, hsp, c);
    MemorySegment.copy(line, 0, dst, CpuElements.F32, at * 4, hs);
  }

  /**
   * One forward task with the scores transposed: a block holds KB keys by KB query columns, so the
   * online softmax runs down the columns with whole vectors (no lane reductions), and each loaded
   * key row serves 4 x KB queries. Queries are packed transposed per block of KB, times the scale.
   */
  private static void forwardTask(
      Tensor out,
      Tensor lse,
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor segments,
      float scale,
      Dims d,
      long b,
      long kh,
      int q0) {
    MemorySegment os = out.data(), ls = lse.data(), qs = q.data();
    MemorySegment ks = k.data(), vs = v.data();
    boolean segmented = segments != null;
    int t = (int) d.t(), hs = (int) d.hs(), hsp = padded(hs);
    int group = (int) (d.nh() / d.nkv());
    int n = Math.min(QP, t - q0), rph = (n + KB - 1) / KB * KB, rows = group * rph;
    int limit = q0 + n;
    AttentionScratch sc = AttentionScratch.local();
    sc.startForward(rows, hs, hsp, KB, 1);
    float[] qT = sc.rows, acc = sc.acc, st = sc.scores, kRows = sc.keys, vRows = sc.values;
    float[] max = sc.max, sums = sc.sum, corr = sc.corr, shift = sc.shift;
    float[] line = sc.line = AttentionScratch.grow(sc.line, hsp);
    if (segmented) {
      loadSegments(sc, segments.data(), b, t);
    }
    for (int g = 0; g < group; g++) {
      for (int i = 0; i < n; i++) {
        MemorySegment.copy(
            qs, CpuElements.F32, d.qIndex(b, q0 + i, kh * group + g) * 4, line, 0, hs);
        int at = (g * rph + i / KB * KB) * hs + i % KB; // block (g, i / KB), column i % KB
        for (int x = 0; x < hs; x++) {
          qT[at + x * KB] = line[x] * scale;
        }
      }
    }
    for (int s0 = 0; s0 < limit; s0 += KB) {
      int cols = Math.min(KB, t - s0);
      loadRows(kRows, ks, d, b, kh, s0, cols, hsp);
      loadRows(vRows, vs, d, b, kh, s0, cols, hsp);
      for (int r0 = 0; r0 < rph; r0 += KB) {
        int p0 = q0 + r0;
        if (s0 > p0 + KB - 1) {
          continue; // the whole block lies in the future of these queries
        }
        boolean full = blockFullyVisible(sc, segmented, s0, p0, KB, limit);
        for (int g = 0; g < group; g++) {
          int row = g * rph + r0;
          for (int j = 0; j < KB; j += 4) {
            CpuAttentionTiles.scores4(kRows, j * hsp, hsp, hs, qT, row * hs, st, j * KB);
          }
          if (!full) {
            maskTransposed(sc, segmented, st, s0, p0, limit);
          }
          CpuAttentionTiles.columnMax(st, max, row, corr, shift);
          CpuAttentionTiles.corrections(corr, shift);
          CpuAttentionTiles.columnExp(st, shift, corr, sums, row);
          for (int i = 0; i < KB; i++) {
            if (corr[i] != 1f) {
              CpuAttentionTiles.scaleRow(acc, (row + i) * hsp, hsp, corr[i]);
            }
          }
          for (int i = 0; i < KB; i += 4) { // O += P V, P read down the columns of st
            CpuAttentionTiles.accumulate4(
                acc, (row + i) * hsp, hsp, st, i, 1, KB, vRows, 0, hsp, KB, hsp);
          }
        }
      }
    }
    for (int g = 0; g < group; g++) {
      long h = kh * group + g;
      for (int i = 0; i < n; i++) {
        int row = g * rph + i;
        CpuAttentionTiles.scaleRow(acc, row * hsp, hsp, 1f / sums[row]);
        MemorySegment.copy(acc, row * hsp, os, CpuElements.F32, d.qIndex(b, q0 + i, h) * 4, hs);
        setF32(ls, d.lseIndex(b, h, q0 + i), max[row] + (float) Math.log(sums[row]));
      }
    }
  }

  /**
   * Sets to -inf the entries of a transposed block (key j, query i) that query i may not see: per
   * key row, the queries before the key and those past the limit are runs filled at once; only
   * segment ids need an element-wise test.
   */
  private static void maskTransposed(
      AttentionScratch sc, boolean segmented, float[] st, int s0, int p0, int limit) {
    int real = Math.max(0, Math.min(KB, limit - p0)); // columns before the limit
    for (int j = 0; j < KB; j++) {
      int key = s0 + j, row = j * KB;
      int before = Math.max(0, Math.min(real, key - p0)); // columns whose query precedes the key
      java.util.Arrays.fill(st, row, row + before, NEG_INF);
      java.util.Arrays.fill(st, row + real, row + KB, NEG_INF);
      if (segmented && key < limit) {
        for (int i = before; i < real; i++) {
          if (sc.segmentIds[key] != sc.segmentIds[p0 + i]) {
            st[row + i] = NEG_INF;
          }
        }
      }
    }
  }

  /**
   * Folds one row of a score tile into the running softmax of output row {@code row}: rescales its
   * accumulator when the max grows and leaves the row's probabilities (relative to the new max) in
   * place; a row that sees no key of the block gets zeros.
   */
  static void onlineSoftmax(AttentionScratch sc, float[] s, int off, int row, int hsp) {
    float old = sc.max[row];
    float max = CpuAttentionTiles.rowMaxAbove(s, off, old);
    if (max == NEG_INF) {
      java.util.Arrays.fill(s, off, off + KB, 0f);
      return;
    }
    float correction = 1f;
    if (max != old) {
      correction = CpuVectorMath.exp(old - max); // 0 on the first visible block
      if (old != NEG_INF) {
        CpuAttentionTiles.scaleRow(sc.acc, row * hsp, hsp, correction);
      }
      sc.max[row] = max;
    }
    CpuAttentionTiles.softmaxRow(s, off, max, correction, sc.sum, row * LANES);
  }

  /** Backward over (batch, key/value head). */
  static void backwardBlocked(
      WorkerPool pool,
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
      float scale,
      Dims d) {
    pool.run(
        Math.toIntExact(d.b() * d.nkv()),
        task ->
            backwardTask(
                dq,
                dk,
                dv,
                dout,
                q,
                k,
                v,
                out,
                lse,
                segments,
                scale,
                d,
                task / d.nkv(),
                task % d.nkv()));
  }

  private static void backwardTask(
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
      float scale,
      Dims d,
      long b,
      long kh) {
    MemorySegment dqs = dq.data(), dks = dk.data(), dvs = dv.data(), dos = dout.data();
    MemorySegment qs = q.data(), ks = k.data(), vs = v.data(), os = out.data(), ls = lse.data();
    boolean segmented = segments != null;
    int t = (int) d.t(), hs = (int) d.hs(), hsp = padded(hs);
    int group = (int) (d.nh() / d.nkv());
    int tp = roundUp4(t), rows = group * tp;
    AttentionScratch sc = AttentionScratch.local();
    float[] qRows = sc.rows = AttentionScratch.grow(sc.rows, rows * hsp);
    float[] gRows = sc.grads = AttentionScratch.grow(sc.grads, rows * hsp);
    float[] dqAcc = sc.acc = AttentionScratch.grow(sc.acc, rows * hsp);
    float[] p = sc.scores = AttentionScratch.grow(sc.scores, tp * KB);
    float[] ds = sc.dscores = AttentionScratch.grow(sc.dscores, tp * KB);
    float[] kT = sc.keysT = AttentionScratch.grow(sc.keysT, hs * KB);
    float[] vT = sc.valuesT = AttentionScratch.grow(sc.valuesT, hs * KB);
    float[] kRows = sc.keys = AttentionScratch.grow(sc.keys, KB * hsp);
    float[] vRows = sc.values = AttentionScratch.grow(sc.values, KB * hsp);
    float[] dkB = sc.dkeys = AttentionScratch.grow(sc.dkeys, KB * hsp);
    float[] dvB = sc.dvalues = AttentionScratch.grow(sc.dvalues, KB * hsp);
    float[] rowLse = sc.sum = AttentionScratch.grow(sc.sum, rows);
    float[] delta = sc.delta = AttentionScratch.grow(sc.delta, rows);
    float[] line = sc.line = AttentionScratch.grow(sc.line, hsp);
    if (segmented) {
      loadSegments(sc, segments.data(), b, t);
    }
    java.util.Arrays.fill(qRows, 0, rows * hsp, 0f);
    java.util.Arrays.fill(gRows, 0, rows * hsp, 0f);
    java.util.Arrays.fill(dqAcc, 0, rows * hsp, 0f);
    java.util.Arrays.fill(rowLse, 0, rows, 0f);
    java.util.Arrays.fill(delta, 0, rows, 0f);
    for (int g = 0; g < group; g++) {
      long h = kh * group + g;
      for (int i = 0; i < t; i++) {
        int row = g * tp + i;
        long qo = d.qIndex(b, i, h);
        loadScaled(qRows, row * hsp, qs, qo, hs, hsp, scale);
        loadScaled(gRows, row * hsp, dos, qo, hs, hsp, 1f);
        rowLse[row] = getF32(ls, d.lseIndex(b, h, i));
        MemorySegment.copy(os, CpuElements.F32, qo * 4, line, 0, hs);
        float dot = 0f;
        for (int x = 0; x < hs; x++) {
          dot += gRows[row * hsp + x] * line[x];
        }
        delta[row] = dot;
      }
    }
    for (int s0 = 0; s0 < t; s0 += KB) {
      int cols = Math.min(KB, t - s0);
      loadRows(kRows, ks, d, b, kh, s0, cols, hsp);
      transpose(kT, kRows, hs, hsp);
      loadRows(vRows, vs, d, b, kh, s0, cols, hsp);
      transpose(vT, vRows, hs, hsp);
      java.util.Arrays.fill(dkB, 0, KB * hsp, 0f);
      java.util.Arrays.fill(dvB, 0, KB * hsp, 0f);
      int count = tp - s0; // query rows at or after the block start, padded to 4
      for (int g = 0; g < group; g++) {
        int base = g * tp + s0; // first row of this head's sweep
        for (int r = 0; r < count; r += 4) {
          int row = base + r, at = r * KB;
          CpuAttentionTiles.scores4(qRows, row * hsp, hsp, hs, kT, 0, p, at);
          if (!blockFullyVisible(sc, segmented, s0, s0 + r, 4, t)) {
            maskTile(sc, segmented, p, at, s0, s0 + r, t);
          }
          CpuAttentionTiles.scores4(gRows, row * hsp, hsp, hs, vT, 0, ds, at);
          for (int i = 0; i < 4; i++) {
            CpuAttentionTiles.probabilitiesAndGrad(
                p, ds, at + i * KB, rowLse[row + i], delta[row + i]);
          }
        }
        for (int j = 0; j < KB; j += 4) { // dV += P^T dO, dK += dS^T (scale Q)
          CpuAttentionTiles.accumulate4(
              dvB, j * hsp, hsp, p, j, 1, KB, gRows, base * hsp, hsp, count, hsp);
          CpuAttentionTiles.accumulate4(
              dkB, j * hsp, hsp, ds, j, 1, KB, qRows, base * hsp, hsp, count, hsp);
        }
        for (int r = 0; r < count; r += 4) { // dQ / scale += dS K
          CpuAttentionTiles.accumulate4(
              dqAcc, (base + r) * hsp, hsp, ds, r * KB, KB, 1, kRows, 0, hsp, cols, hsp);
        }
      }
      for (int j = 0; j < cols; j++) {
        long ko = d.kvIndex(b, s0 + j, kh);
        addToMemory(dks, ko, dkB, j * hsp, hs, hsp, 1f, line);
        addToMemory(dvs, ko, dvB, j * hsp, hs, hsp, 1f, line);
      }
    }
    for (int g = 0; g < group; g++) {
      long h = kh * group + g;
      for (int i = 0; i < t; i++) {
        addToMemory(dqs, d.qIndex(b, i, h), dqAcc, (g * tp + i) * hsp, hs, hsp, scale, line);
      }
    }
  }
}
