package dev.entity.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * FFM bindings of the cuBLASLt functions a matrix product needs: handle, matmul descriptor (compute
 * type, scale type, transposes), matrix layouts, preference (workspace, alignment), heuristic and
 * the product itself. Every status is checked; {@code CUBLAS_STATUS_ALLOC_FAILED} is a {@link
 * CudaOutOfMemoryError}.
 */
final class CublasLt {

  // cublasComputeType_t, cudaDataType_t and attribute enums (cublasLt.h, library_types.h; the same
  // values in CUDA 12 and 13).
  static final int COMPUTE_32F = 68;
  static final int R_32F = 0;
  static final int R_16F = 2;
  static final int R_16BF = 14;
  static final int OP_N = 0;
  static final int OP_T = 1;
  static final int DESC_TRANSA = 3;
  static final int DESC_TRANSB = 4;
  static final int PREF_MAX_WORKSPACE_BYTES = 1;
  static final int PREF_MIN_ALIGNMENT_A_BYTES = 5;

  /** cublasLtMatmulAlgo_t: uint64_t data[8]. */
  static final long ALGO_BYTES = 64;

  /**
   * cublasLtMatmulHeuristicResult_t: {algo (64 bytes), size_t workspaceSize, cublasStatus_t state,
   * float wavesCount, int reserved[4]} = 96 bytes.
   */
  static final StructLayout HEURISTIC_RESULT =
      MemoryLayout.structLayout(
          MemoryLayout.sequenceLayout(8, JAVA_LONG).withName("algo"),
          JAVA_LONG.withName("workspaceSize"),
          JAVA_INT.withName("state"),
          JAVA_FLOAT.withName("wavesCount"),
          MemoryLayout.sequenceLayout(4, JAVA_INT).withName("reserved"));

  private final MethodHandle cublasLtCreate;
  private final MethodHandle cublasLtDestroy;
  private final MethodHandle cublasLtGetVersion;
  private final MethodHandle cublasLtMatmulDescCreate;
  private final MethodHandle cublasLtMatmulDescDestroy;
  private final MethodHandle cublasLtMatmulDescSetAttribute;
  private final MethodHandle cublasLtMatrixLayoutCreate;
  private final MethodHandle cublasLtMatrixLayoutDestroy;
  private final MethodHandle cublasLtMatmulPreferenceCreate;
  private final MethodHandle cublasLtMatmulPreferenceDestroy;
  private final MethodHandle cublasLtMatmulPreferenceSetAttribute;
  private final MethodHandle cublasLtMatmulAlgoGetHeuristic;
  private final MethodHandle cublasLtMatmul;
  private final Optional<MethodHandle> cublasLtGetStatusString;

  private CublasLt(NativeLibrary lib) {
    FunctionDescriptor intA = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    FunctionDescriptor setAttribute =
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG);
    cublasLtCreate = lib.function("cublasLtCreate", intA);
    cublasLtDestroy = lib.function("cublasLtDestroy", intA);
    cublasLtGetVersion = lib.function("cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
    cublasLtMatmulDescCreate =
        lib.function(
            "cublasLtMatmulDescCreate",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    cublasLtMatmulDescDestroy = lib.function("cublasLtMatmulDescDestroy", intA);
    cublasLtMatmulDescSetAttribute = lib.function("cublasLtMatmulDescSetAttribute", setAttribute);
    cublasLtMatrixLayoutCreate =
        lib.function(
            "cublasLtMatrixLayoutCreate",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    cublasLtMatrixLayoutDestroy = lib.function("cublasLtMatrixLayoutDestroy", intA);
    cublasLtMatmulPreferenceCreate = lib.function("cublasLtMatmulPreferenceCreate", intA);
    cublasLtMatmulPreferenceDestroy = lib.function("cublasLtMatmulPreferenceDestroy", intA);
    cublasLtMatmulPreferenceSetAttribute =
        lib.function("cublasLtMatmulPreferenceSetAttribute", setAttribute);
    cublasLtMatmulAlgoGetHeuristic =
        lib.function(
            "cublasLtMatmulAlgoGetHeuristic",
            FunctionDescriptor.of(
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS));
    cublasLtMatmul =
        lib.function(
            "cublasLtMatmul",
            FunctionDescriptor.of(
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    cublasLtGetStatusString =
        lib.optional("cublasLtGetStatusString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }

  static CublasLt load(Path file) {
    return new CublasLt(NativeLibrary.open(file));
  }

  private void check(int status, String function) {
    if (status == 0) {
      return;
    }
    String name = CudaStatus.cublasName(status);
    if (status == CudaStatus.CUBLAS_ALLOC_FAILED) {
      throw CudaStatus.outOfMemory(function, name, "");
    }
    String text = "";
    if (cublasLtGetStatusString.isPresent()) {
      try {
        text =
            NativeLibrary.cString(
                (MemorySegment) cublasLtGetStatusString.get().invokeExact(status));
      } catch (Throwable t) {
        text = "";
      }
    }
    throw CudaStatus.failure(function, status, name, text);
  }

  /** cuBLASLt's version, e.g. 130000 or 120400. */
  long version() {
    try {
      return (long) cublasLtGetVersion.invokeExact();
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  MemorySegment create() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check((int) cublasLtCreate.invokeExact(out), "cublasLtCreate");
      return out.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void destroy(MemorySegment handle) {
    call(cublasLtDestroy, handle, "cublasLtDestroy");
  }

  /** A matmul descriptor with F32 compute and scale, and the two transposes. */
  MemorySegment matmulDesc(boolean transA, boolean transB) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check(
          (int) cublasLtMatmulDescCreate.invokeExact(out, COMPUTE_32F, R_32F),
          "cublasLtMatmulDescCreate");
      MemorySegment desc = out.get(ADDRESS, 0);
      MemorySegment value = arena.allocate(JAVA_INT);
      value.set(JAVA_INT, 0, transA ? OP_T : OP_N);
      check(
          (int) cublasLtMatmulDescSetAttribute.invokeExact(desc, DESC_TRANSA, value, 4L),
          "cublasLtMatmulDescSetAttribute(TRANSA)");
      value.set(JAVA_INT, 0, transB ? OP_T : OP_N);
      check(
          (int) cublasLtMatmulDescSetAttribute.invokeExact(desc, DESC_TRANSB, value, 4L),
          "cublasLtMatmulDescSetAttribute(TRANSB)");
      return desc;
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void destroyMatmulDesc(MemorySegment desc) {
    call(cublasLtMatmulDescDestroy, desc, "cublasLtMatmulDescDestroy");
  }

  /** A column-major layout of {@code rows x cols} elements of {@code type}. */
  MemorySegment layout(int type, long rows, long cols, long ld) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check(
          (int) cublasLtMatrixLayoutCreate.invokeExact(out, type, rows, cols, ld),
          "cublasLtMatrixLayoutCreate");
      return out.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void destroyLayout(MemorySegment layout) {
    call(cublasLtMatrixLayoutDestroy, layout, "cublasLtMatrixLayoutDestroy");
  }

  /**
   * The best algorithm for a product, written into {@code algo} (64 bytes); returns the workspace
   * it needs. {@code alignments} are the byte alignments of A, B, C and D's pointers, so that the
   * heuristic only offers algorithms that can read them.
   */
  long heuristic(
      MemorySegment handle,
      MemorySegment desc,
      MemorySegment layoutA,
      MemorySegment layoutB,
      MemorySegment layoutOut,
      long workspaceBytes,
      int[] alignments,
      MemorySegment algo) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check(
          (int) cublasLtMatmulPreferenceCreate.invokeExact(out), "cublasLtMatmulPreferenceCreate");
      MemorySegment preference = out.get(ADDRESS, 0);
      try {
        MemorySegment value = arena.allocate(JAVA_LONG);
        value.set(JAVA_LONG, 0, workspaceBytes);
        check(
            (int)
                cublasLtMatmulPreferenceSetAttribute.invokeExact(
                    preference, PREF_MAX_WORKSPACE_BYTES, value, 8L),
            "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
        for (int i = 0; i < 4; i++) {
          value.set(JAVA_INT, 0, alignments[i]);
          check(
              (int)
                  cublasLtMatmulPreferenceSetAttribute.invokeExact(
                      preference, PREF_MIN_ALIGNMENT_A_BYTES + i, value, 4L),
              "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT)");
        }
        MemorySegment result = arena.allocate(HEURISTIC_RESULT);
        MemorySegment count = arena.allocate(JAVA_INT);
        check(
            (int)
                cublasLtMatmulAlgoGetHeuristic.invokeExact(
                    handle,
                    desc,
                    layoutA,
                    layoutB,
                    layoutOut,
                    layoutOut,
                    preference,
                    1,
                    result,
                    count),
            "cublasLtMatmulAlgoGetHeuristic");
        if (count.get(JAVA_INT, 0) < 1) {
          throw CudaStatus.failure(
              "cublasLtMatmulAlgoGetHeuristic",
              15,
              "CUBLAS_STATUS_NOT_SUPPORTED",
              "no algorithm for this product (dtypes, shapes or alignment)");
        }
        MemorySegment.copy(result, 0, algo, 0, ALGO_BYTES);
        return result.get(JAVA_LONG, ALGO_BYTES);
      } finally {
        int ignored = (int) cublasLtMatmulPreferenceDestroy.invokeExact(preference);
      }
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** Enqueues {@code D = alpha op(A) op(B) + beta C} on {@code stream} (C and D the same). */
  void matmul(
      MemorySegment handle,
      MemorySegment desc,
      MemorySegment alpha,
      long a,
      MemorySegment layoutA,
      long b,
      MemorySegment layoutB,
      MemorySegment beta,
      long out,
      MemorySegment layoutOut,
      MemorySegment algo,
      long workspace,
      long workspaceBytes,
      MemorySegment stream) {
    try {
      MemorySegment d = MemorySegment.ofAddress(out);
      check(
          (int)
              cublasLtMatmul.invokeExact(
                  handle,
                  desc,
                  alpha,
                  MemorySegment.ofAddress(a),
                  layoutA,
                  MemorySegment.ofAddress(b),
                  layoutB,
                  beta,
                  d,
                  layoutOut,
                  d,
                  layoutOut,
                  algo,
                  MemorySegment.ofAddress(workspace),
                  workspaceBytes,
                  stream),
          "cublasLtMatmul");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  private void call(MethodHandle h, MemorySegment handle, String function) {
    try {
      check((int) h.invokeExact(handle), function);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }
}
