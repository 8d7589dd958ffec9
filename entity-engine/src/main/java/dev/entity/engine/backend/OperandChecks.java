package dev.entity.engine.backend;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;

/**
 * The operand checks every backend makes before an op: dtypes, element counts, and the shapes of
 * the attention calls, so the CPU and CUDA backends refuse the same calls with the same messages. A
 * failed check is a programming error in model code, hence IllegalArgumentException.
 */
public final class OperandChecks {

  private OperandChecks() {}

  /** The dimensions of a training attention call (see {@link Backend#attentionForward}). */
  public record AttentionShape(long b, long t, long nh, long nkv, long hs) {}

  /** The dimensions of a decode attention call (see {@link Backend#attentionDecode}). */
  public record DecodeShape(long n, long nh, long nkv, long hs, long cacheRows) {}

  /** Checks q, k, v, out, lse and segments against each other. */
  public static AttentionShape attention(
      Tensor out, Tensor lse, Tensor q, Tensor k, Tensor v, Tensor segments) {
    requireF32(out, lse, q, k, v);
    if (q.rank() != 4 || k.rank() != 4) {
      throw new IllegalArgumentException("q and k must be (B, T, H, HS): q=" + q + " k=" + k);
    }
    long b = q.dim(0), t = q.dim(1), nh = q.dim(2), hs = q.dim(3), nkv = k.dim(2);
    if (nkv == 0 || nh % nkv != 0) {
      throw new IllegalArgumentException("NH=" + nh + " is not a multiple of NKV=" + nkv);
    }
    requireCount(k, b * t * nkv * hs, "k (B, T, NKV, HS)");
    requireCount(v, b * t * nkv * hs, "v (B, T, NKV, HS)");
    requireCount(out, b * t * nh * hs, "out (B, T, NH, HS)");
    requireCount(lse, b * nh * t, "lse (B, NH, T)");
    if (segments != null) {
      requireI32(segments);
      requireCount(segments, b * t, "segments (B, T)");
    }
    return new AttentionShape(b, t, nh, nkv, hs);
  }

  /** Checks the new query rows {@code start ..} against the key/value cache. */
  public static DecodeShape decode(Tensor out, Tensor q, Tensor keys, Tensor values, long start) {
    requireF32(out, q, keys, values);
    if (q.rank() != 3 || keys.rank() != 3) {
      throw new IllegalArgumentException(
          "q must be (N, NH, HS) and keys (S, NKV, HS): q=" + q + " keys=" + keys);
    }
    long n = q.dim(0), nh = q.dim(1), hs = q.dim(2), s = keys.dim(0), nkv = keys.dim(1);
    if (nkv == 0 || nh % nkv != 0 || keys.dim(2) != hs) {
      throw new IllegalArgumentException("keys " + keys + " do not fit queries " + q);
    }
    if (start < 0 || start + n > s) {
      throw new IllegalArgumentException(
          "rows " + start + ".." + (start + n) + " exceed the cache of " + s);
    }
    requireCount(values, s * nkv * hs, "values (S, NKV, HS)");
    requireCount(out, n * nh * hs, "out (N, NH, HS)");
    return new DecodeShape(n, nh, nkv, hs, s);
  }

  /** Every non-null tensor is F32. */
  public static void requireF32(Tensor... ts) {
    for (Tensor t : ts) {
      if (t != null && t.dtype() != DType.F32) {
        throw new IllegalArgumentException("expected an F32 tensor, got " + t);
      }
    }
  }

  public static void requireFloat(Tensor t) {
    if (!t.dtype().isFloat()) {
      throw new IllegalArgumentException("expected an F32, BF16 or F16 tensor, got " + t);
    }
  }

  public static void requireI32(Tensor t) {
    if (t.dtype() != DType.I32) {
      throw new IllegalArgumentException("expected an I32 tensor, got " + t);
    }
  }

  public static void requireCount(Tensor t, long count, String what) {
    if (t.elementCount() != count) {
      throw new IllegalArgumentException(
          what + " must have " + count + " elements, got " + t.elementCount() + ": " + t);
    }
  }

  public static void requireSameCount(Tensor a, Tensor b) {
    requireCount(b, a.elementCount(), "operand " + b);
  }
}
