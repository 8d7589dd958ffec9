package dev.entity.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.entity.engine.EngineException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * FFM bindings of NVRTC, the CUDA C++ compiler library: one call compiles a source to a cubin for
 * an exact GPU architecture ({@code --gpu-architecture=sm_XY}). A compile error is an {@link
 * EngineException} carrying the compiler's log.
 */
final class Nvrtc {

  private final String library;
  private final MethodHandle nvrtcVersion;
  private final MethodHandle nvrtcCreateProgram;
  private final MethodHandle nvrtcCompileProgram;
  private final MethodHandle nvrtcGetProgramLogSize;
  private final MethodHandle nvrtcGetProgramLog;
  private final MethodHandle nvrtcGetCUBINSize;
  private final MethodHandle nvrtcGetCUBIN;
  private final MethodHandle nvrtcDestroyProgram;
  private final MethodHandle nvrtcGetErrorString;

  private Nvrtc(NativeLibrary lib) {
    library = lib.name();
    FunctionDescriptor intAa = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
    nvrtcVersion = lib.function("nvrtcVersion", intAa);
    nvrtcCreateProgram =
        lib.function(
            "nvrtcCreateProgram",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    nvrtcCompileProgram =
        lib.function(
            "nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    nvrtcGetProgramLogSize = lib.function("nvrtcGetProgramLogSize", intAa);
    nvrtcGetProgramLog = lib.function("nvrtcGetProgramLog", intAa);
    nvrtcGetCUBINSize = lib.function("nvrtcGetCUBINSize", intAa);
    nvrtcGetCUBIN = lib.function("nvrtcGetCUBIN", intAa);
    nvrtcDestroyProgram =
        lib.function("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    nvrtcGetErrorString =
        lib.function("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }

  static Nvrtc load(Path file) {
    return new Nvrtc(NativeLibrary.open(file));
  }

  /** "major.minor" of this NVRTC, part of every cache key. */
  String version() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment major = arena.allocate(JAVA_INT);
      MemorySegment minor = arena.allocate(JAVA_INT);
      check((int) nvrtcVersion.invokeExact(major, minor), "nvrtcVersion");
      return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  /** The options that compile for one architecture, e.g. {@code sm_86}. */
  static List<String> options(String arch) {
    return List.of("--gpu-architecture=" + arch);
  }

  /** Compiles {@code source} (named {@code name} in messages) to a cubin. */
  byte[] compile(String name, String source, List<String> options) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment programOut = arena.allocate(ADDRESS);
      check(
          (int)
              nvrtcCreateProgram.invokeExact(
                  programOut,
                  arena.allocateFrom(source),
                  arena.allocateFrom(name),
                  0,
                  MemorySegment.NULL,
                  MemorySegment.NULL),
          "nvrtcCreateProgram(" + name + ")");
      MemorySegment program = programOut.get(ADDRESS, 0);
      try {
        MemorySegment optionArray = arena.allocate(ADDRESS, Math.max(1, options.size()));
        for (int i = 0; i < options.size(); i++) {
          optionArray.setAtIndex(ADDRESS, i, arena.allocateFrom(options.get(i)));
        }
        int status = (int) nvrtcCompileProgram.invokeExact(program, options.size(), optionArray);
        if (status != 0) {
          throw new EngineException(
              "NVRTC could not compile kernel file "
                  + name
                  + " with "
                  + options
                  + " ("
                  + errorString(status)
                  + "):\n"
                  + log(program, arena).strip());
        }
        MemorySegment size = arena.allocate(JAVA_LONG);
        check((int) nvrtcGetCUBINSize.invokeExact(program, size), "nvrtcGetCUBINSize");
        MemorySegment cubin = arena.allocate(size.get(JAVA_LONG, 0));
        check((int) nvrtcGetCUBIN.invokeExact(program, cubin), "nvrtcGetCUBIN");
        return cubin.toArray(JAVA_BYTE);
      } finally {
        int ignored = (int) nvrtcDestroyProgram.invokeExact(programOut);
      }
    } catch (Throwable t) {
      throw NativeLibrary.rethrow(t);
    }
  }

  private String log(MemorySegment program, Arena arena) throws Throwable {
    MemorySegment size = arena.allocate(JAVA_LONG);
    check((int) nvrtcGetProgramLogSize.invokeExact(program, size), "nvrtcGetProgramLogSize");
    MemorySegment text = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
    check((int) nvrtcGetProgramLog.invokeExact(program, text), "nvrtcGetProgramLog");
    return text.getString(0);
  }

  private String errorString(int status) {
    try {
      return NativeLibrary.cString((MemorySegment) nvrtcGetErrorString.invokeExact(status));
    } catch (Throwable t) {
      return "NVRTC error " + status;
    }
  }

  private void check(int status, String function) {
    if (status == 0) {
      return;
    }
    String text = errorString(status);
    if (status == CudaStatus.NVRTC_OUT_OF_MEMORY) {
      throw CudaStatus.outOfMemory(function, text, " (host memory of " + library + ")");
    }
    throw CudaStatus.failure(function, status, text, "");
  }
}
