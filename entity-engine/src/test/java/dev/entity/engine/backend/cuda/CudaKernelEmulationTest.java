// Opt-in (-Dentity.cuda.emulate=true): it starts one host thread per emulated CUDA thread and takes
// minutes on a busy 2-core machine, too long for every build.
package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks what the kernels compute on a machine without a GPU: g++ compiles every kernel file as
 * host C++ behind {@code emulation/cuda_shim.h} (threads, barriers and shuffles emulated), and
 * {@code emulation/kernel_checks.cpp} runs them against double-precision references of the CPU
 * backend's contracts. Run with {@code -Dentity.cuda.emulate=true}; skipped otherwise and where g++
 * (C++20) is missing.
 */
class CudaKernelEmulationTest {

  static final String PROPERTY = "entity.cuda.emulate";

  @Test
  void kernelsComputeWhatTheCpuContractsSay(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(
        Boolean.getBoolean(PROPERTY), "opt-in: run with -D" + PROPERTY + "=true (takes minutes)");
    Optional<Path> gxx = onPath("g++");
    Assumptions.assumeTrue(gxx.isPresent(), "g++ is not on PATH");
    copy("emulation/cuda_shim.h", dir.resolve("cuda_shim.h"));
    copy("emulation/kernel_checks.cpp", dir.resolve("kernel_checks.cpp"));
    List<String> objects = new ArrayList<>();
    for (String file : CudaKernelSources.files()) {
      String name = Path.of(file).getFileName().toString();
      Files.writeString(dir.resolve(name), KernelSourceIndex.read(file));
      String object = name + ".o";
      run(
          dir,
          300,
          gxx.get().toString(),
          "-std=c++20",
          "-O2",
          "-ffp-contract=off",
          "-Wno-unknown-pragmas",
          "-include",
          "cuda_shim.h",
          "-x",
          "c++",
          "-c",
          name,
          "-o",
          object);
      objects.add(object);
    }
    List<String> link =
        new ArrayList<>(
            List.of(
                gxx.get().toString(),
                "-std=c++20",
                "-O2",
                "-ffp-contract=off",
                "kernel_checks.cpp"));
    link.addAll(objects);
    link.addAll(List.of("-o", "kernel_checks", "-lpthread"));
    run(dir, 300, link.toArray(String[]::new));
    String output = run(dir, 1200, dir.resolve("kernel_checks").toString());
    System.out.println(output);
    assertThat(output).contains("\n0 failures").doesNotContain("FAIL");
  }

  private static void copy(String resource, Path to) throws IOException {
    try (InputStream in = CudaKernelEmulationTest.class.getResourceAsStream(resource)) {
      assertThat(in).as(resource).isNotNull();
      Files.copy(in, to);
    }
  }

  private static Optional<Path> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String d : path.split(java.io.File.pathSeparator)) {
      Path p = Path.of(d, program);
      if (!d.isEmpty() && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Runs a command in {@code dir}; its output, or an assertion error with it on failure. */
  private static String run(Path dir, long seconds, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " timed out\n" + output);
    }
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
    return output;
  }
}
