// Convention: handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction) are MemorySegment
// addresses; device pointers (CUdeviceptr) and sizes (size_t) are longs; CUdevice is an int.
package dev.entity.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * FFM bindings of the CUDA driver API functions this backend uses, each call checked: a failure is
 * an {@link dev.entity.engine.EngineException} with the function, the driver's error name and its
 * message, and {@code CUDA_ERROR_OUT_OF_MEMORY} is a {@link CudaOutOfMemoryError}. Versioned
 * symbols ({@code _v2}) are bound by their exported names, as {@code cuda.h} maps them; the primary
 * context is used rather than {@code cuCtxCreate}, whose signature changed in CUDA 13.
 */
final class CudaDriver {

  static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
  static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
  static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
  static final int STREAM_NON_BLOCKING = 1;
  static final int EVENT_DEFAULT = 0;

  private static final FunctionDescriptor I_I = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
  private static final FunctionDescriptor I_A = FunctionDescriptor.of(JAVA_INT, ADDRESS);
  private static final FunctionDescriptor I_AI = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT);
  private static final FunctionDescriptor I_AA = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);

  private final String library;
  private final MethodHandle cuInit;
  private final MethodHandle cuDriverGetVersion;
  private final MethodHandle cuDeviceGetCount;
  private final MethodHandle cuDeviceGet;
  private final MethodHandle cuDeviceGetName;
  private final MethodHandle cuDeviceGetAttribute;
  private final MethodHandle cuDeviceTotalMem;
  private final MethodHandle cuDevicePrimaryCtxRetain;
  private final MethodHandle cuDevicePrimaryCtxRelease;
  private final MethodHandle cuCtxSetCurrent;
  private final MethodHandle cuStreamCreate;
  private final MethodHandle cuStreamSynchronize;
  private final MethodHandle cuStreamDestroy;
  private final MethodHandle cuEventCreate;
  private final MethodHandle cuEventRecord;
  private final MethodHandle cuEventSynchronize;
  private final MethodHandle cuEventElapsedTime;
  private final MethodHandle cuEventDestroy;
  private final MethodHandle cuMemAlloc;
  private final MethodHandle cuMemFree;
  private final MethodHandle cuMemcpyHtoDAsync;
  private final MethodHandle cuMemcpyDtoHAsync;
  private final MethodHandle cuMemcpyDtoDAsync;
  private final MethodHandle cuMemsetD8Async;
  private final MethodHandle cuMemGetInfo;
  private final MethodHandle cuModuleLoadData;
  private final MethodHandle cuModuleGetFunction;
  private final MethodHandle cuModuleUnload;
  private final MethodHandle cuLaunchKernel;
  private final MethodHandle cuGetErrorName;
  private final MethodHandle cuGetErrorString;

  private CudaDriver(NativeLibrary lib) {
    library = lib.name();
    cuInit = lib.function("cuInit", I_I);
    cuDriverGetVersion = lib.function("cuDriverGetVersion", I_A);
    cuDeviceGetCount = lib.function("cuDeviceGetCount", I_A);
    cuDeviceGet = lib.function("cuDeviceGet", I_AI);
    cuDeviceGetName =
        lib.function(
            "cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    cuDeviceGetAttribute =
        lib.function(
            "cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    cuDeviceTotalMem = lib.function("cuDeviceTotalMem_v2", I_AI);
    cuDevicePrimaryCtxRetain = lib.function("cuDevicePrimaryCtxRetain", I_AI);
    cuDevicePrimaryCtxRelease = lib.function("cuDevicePrimaryCtxRelease_v2", I_I);
    cuCtxSetCurrent = lib.function("cuCtxSetCurrent", I_A);
    cuStreamCreate = lib.function("cuStreamCreate", I_AI);
    cuStreamSynchronize = lib.function("cuStreamSynchronize", I_A);
    cuStreamDestroy = lib.function("cuStreamDestroy_v2", I_A);
    cuEventCreate = lib.function("cuEventCreate", I_AI);
    cuEventRecord = lib.function("cuEventRecord", I_AA);
    cuEventSynchronize = lib.function("cuEventSynchronize", I_A);
    // CUDA 13's cuda.h maps cuEventElapsedTime to _v2; drivers before 12.8 export only the old one.
    cuEventElapsedTime =
        lib.firstOf(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
            "cuEventElapsedTime_v2",
            "cuEventElapsedTime");
    cuEventDestroy = lib.function("cuEventDestroy_v2", I_A);
    cuMemAlloc = lib.function("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    cuMemFree = lib.function("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    cuMemcpyHtoDAsync =
        lib.function(
            "cuMemcpyHtoDAsync_v2",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
    cuMemcpyDtoHAsync =
        lib.function(
            "cuMemcpyDtoHAsync_v2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    cuMemcpyDtoDAsync =
        lib.function(
            "cuMemcpyDtoDAsync_v2",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
    cuMemsetD8Async =
        lib.function(
            "cuMemsetD8Async",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
    cuMemGetInfo = lib.function("cuMemGetInfo_v2", I_AA);
    cuModuleLoadData = lib.function("cuModuleLoadData", I_AA);
    cuModuleGetFunction =
        lib.function(
            "cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    cuModuleUnload = lib.function("cuModuleUnload", I_A);
    cuLaunchKernel =
        lib.function(
            "cuLaunchKernel",
            FunctionDescriptor.of(
                JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    cuGetErrorName =
        lib.function("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    cuGetErrorString =
        lib.function("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
  }

  /** Binds every function from the driver library at {@code file}. */
  static CudaDriver load(Path file) {
    return new CudaDriver(NativeLibrary.open(file));
  }

  String library() {
    return library;
  }

  // ---- checking -------------------------------------------------------------------------------

  private void check(int code, String function) {
    if (code == 0) {
      return;
    }
    String name = errorText(cuGetErrorName, code);
    if (code == CudaStatus.DRIVER_OUT_OF_MEMORY) {
      throw CudaStatus.outOfMemory(function, name, "");
    }
    throw CudaStatus.failure(function, code, name, errorText(cuGetErrorString, code));
  }

  private static String errorText(MethodHandle h, int code) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      int status = (int) h.invokeExact(code, out);
      return status == 0 ? NativeLibrary.cString(out.get(ADDRESS, 0)) : "";
    } catch (Throwable t) {
      return "";
    }
  }

  // ---- devices --------------------------------------------------------------------------------

  void init() {
    try {
      check((int) cuInit.invokeExact(0), "cuInit");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** The driver's CUDA version, e.g. 12040 for 12.4. */
  int version() {
    return intOut(cuDriverGetVersion, "cuDriverGetVersion");
  }

  int deviceCount() {
    return intOut(cuDeviceGetCount, "cuDeviceGetCount");
  }

  private int intOut(MethodHandle h, String function) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_INT);
      check((int) h.invokeExact(out), function);
      return out.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** The CUdevice of {@code ordinal}. */
  int device(int ordinal) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_INT);
      check((int) cuDeviceGet.invokeExact(out, ordinal), "cuDeviceGet");
      return out.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  String deviceName(int device) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(256);
      check((int) cuDeviceGetName.invokeExact(out, 256, device), "cuDeviceGetName");
      return out.getString(0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  int attribute(int attribute, int device) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_INT);
      check((int) cuDeviceGetAttribute.invokeExact(out, attribute, device), "cuDeviceGetAttribute");
      return out.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  long totalMemory(int device) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_LONG);
      check((int) cuDeviceTotalMem.invokeExact(out, device), "cuDeviceTotalMem_v2");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** {free, total} bytes of the current context's device. */
  long[] memoryInfo() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment free = arena.allocate(JAVA_LONG);
      MemorySegment total = arena.allocate(JAVA_LONG);
      check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo_v2");
      return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  // ---- context and stream ---------------------------------------------------------------------

  MemorySegment retainPrimaryContext(int device) {
    return handleOut(cuDevicePrimaryCtxRetain, device, "cuDevicePrimaryCtxRetain");
  }

  void releasePrimaryContext(int device) {
    try {
      check((int) cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease_v2");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void setCurrent(MemorySegment context) {
    call(cuCtxSetCurrent, context, "cuCtxSetCurrent");
  }

  MemorySegment createStream() {
    return handleOut(cuStreamCreate, STREAM_NON_BLOCKING, "cuStreamCreate");
  }

  void synchronize(MemorySegment stream) {
    call(cuStreamSynchronize, stream, "cuStreamSynchronize");
  }

  void destroyStream(MemorySegment stream) {
    call(cuStreamDestroy, stream, "cuStreamDestroy_v2");
  }

  MemorySegment createEvent() {
    return handleOut(cuEventCreate, EVENT_DEFAULT, "cuEventCreate");
  }

  void record(MemorySegment event, MemorySegment stream) {
    try {
      check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** Milliseconds between two recorded events, after waiting for the second. */
  float elapsedMillis(MemorySegment start, MemorySegment end) {
    call(cuEventSynchronize, end, "cuEventSynchronize");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_FLOAT);
      check((int) cuEventElapsedTime.invokeExact(out, start, end), "cuEventElapsedTime");
      return out.get(JAVA_FLOAT, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void destroyEvent(MemorySegment event) {
    call(cuEventDestroy, event, "cuEventDestroy_v2");
  }

  private MemorySegment handleOut(MethodHandle h, int argument, String function) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check((int) h.invokeExact(out, argument), function);
      return out.get(ADDRESS, 0);
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

  // ---- memory ---------------------------------------------------------------------------------

  /** A new device allocation; {@link CudaOutOfMemoryError} when the device has no room. */
  long malloc(long bytes) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_LONG);
      check((int) cuMemAlloc.invokeExact(out, bytes), "cuMemAlloc_v2");
      return out.get(JAVA_LONG, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void free(long pointer) {
    try {
      check((int) cuMemFree.invokeExact(pointer), "cuMemFree_v2");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void copyHostToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
    try {
      check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void copyDeviceToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
    try {
      check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void copyDeviceToDevice(long dst, long src, long bytes, MemorySegment stream) {
    try {
      check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void fill(long dst, byte value, long bytes, MemorySegment stream) {
    try {
      check((int) cuMemsetD8Async.invokeExact(dst, value, bytes, stream), "cuMemsetD8Async");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  // ---- modules and launches -------------------------------------------------------------------

  /** Loads a cubin image (host memory) into the current context. */
  MemorySegment loadModule(MemorySegment image) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check((int) cuModuleLoadData.invokeExact(out, image), "cuModuleLoadData");
      return out.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** The kernel {@code name} of {@code module}. */
  MemorySegment function(MemorySegment module, String name) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      check(
          (int) cuModuleGetFunction.invokeExact(out, module, arena.allocateFrom(name)),
          "cuModuleGetFunction(" + name + ")");
      return out.get(ADDRESS, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  void unloadModule(MemorySegment module) {
    call(cuModuleUnload, module, "cuModuleUnload");
  }

  /** Enqueues {@code function} with a {@code void**} parameter block (see {@link KernelParams}). */
  void launch(
      MemorySegment function,
      LaunchShape shape,
      MemorySegment stream,
      MemorySegment params,
      String name) {
    try {
      check(
          (int)
              cuLaunchKernel.invokeExact(
                  function,
                  shape.gridX(),
                  shape.gridY(),
                  shape.gridZ(),
                  shape.blockX(),
                  shape.blockY(),
                  shape.blockZ(),
                  shape.sharedBytes(),
                  stream,
                  params,
                  MemorySegment.NULL),
          "cuLaunchKernel(" + name + ")");
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }
}
