// The emulated "device" is host memory: a device address is a host address, so scratch is an
// off-heap segment and copyToHost a plain copy. Kernels run synchronously inside launch().
package dev.entity.engine.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A {@link KernelLauncher} that runs our CUDA kernels on the host: g++ compiles every kernel file
 * behind {@code emulation/cuda_shim.h} into one shared library, with a dispatcher generated from
 * the kernels' C signatures, which is called through FFM. Lets {@link CudaKernelOps} be tested end
 * to end, argument plumbing included, without a GPU.
 */
final class EmulatedLauncher implements KernelLauncher {

  /** Kernels without barriers or shuffles run thread after thread on the caller (much faster). */
  private static final Set<String> SERIAL_FILES =
      Set.of("kernels/convert.cu", "kernels/elementwise.cu");

  private static final Set<String> SERIAL_KERNELS =
      Set.of(
          "column_reduce",
          "bias_backward_partials",
          "rmsnorm_backward_dweight_partials",
          "layernorm_backward_params_partials");

  private static MethodHandle launchHandle;

  private final Arena arena = Arena.ofShared();
  private MemorySegment scratch = MemorySegment.NULL;

  EmulatedLauncher() {
    synchronized (EmulatedLauncher.class) {
      if (launchHandle == null) {
        launchHandle = build();
      }
    }
  }

  /** g++ on PATH, or null. */
  static Path gxx() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(java.io.File.pathSeparator)) {
        Path p = Path.of(d, "g++");
        if (!d.isEmpty() && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  @Override
  public void launch(String kernel, LaunchShape shape, KernelArgs args) {
    if (shape.blockY() != 1 || shape.blockZ() != 1 || shape.sharedBytes() != 0) {
      throw new IllegalArgumentException(
          "the emulator runs 1-D blocks without dynamic shared memory");
    }
    List<KernelArgs.Arg> list = args.args();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment slots = call.allocate(ValueLayout.JAVA_LONG, Math.max(1, list.size()));
      for (int i = 0; i < list.size(); i++) {
        long v =
            switch (list.get(i)) {
              case KernelArgs.Pointer p -> p.address();
              case KernelArgs.Int32 x -> x.value();
              case KernelArgs.Int64 x -> x.value();
              case KernelArgs.Float32 x -> Float.floatToRawIntBits(x.value()) & 0xffffffffL;
            };
        slots.setAtIndex(ValueLayout.JAVA_LONG, i, v);
      }
      int rc =
          (int)
              launchHandle.invokeExact(
                  call.allocateFrom(kernel),
                  shape.gridX(),
                  shape.gridY(),
                  shape.gridZ(),
                  shape.blockX(),
                  slots);
      if (rc != 0) {
        throw new IllegalStateException("the emulator has no kernel " + kernel);
      }
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @Override
  public long scratch(long bytes) {
    if (scratch.byteSize() < bytes) {
      scratch = arena.allocate(bytes, 256);
    }
    return scratch.address();
  }

  @Override
  public void copyToHost(MemorySegment host, long deviceAddress, long bytes) {
    MemorySegment.copy(
        MemorySegment.ofAddress(deviceAddress).reinterpret(bytes), 0, host, 0, bytes);
  }

  // ---- building the library -------------------------------------------------------------------

  private static MethodHandle build() {
    Path gxx = gxx();
    if (gxx == null) {
      throw new IllegalStateException("g++ is not on PATH");
    }
    try {
      Path dir = Files.createTempDirectory("cuda-emulation");
      KernelSourceIndex index = new KernelSourceIndex();
      copy("emulation/cuda_shim.h", dir.resolve("cuda_shim.h"));
      List<String> command =
          new ArrayList<>(
              List.of(
                  gxx.toString(),
                  "-std=c++20",
                  "-O2",
                  "-ffp-contract=off",
                  "-fPIC",
                  "-shared",
                  "-Wno-unknown-pragmas",
                  "-o",
                  "libemu.so",
                  "dispatch.cpp"));
      for (String file : CudaKernelSources.files()) {
        String name = Path.of(file).getFileName().toString() + ".cpp";
        Files.writeString(
            dir.resolve(name), "#include \"cuda_shim.h\"\n" + KernelSourceIndex.read(file));
        command.add(name);
      }
      Files.writeString(dir.resolve("dispatch.cpp"), dispatcher(index));
      Process p =
          new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("g++ failed:\n" + output);
      }
      SymbolLookup lib = SymbolLookup.libraryLookup(dir.resolve("libemu.so"), Arena.global());
      return Linker.nativeLinker()
          .downcallHandle(
              lib.find("emu_launch").orElseThrow(),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT,
                  ValueLayout.ADDRESS,
                  ValueLayout.JAVA_INT,
                  ValueLayout.JAVA_INT,
                  ValueLayout.JAVA_INT,
                  ValueLayout.JAVA_INT,
                  ValueLayout.ADDRESS));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void copy(String resource, Path to) throws IOException {
    try (InputStream in = EmulatedLauncher.class.getResourceAsStream(resource)) {
      Files.copy(in, to);
    }
  }

  /** C++ that declares every kernel and calls it by name with its arguments cast from slots. */
  static String dispatcher(KernelSourceIndex index) {
    StringBuilder decls = new StringBuilder("#include \"cuda_shim.h\"\n#include <cstring>\n");
    StringBuilder body =
        new StringBuilder(
            "extern \"C\" int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz,"
                + " unsigned bx, const long long* s) {\n  dim3 grid{gx, gy, gz};\n");
    for (Map.Entry<String, String> e : index.parameters.entrySet()) {
      String name = e.getKey();
      decls
          .append("extern \"C\" void ")
          .append(name)
          .append('(')
          .append(e.getValue())
          .append(");\n");
      List<String> casts = new ArrayList<>();
      String[] params = e.getValue().split(",");
      for (int i = 0; i < params.length; i++) {
        String p = params[i].strip();
        String type = p.substring(0, p.lastIndexOf(' ')).strip();
        casts.add(
            switch (index.kernels.get(name).get(i)) {
              case POINTER -> "(" + type + ")(intptr_t)s[" + i + "]";
              case INT32 -> "(int)s[" + i + "]";
              case INT64 -> "(long long)s[" + i + "]";
              case FLOAT32 -> "__uint_as_float((unsigned)s[" + i + "])";
            });
      }
      boolean serial =
          SERIAL_FILES.contains(index.fileOf.get(name)) || SERIAL_KERNELS.contains(name);
      body.append("  if (!strcmp(name, \"")
          .append(name)
          .append("\")) { ")
          .append(serial ? "run_serial" : "launch")
          .append("(grid, bx, [&] { ")
          .append(name)
          .append('(')
          .append(String.join(", ", casts))
          .append("); }); return 0; }\n");
    }
    return decls.append(body).append("  return -1;\n}\n").toString();
  }
}
