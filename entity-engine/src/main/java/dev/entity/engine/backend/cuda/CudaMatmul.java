// Convention: a plan (descriptor, layouts, chosen algorithm) is made once per distinct product —
// dtypes, transposes, M, N, K and pointer alignments — and reused; a training step repeats the
// same few products, so the heuristic runs only in the first step.
package dev.entity.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Matrix products on one stream through cuBLASLt: row-major {@code out = alpha op(a) op(b) (+ out)}
 * mapped onto column-major by {@link MatmulLayout}, F32 compute and scale, F32 output, A/B operands
 * F32, BF16 or F16 (both the same type; the backend converts a mixed pair first). Alpha and beta
 * live in host memory and are read when the product is enqueued.
 */
final class CudaMatmul implements AutoCloseable {

  private static final int MAX_PLANS = 512;

  private record PlanKey(
      int type, boolean transA, boolean transB, long m, long n, long k, long alignments) {}

  private record Plan(
      MemorySegment desc,
      MemorySegment first,
      MemorySegment second,
      MemorySegment out,
      MemorySegment algo,
      long workspaceBytes) {}

  private final CublasLt lt;
  private final MemorySegment handle;
  private final MemorySegment stream;
  private final long workspace;
  private final long workspaceBytes;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment alpha = arena.allocate(JAVA_FLOAT);
  private final MemorySegment beta = arena.allocate(JAVA_FLOAT);
  private final Map<PlanKey, Plan> plans = new LinkedHashMap<>();

  CudaMatmul(CublasLt lt, MemorySegment stream, long workspace, long workspaceBytes) {
    this.lt = lt;
    this.handle = lt.create();
    this.stream = stream;
    this.workspace = workspace;
    this.workspaceBytes = workspaceBytes;
  }

  /** The cudaDataType of a matrix operand's dtype. */
  static int dataType(dev.entity.engine.tensor.DType dtype) {
    return switch (dtype) {
      case F32 -> CublasLt.R_32F;
      case BF16 -> CublasLt.R_16BF;
      case F16 -> CublasLt.R_16F;
      case I32, U8 ->
          throw new IllegalArgumentException("a matrix operand must be F32, BF16 or F16: " + dtype);
    };
  }

  /** The largest power of two (up to 256) dividing {@code address}: what cuBLASLt may assume. */
  static int alignment(long address) {
    long low = Long.lowestOneBit(address);
    return (int) (address == 0 || low > 256 ? 256 : low);
  }

  /**
   * Enqueues {@code out (M, N) F32 = alpha op(a) op(b) + (accumulate ? out : 0)} where a and b hold
   * elements of {@code type}; device addresses.
   */
  synchronized void run(
      long out,
      long a,
      long b,
      dev.entity.engine.tensor.DType type,
      boolean transA,
      boolean transB,
      long bigM,
      long bigN,
      long bigK,
      float alphaValue,
      boolean accumulate) {
    int dataType = dataType(type);
    // cuBLASLt's A is our b, its B our a (see MatmulLayout); alignments in that order, then C, D.
    int[] alignments = {alignment(b), alignment(a), alignment(out), alignment(out)};
    long packed = alignments[0] | (long) alignments[1] << 16 | (long) alignments[2] << 32;
    PlanKey key = new PlanKey(dataType, transA, transB, bigM, bigN, bigK, packed);
    Plan plan = plans.get(key);
    if (plan == null) {
      plan = plan(key, alignments);
      if (plans.size() >= MAX_PLANS) {
        Map.Entry<PlanKey, Plan> eldest = plans.entrySet().iterator().next();
        destroy(eldest.getValue());
        plans.remove(eldest.getKey());
      }
      plans.put(key, plan);
    }
    alpha.set(JAVA_FLOAT, 0, alphaValue);
    beta.set(JAVA_FLOAT, 0, accumulate ? 1f : 0f);
    lt.matmul(
        handle,
        plan.desc(),
        alpha,
        b,
        plan.first(),
        a,
        plan.second(),
        beta,
        out,
        plan.out(),
        plan.algo(),
        workspace,
        plan.workspaceBytes(),
        stream);
  }

  private Plan plan(PlanKey key, int[] alignments) {
    MatmulLayout l = MatmulLayout.of(key.transA(), key.transB(), key.m(), key.n(), key.k());
    MemorySegment desc = lt.matmulDesc(l.transFirst(), l.transSecond());
    MemorySegment first = lt.layout(key.type(), l.rowsFirst(), l.colsFirst(), l.ldFirst());
    MemorySegment second = lt.layout(key.type(), l.rowsSecond(), l.colsSecond(), l.ldSecond());
    MemorySegment out = lt.layout(CublasLt.R_32F, l.m(), l.n(), l.ldOut());
    MemorySegment algo = arena.allocate(CublasLt.ALGO_BYTES, 8);
    long needed;
    try {
      needed = lt.heuristic(handle, desc, first, second, out, workspaceBytes, alignments, algo);
    } catch (RuntimeException | Error e) {
      destroy(new Plan(desc, first, second, out, algo, 0));
      throw e;
    }
    return new Plan(desc, first, second, out, algo, Math.min(needed, workspaceBytes));
  }

  private void destroy(Plan p) {
    lt.destroyLayout(p.first());
    lt.destroyLayout(p.second());
    lt.destroyLayout(p.out());
    lt.destroyMatmulDesc(p.desc());
  }

  @Override
  public synchronized void close() {
    plans.values().forEach(this::destroy);
    plans.clear();
    lt.destroy(handle);
    arena.close();
  }
}
