// Runs without a GPU: nvcc compiles the kernel files for every target architecture, and a
// recording launcher checks that what CudaKernelOps launches matches the kernels' C signatures.
package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.entity.engine.quant.DynamicMap;
import dev.entity.engine.quant.Nf4;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compile-checks every CUDA kernel with {@code nvcc} for sm_80, sm_86, sm_89 and sm_90 (warnings
 * are errors), and checks without a GPU that every kernel {@link CudaKernelOps} launches exists
 * with the argument kinds it is given, that the launch constants and lookup tables agree with the
 * Java side, and that bad operands are refused before anything is launched. Where nvcc is missing
 * the compile check fails under CI (environment variable CI=true) and is skipped elsewhere.
 */
class CudaKernelCompileTest {

  static final List<String> ARCHITECTURES = List.of("80", "86", "89", "90");

  private static final KernelSourceIndex INDEX = new KernelSourceIndex();

  // ---- nvcc ------------------------------------------------------------------------------------

  /** nvcc from PATH, CUDA_HOME/bin or /usr/local/cuda* /bin (newest first). */
  static Optional<Path> findNvcc() {
    List<Path> candidates = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, "nvcc"));
        }
      }
    }
    for (String env : List.of("CUDA_HOME", "CUDA_PATH")) {
      String home = System.getenv(env);
      if (home != null && !home.isEmpty()) {
        candidates.add(Path.of(home, "bin", "nvcc"));
      }
    }
    try (Stream<Path> dirs = Files.list(Path.of("/usr/local"))) {
      dirs.filter(d -> d.getFileName().toString().startsWith("cuda"))
          .sorted(Comparator.reverseOrder())
          .forEach(d -> candidates.add(d.resolve("bin").resolve("nvcc")));
    } catch (IOException e) {
      // no /usr/local: nothing more to look at
    }
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  @Test
  void everyKernelFileCompilesWithNvccForEveryArchitecture(@TempDir Path dir) throws Exception {
    Optional<Path> nvcc = findNvcc();
    if (nvcc.isEmpty()) {
      String reason = "nvcc not found on PATH, in CUDA_HOME/bin or /usr/local/cuda*/bin";
      if ("true".equals(System.getenv("CI"))) {
        fail(reason + ": CI must compile every kernel (install the CUDA toolkit's nvcc)");
      }
      System.out.println("skipping the nvcc compile check: " + reason);
      Assumptions.abort(reason);
    }
    Map<String, Process> running = new LinkedHashMap<>();
    for (String file : CudaKernelSources.files()) {
      String name = Path.of(file).getFileName().toString();
      Path source = dir.resolve(name);
      Files.writeString(source, INDEX.sources.get(file), StandardCharsets.UTF_8);
      List<String> command = new ArrayList<>(List.of(nvcc.get().toString(), "-fatbin"));
      for (String arch : ARCHITECTURES) {
        command.add("-gencode=arch=compute_" + arch + ",code=sm_" + arch);
      }
      command.addAll(
          List.of(
              "-Werror",
              "all-warnings",
              "-o",
              dir.resolve(name + ".fatbin").toString(),
              source.toString()));
      running.put(
          file,
          new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start());
    }
    List<String> failures = new ArrayList<>();
    for (Map.Entry<String, Process> e : running.entrySet()) {
      Process p = e.getValue();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(170, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        failures.add(e.getKey() + ": nvcc timed out");
      } else if (p.exitValue() != 0) {
        failures.add(e.getKey() + ": nvcc exit " + p.exitValue() + "\n" + output);
      }
    }
    assertThat(failures).as("nvcc (%s)", nvcc.get()).isEmpty();
    for (String file : CudaKernelSources.files()) {
      assertThat(dir.resolve(Path.of(file).getFileName() + ".fatbin")).isNotEmptyFile();
    }
  }

  // ---- the sources as text ---------------------------------------------------------------------

  @Test
  void everyFileIsSelfContainedAndKernelNamesAreUnique() {
    assertThat(CudaKernelSources.files()).isNotEmpty();
    for (Map.Entry<String, String> e : INDEX.sources.entrySet()) {
      assertThat(e.getValue()).as(e.getKey()).doesNotContain("#include");
    }
    assertThat(INDEX.duplicates).as("kernel names defined twice").isEmpty();
    assertThat(INDEX.kernels).hasSizeGreaterThan(30);
  }

  @Test
  void launchConstantsAgreeWithTheSources() {
    String reductions = "kernels/reductions.cu";
    String attention = "kernels/attention.cu";
    assertThat(INDEX.define(reductions, "ROW_THREADS")).isEqualTo(CudaKernelOps.ROW_THREADS);
    assertThat(INDEX.define(reductions, "COL_CHUNK")).isEqualTo(CudaKernelOps.COL_CHUNK);
    assertThat(INDEX.define(reductions, "SUM_CHUNK")).isEqualTo(CudaKernelOps.SUM_CHUNK);
    assertThat(INDEX.define(attention, "HS_MAX")).isEqualTo(CudaKernelOps.HS_MAX);
    assertThat(INDEX.define(attention, "BK")).isEqualTo(CudaKernelOps.BK);
    assertThat(INDEX.define(attention, "KV_WARPS")).isEqualTo(CudaKernelOps.KV_WARPS);
    assertThat(INDEX.define(attention, "DEC_WARPS")).isEqualTo(CudaKernelOps.DEC_WARPS);
    assertThat(INDEX.define(attention, "FWD_WARPS") * INDEX.define(attention, "FWD_RPW"))
        .isEqualTo(CudaKernelOps.FWD_ROWS);
    assertThat(INDEX.define(attention, "DQ_WARPS") * INDEX.define(attention, "DQ_RPW"))
        .isEqualTo(CudaKernelOps.DQ_ROWS);
  }

  @Test
  void lookupTablesAreTheJavaTablesBitForBit() {
    float[] nf4 = INDEX.constantTable("kernels/convert.cu", "NF4_BITS");
    float[] dynamic = INDEX.constantTable("kernels/convert.cu", "DYNAMIC_BITS");
    assertThat(nf4).containsExactly(Nf4.codebook());
    assertThat(dynamic).containsExactly(DynamicMap.values());
  }

  // ---- what CudaKernelOps launches -------------------------------------------------------------

  @Test
  void everyLaunchNamesAKernelWithMatchingParameterKinds() {
    RecordingLauncher rec = new RecordingLauncher();
    OpDriver.runEveryOp(new CudaKernelOps(rec), rec);
    assertThat(rec.launches).isNotEmpty();
    TreeSet<String> launched = new TreeSet<>();
    for (RecordingLauncher.Launch l : rec.launches) {
      launched.add(l.kernel());
      assertThat(INDEX.kernels).as("kernel %s in the sources", l.kernel()).containsKey(l.kernel());
      List<KernelSourceIndex.Kind> given = l.args().stream().map(KernelSourceIndex::kind).toList();
      assertThat(given).as("arguments of %s", l.kernel()).isEqualTo(INDEX.kernels.get(l.kernel()));
      LaunchShape s = l.shape();
      assertThat(s.blockX() * s.blockY() * s.blockZ()).as(l.kernel()).isBetween(32, 1024);
      assertThat(s.gridY()).as(l.kernel()).isLessThanOrEqualTo(65535);
      assertThat(s.gridZ()).as(l.kernel()).isLessThanOrEqualTo(65535);
      assertThat(s.sharedBytes()).as(l.kernel()).isZero(); // all shared memory is static
    }
    assertThat(launched).as("kernels never launched").containsAll(INDEX.kernels.keySet());
  }

  @Test
  void everyBackendKernelOpHasAMethodOfTheSameSignature() throws NoSuchMethodException {
    int ops = 0;
    for (java.lang.reflect.Method m : dev.entity.engine.backend.Backend.class.getMethods()) {
      if (EmulatedCudaBackend.NOT_KERNEL_OPS.contains(m.getName())) {
        continue;
      }
      java.lang.reflect.Method op =
          CudaKernelOps.class.getMethod(m.getName(), m.getParameterTypes());
      assertThat(op.getReturnType()).as(m.getName()).isEqualTo(m.getReturnType());
      ops++;
    }
    assertThat(ops).isGreaterThan(25);
  }

  @Test
  void everyKernelNamedInTheJavaSourceExists() throws IOException {
    Path source = Path.of("src/main/java/dev/entity/engine/backend/cuda/CudaKernelOps.java");
    Assumptions.assumeTrue(Files.exists(source), "run from the entity-engine module folder");
    Matcher m =
        Pattern.compile("(?:launch|elementwise)\\(\\s*\"(\\w+)\"")
            .matcher(Files.readString(source));
    List<String> named = new ArrayList<>();
    while (m.find()) {
      named.add(m.group(1));
    }
    assertThat(named).hasSizeGreaterThan(20);
    assertThat(INDEX.kernels.keySet()).containsAll(named);
  }

  @Test
  void rowKernelsGetExactlyTheirBlockSize() {
    RecordingLauncher rec = new RecordingLauncher();
    OpDriver.runEveryOp(new CudaKernelOps(rec), rec);
    for (RecordingLauncher.Launch l : rec.launches) {
      int threads = l.shape().blockX();
      switch (l.kernel()) {
        case "rmsnorm_forward",
            "rmsnorm_backward_dx",
            "layernorm_forward",
            "layernorm_backward_dx",
            "cross_entropy_forward_backward",
            "sum_partials",
            "sum_final" ->
            assertThat(threads).as(l.kernel()).isEqualTo(CudaKernelOps.ROW_THREADS);
        case "attention_forward", "attention_backward_dq", "attention_backward_delta" ->
            assertThat(threads).as(l.kernel()).isEqualTo(128);
        case "attention_backward_dkv" ->
            assertThat(threads).as(l.kernel()).isEqualTo(CudaKernelOps.KV_WARPS * 32);
        case "attention_decode" ->
            assertThat(threads).as(l.kernel()).isEqualTo(CudaKernelOps.DEC_WARPS * 32);
        default -> assertThat(threads).as(l.kernel()).isPositive();
      }
    }
  }

  @Test
  void badOperandsAreRefusedBeforeAnyLaunch() {
    RecordingLauncher rec = new RecordingLauncher();
    CudaKernelOps ops = new CudaKernelOps(rec);
    Tensor x = rec.tensor(DType.F32, 4, 8);
    try (Arena arena = Arena.ofConfined()) {
      Tensor host =
          new Tensor(
              DType.F32,
              new long[] {4, 8},
              arena.allocate(128),
              dev.entity.engine.tensor.Device.CPU);
      assertThatThrownBy(() -> ops.add(x, x, host))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("host tensor");
    }
    assertThatThrownBy(() -> ops.add(x, x, rec.tensor(DType.BF16, 4, 8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("F32");
    assertThatThrownBy(() -> ops.axpy(x, rec.tensor(DType.F32, 4, 9), 1f))
        .hasMessageContaining("32 elements");
    assertThatThrownBy(() -> ops.dropout(x, x, 1f, 1)).hasMessageContaining("[0, 1)");
    Tensor q = rec.tensor(DType.F32, 1, 4, 2, 256);
    Tensor lse = rec.tensor(DType.F32, 1, 2, 4);
    assertThatThrownBy(() -> ops.attentionForward(q, lse, q, q, q, null, 1f))
        .hasMessageContaining("head size 256");
    Tensor q3 = rec.tensor(DType.F32, 1, 2, 16);
    Tensor kv2 = rec.tensor(DType.F32, 4, 2, 16);
    assertThatThrownBy(
            () ->
                ops.attentionForward(
                    rec.tensor(DType.F32, 1, 4, 3, 16),
                    rec.tensor(DType.F32, 1, 3, 4),
                    rec.tensor(DType.F32, 1, 4, 3, 16),
                    rec.tensor(DType.F32, 1, 4, 2, 16),
                    rec.tensor(DType.F32, 1, 4, 2, 16),
                    null,
                    1f))
        .hasMessageContaining("NKV=2");
    assertThatThrownBy(() -> ops.attentionDecode(q3.reshape(1, 2, 16), q3, kv2, kv2, 4, 1f))
        .hasMessageContaining("exceed the cache");
    assertThatThrownBy(() -> ops.adamw(x, x, x, x, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1f, 0))
        .hasMessageContaining("step counts from 1");
    assertThatThrownBy(
            () ->
                ops.nf4Dequantize(
                    rec.tensor(DType.F32, 128), rec.tensor(DType.U8, 63), rec.tensor(DType.F32, 2)))
        .hasMessageContaining("packed NF4 codes");
    assertThatThrownBy(() -> ops.convert(rec.tensor(DType.I32, 4, 8), x))
        .hasMessageContaining("F32, BF16 or F16");
    assertThat(rec.launches).isEmpty();
  }

  @Test
  void emptyTensorsLaunchNothing() {
    RecordingLauncher rec = new RecordingLauncher();
    CudaKernelOps ops = new CudaKernelOps(rec);
    Tensor empty = rec.tensor(DType.F32, 0, 8);
    ops.add(empty, empty, empty);
    ops.zero(empty);
    ops.geluForward(empty, empty);
    assertThat(ops.sum(empty)).isZero();
    ops.crossEntropyForwardBackward(
        rec.tensor(DType.F32, 0), empty, rec.tensor(DType.I32, 0), -100, 1f);
    assertThat(rec.launches).isEmpty();
  }
}
