package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole runtime — discovery, the three bindings, context, allocator, kernel modules with the
 * cubin cache, launches and cuBLASLt products — against fake libraries compiled from C in {@code
 * fake/} (host memory stands in for the device). This checks our side of every FFM call: symbol
 * names, argument order and widths, out-parameters, status handling. Where a real {@code cuda.h} is
 * installed the fake driver is compiled against it, so each fake function must match the real
 * declaration. Skipped, with the reason, where no C compiler is on the PATH.
 */
class FakeCudaBackendTest {

  @TempDir static Path dir;

  private static CudaLibraries.Environment env;
  private static CudaBackendProvider.Probe probe;
  private static CudaContext context;
  private static CudaBackend gpu;
  private static CpuBackend cpu;
  private static SymbolLookup fakeDriver;
  private static SymbolLookup fakeNvrtc;
  private static SymbolLookup fakeLt;
  private static boolean checkedAgainstCudaH;

  static final String KERNELS =
      """
      extern "C" __global__ void fake_axpy(float* y, const float* x, long long n, float alpha) {}
      extern "C" __global__ void fake_iota(int* out, int n, int start) {}
      """;

  @BeforeAll
  static void build() throws Exception {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Path cudaH = cudaHeader();
    checkedAgainstCudaH = cudaH != null;
    List<String> driverFlags = new ArrayList<>();
    if (cudaH != null) {
      driverFlags.addAll(
          List.of("-DWITH_CUDA_H", "-I" + cudaH.getParent(), "-Wmissing-prototypes", "-Werror"));
    }
    compile("fake_cuda.c", lib.resolve("libcuda.so.1"), driverFlags);
    compile("fake_cublaslt.c", lib.resolve("libcublasLt.so.12"), List.of("-Werror"));
    compile("fake_nvrtc.c", lib.resolve("libnvrtc.so.12"), List.of("-Werror"));
    env =
        new CudaLibraries.Environment(
            Map.of("LD_LIBRARY_PATH", lib.toString()),
            Files.createDirectories(dir.resolve("root")),
            Files.createDirectories(dir.resolve("home")),
            name -> false);
    probe = CudaBackendProvider.Probe.run(env);
    assertThat(probe.reason()).isNull();
    fakeDriver = SymbolLookup.libraryLookup(lib.resolve("libcuda.so.1"), Arena.global());
    fakeNvrtc = SymbolLookup.libraryLookup(lib.resolve("libnvrtc.so.12"), Arena.global());
    fakeLt = SymbolLookup.libraryLookup(lib.resolve("libcublasLt.so.12"), Arena.global());
    context =
        new CudaContext(
            probe.driver(),
            0,
            probe.nvrtc(),
            new CubinCache(dir.resolve("cache")),
            Map.of(
                "kernels/fake.cu",
                KERNELS,
                "kernels/broken.cu",
                "#error\n__global__ void broken_kernel(int n) {}"));
    gpu = new CudaBackend(context, probe.lt());
    cpu = new CpuBackend(1);
  }

  @AfterAll
  static void close() {
    if (gpu != null) {
      gpu.close();
      assertThat(counter(fakeDriver, "fake_cuda_primary_refs")).as("context released").isZero();
      assertThat(longCounter(fakeDriver, "fake_cuda_used")).as("all device memory freed").isZero();
    }
    if (cpu != null) {
      cpu.close();
    }
  }

  private static Path cudaHeader() throws IOException {
    List<Path> candidates = new ArrayList<>();
    String home = System.getenv("CUDA_HOME");
    if (home != null) {
      candidates.add(Path.of(home, "include/cuda.h"));
    }
    candidates.add(Path.of("/usr/local/cuda/include/cuda.h"));
    if (Files.isDirectory(Path.of("/usr/local"))) {
      try (Stream<Path> s = Files.list(Path.of("/usr/local"))) {
        s.filter(p -> p.getFileName().toString().startsWith("cuda-"))
            .sorted()
            .forEach(p -> candidates.add(p.resolve("targets/x86_64-linux/include/cuda.h")));
      }
    }
    return candidates.stream().filter(Files::isRegularFile).findFirst().orElse(null);
  }

  private static void compile(String source, Path out, List<String> flags) throws Exception {
    Path c = dir.resolve(source);
    try (InputStream in = FakeCudaBackendTest.class.getResourceAsStream("fake/" + source)) {
      Files.copy(in, c);
    }
    List<String> command = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-O1", "-Wall"));
    command.addAll(flags);
    command.addAll(List.of("-o", out.toString(), c.toString()));
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      String reason = "skipped: no C compiler (cc) to build the fake CUDA libraries";
      System.out.println(reason);
      Assumptions.abort(reason);
      return;
    }
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
  }

  /** Calls a test hook of a fake library. */
  private static Object hook(
      SymbolLookup lib, String name, FunctionDescriptor descriptor, Object... args) {
    try {
      MethodHandle h =
          Linker.nativeLinker().downcallHandle(lib.find(name).orElseThrow(), descriptor);
      return h.invokeWithArguments(args);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  private static int counter(SymbolLookup lib, String name) {
    return (int) hook(lib, name, FunctionDescriptor.of(ValueLayout.JAVA_INT));
  }

  private static long longCounter(SymbolLookup lib, String name) {
    return (long) hook(lib, name, FunctionDescriptor.of(ValueLayout.JAVA_LONG));
  }

  /** The alignment the last heuristic was given for cuBLASLt's A, B, C or D. */
  private static int alignment(int operand) {
    return (int)
        hook(
            fakeLt,
            "fake_cublaslt_alignment",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            operand);
  }

  private static void setCapacity(long bytes) {
    hook(
        fakeDriver,
        "fake_cuda_set_capacity",
        FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG),
        bytes);
  }

  private static Tensor hostRandom(DType dtype, Random rnd, long... shape) {
    return MatmulCheck.hostRandom(cpu, dtype, rnd, shape);
  }

  @Test
  void theProbeReadsTheDevice() {
    System.out.println("fake driver compiled against the real cuda.h: " + checkedAgainstCudaH);
    assertThat(probe.devices()).isEqualTo(1);
    assertThat(probe.driver().version()).isEqualTo(12040);
    assertThat(gpu.properties())
        .isEqualTo(new CudaDeviceProperties(0, "Fake GPU 8.6", 8, 6, 4, 1L << 30));
    assertThat(gpu.properties().arch()).isEqualTo("sm_86");
    assertThat(gpu.device().toString()).isEqualTo("cuda:0");
    long[] info = gpu.memoryInfo();
    assertThat(info[1]).isEqualTo(1L << 30);
    assertThat(info[0]).isEqualTo(info[1] - longCounter(fakeDriver, "fake_cuda_used"));
    assertThat(counter(fakeDriver, "fake_cuda_current_set")).isPositive();
    assertThat(probe.nvrtc().version()).isEqualTo("12.4");
    assertThat(probe.lt().version()).isEqualTo(120400);
    int[] ran = {0};
    assertThat(gpu.timeMillis(() -> ran[0]++)).isEqualTo(1.5f); // the fake's fixed event time
    assertThat(ran[0]).isEqualTo(1);
  }

  @Test
  void theProviderRefusesABuildWithoutKernelsSoAutoKeepsTheCpu() {
    String reason = new CudaBackendProvider(env).unavailableReason();
    if (CudaKernelSources.files().isEmpty()) {
      assertThat(reason).contains("no CUDA kernels").contains("--device cpu");
      assertThatThrownBy(() -> new CudaBackendProvider(env).create(0))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("device cuda is not usable here: this build has no CUDA kernels");
    } else {
      assertThat(reason).isNull();
    }
  }

  @Test
  void memoryRoundTripsAndIsZeroedOnAllocation() {
    Random rnd = new Random(5);
    for (DType dtype : DType.values()) {
      Tensor host = cpu.allocate(dtype, 7, 33);
      for (long i = 0; i < host.byteSize(); i++) {
        host.data().set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
      }
      Tensor fresh = gpu.allocate(dtype, 7, 33);
      Tensor back = cpu.allocate(dtype, 7, 33);
      gpu.download(back, fresh);
      assertThat(back.data().toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
      Tensor dev = gpu.upload(host);
      gpu.convert(fresh, dev);
      gpu.zero(dev);
      gpu.download(back, fresh);
      assertThat(back.data().mismatch(host.data())).as(dtype.toString()).isEqualTo(-1);
      gpu.download(back, dev);
      assertThat(back.data().toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
      gpu.free(dev);
      gpu.free(fresh);
    }
    // a view of a device tensor is copied from its own offset
    Tensor host = hostRandom(DType.F32, rnd, 6, 4);
    Tensor dev = gpu.upload(host);
    Tensor rows = cpu.allocate(DType.F32, 2, 4);
    gpu.download(rows, dev.rows(3, 2));
    assertThat(rows.data().mismatch(host.rows(3, 2).data())).isEqualTo(-1);
    gpu.free(dev.rows(3, 2)); // a view is not an allocation: ignored
    gpu.free(dev.rows(0, 2)); // not even one at the allocation's own address
    Tensor stillThere = cpu.allocate(DType.F32, 6, 4);
    gpu.download(stillThere, dev);
    assertThat(stillThere.data().mismatch(host.data())).isEqualTo(-1);
    assertThat(context.allocator().owns(dev.data().address())).isTrue();
    gpu.free(dev);
    assertThatThrownBy(() -> gpu.download(cpu.allocate(DType.F32, 3), gpu.allocate(DType.I32, 3)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> gpu.zero(host)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theAllocatorCachesAndCountsDeviceMemory() {
    long before = gpu.deviceBytesInUse();
    long driverBefore = context.allocator().driverAllocations();
    for (int i = 0; i < 5; i++) {
      Tensor t = gpu.allocate(DType.F32, 1000, 300);
      gpu.free(t);
    }
    assertThat(context.allocator().driverAllocations() - driverBefore).isLessThanOrEqualTo(1);
    assertThat(gpu.deviceBytesInUse()).isGreaterThanOrEqualTo(before);
    assertThat(gpu.deviceBytesInUse()).isGreaterThanOrEqualTo(CudaBackend.WORKSPACE_BYTES);
    assertThat(gpu.peakDeviceBytes()).isGreaterThanOrEqualTo(gpu.deviceBytesInUse());
    assertThat(longCounter(fakeDriver, "fake_cuda_used")).isEqualTo(gpu.deviceBytesInUse());
  }

  @Test
  void outOfMemoryGivesTheCacheBackThenThrowsWhatTheTrainerRetriesOn() {
    Tensor cached = gpu.allocate(DType.U8, 64L << 20);
    gpu.free(cached);
    long used = longCounter(fakeDriver, "fake_cuda_used");
    try {
      setCapacity(used + (32L << 20)); // only 32 MiB left, 64 MiB in the cache
      Tensor big = gpu.allocate(DType.U8, 80L << 20); // fits only once the cache is given back
      gpu.free(big);
      context.allocator().releaseCache();
      assertThatThrownBy(() -> gpu.allocate(DType.U8, 1L << 30))
          .isInstanceOf(CudaOutOfMemoryError.class)
          .isInstanceOf(OutOfMemoryError.class)
          .hasMessageContaining("GPU out of memory allocating 1.00 GiB")
          .hasMessageContaining("cuMemAlloc_v2")
          .hasMessageContaining("CUDA_ERROR_OUT_OF_MEMORY");
    } finally {
      setCapacity(1L << 30);
    }
    Tensor small = gpu.allocate(DType.F32, 4);
    gpu.free(small);
  }

  @Test
  void driverErrorsNameTheFunctionTheErrorAndItsMessage() {
    assertThatThrownBy(() -> probe.driver().free(12345))
        .isInstanceOf(EngineException.class)
        .hasMessage(
            "CUDA call cuMemFree_v2 failed: CUDA_ERROR_INVALID_VALUE (1): invalid argument");
    assertThatThrownBy(() -> probe.driver().device(3))
        .isInstanceOf(EngineException.class)
        .hasMessage("CUDA call cuDeviceGet failed: error 101");
  }

  @Test
  void kernelsCompileOnceLaunchWithTheirArgumentsAndComeFromTheCacheAfterwards() {
    int compilesBefore = counter(fakeNvrtc, "fake_nvrtc_compiles");
    Tensor y = gpu.upload(hostRandom(DType.F32, new Random(1), 1000));
    Tensor x = gpu.upload(hostRandom(DType.F32, new Random(2), 1000));
    Tensor wantY = hostRandom(DType.F32, new Random(1), 1000);
    Tensor hostX = hostRandom(DType.F32, new Random(2), 1000);
    context.launch(
        "fake_axpy",
        LaunchShape.covering(1000, 256),
        new KernelArgs().ptr(y).ptr(x).i64(1000).f32(-0.75f));
    cpu.axpy(wantY, hostX, -0.75f);
    Tensor got = cpu.allocate(DType.F32, 1000);
    gpu.download(got, y);
    assertThat(got.data().toArray(ValueLayout.JAVA_FLOAT))
        .containsExactly(wantY.data().toArray(ValueLayout.JAVA_FLOAT));

    Tensor ids = gpu.allocate(DType.I32, 5);
    context.launch(
        "fake_iota", LaunchShape.covering(5, 32), new KernelArgs().ptr(ids).i32(5).i32(-2));
    Tensor hostIds = cpu.allocate(DType.I32, 5);
    gpu.download(hostIds, ids);
    assertThat(hostIds.data().toArray(ValueLayout.JAVA_INT)).containsExactly(-2, -1, 0, 1, 2);
    assertThat(counter(fakeNvrtc, "fake_nvrtc_compiles") - compilesBefore).isLessThanOrEqualTo(1);

    // a second context on the same cache loads the cubin without compiling
    int compiles = counter(fakeNvrtc, "fake_nvrtc_compiles");
    try (CudaContext second =
        new CudaContext(
            probe.driver(),
            0,
            probe.nvrtc(),
            new CubinCache(dir.resolve("cache")),
            Map.of("kernels/fake.cu", KERNELS))) {
      second.launch(
          "fake_iota", LaunchShape.covering(5, 32), new KernelArgs().ptr(ids).i32(5).i32(10));
      second.synchronize();
    }
    assertThat(counter(fakeNvrtc, "fake_nvrtc_compiles")).isEqualTo(compiles);
    gpu.download(hostIds, ids);
    assertThat(hostIds.data().toArray(ValueLayout.JAVA_INT)).containsExactly(10, 11, 12, 13, 14);
    try (Stream<Path> files = Files.list(dir.resolve("cache"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .allMatch(n -> n.matches("[0-9a-f]{64}\\.cubin"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    gpu.free(x);
    gpu.free(y);
    gpu.free(ids);
  }

  @Test
  void aDamagedCacheEntryIsCompiledAgainAndReplaced() throws IOException {
    Path cacheDir = Files.createDirectories(dir.resolve("damaged-cache"));
    CubinCache cache = new CubinCache(cacheDir);
    Map<String, String> sources = Map.of("kernels/fake.cu", KERNELS);
    String key = CubinCache.key(KERNELS, Nvrtc.options("sm_86"), probe.nvrtc().version(), "sm_86");
    Files.writeString(cache.entry(key), "garbage, not a cubin");
    int compiles = counter(fakeNvrtc, "fake_nvrtc_compiles");
    Tensor ids = gpu.allocate(DType.I32, 3);
    try (CudaContext third = new CudaContext(probe.driver(), 0, probe.nvrtc(), cache, sources)) {
      third.launch(
          "fake_iota", LaunchShape.covering(3, 32), new KernelArgs().ptr(ids).i32(3).i32(7));
      third.synchronize();
    }
    assertThat(counter(fakeNvrtc, "fake_nvrtc_compiles")).isEqualTo(compiles + 1);
    assertThat(Files.readString(cache.entry(key))).startsWith("FAKECUBIN sm_86\n");
    Tensor host = cpu.allocate(DType.I32, 3);
    gpu.download(host, ids);
    assertThat(host.data().toArray(ValueLayout.JAVA_INT)).containsExactly(7, 8, 9);
    gpu.free(ids);
  }

  @Test
  void aCompileErrorShowsTheCompilersLogAndAnUnknownKernelIsNamed() {
    assertThatThrownBy(
            () ->
                context.launch(
                    "broken_kernel", LaunchShape.covering(1, 1), new KernelArgs().i32(1)))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("NVRTC could not compile kernel file kernels/broken.cu")
        .hasMessageContaining("--gpu-architecture=sm_86")
        .hasMessageContaining("NVRTC_ERROR_COMPILATION")
        .hasMessageContaining("error: #error directive");
    assertThatThrownBy(() -> context.launch("nope", LaunchShape.covering(1, 1), new KernelArgs()))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("no CUDA kernel named nope");
  }

  private static void compareMatmul(
      DType type, boolean transA, boolean transB, boolean accumulate, long m, long k, long n) {
    MatmulCheck.compare(gpu, cpu, type, type, transA, transB, accumulate, m, k, n, 1e-6);
  }

  @Test
  void productsMatchTheCpuForEveryTransposeAndDtype() {
    int before = counter(fakeLt, "fake_cublaslt_products");
    for (DType type : new DType[] {DType.F32, DType.BF16, DType.F16}) {
      for (boolean transA : new boolean[] {false, true}) {
        for (boolean transB : new boolean[] {false, true}) {
          for (boolean accumulate : new boolean[] {false, true}) {
            compareMatmul(type, transA, transB, accumulate, 5, 7, 3);
          }
        }
      }
    }
    assertThat(counter(fakeLt, "fake_cublaslt_products") - before).isEqualTo(24);
    // the same shape again reuses its plan: no new heuristic
    int heuristics = counter(fakeLt, "fake_cublaslt_heuristics");
    compareMatmul(DType.F32, false, true, false, 5, 7, 3);
    assertThat(counter(fakeLt, "fake_cublaslt_heuristics")).isEqualTo(heuristics);
  }

  @Test
  void batchedLeadingDimensionsAndUnalignedViewsReachCublasLt() {
    Random rnd = new Random(9);
    Tensor x = hostRandom(DType.F32, rnd, 2, 3, 8); // (B, T, C)
    Tensor w = hostRandom(DType.F32, rnd, 5, 8); // (OC, C)
    Tensor want = cpu.allocate(DType.F32, 2, 3, 5);
    cpu.matmul(want, x, w, false, true, 1f, false);
    Tensor dx = gpu.upload(x);
    Tensor dw = gpu.upload(w);
    Tensor out = gpu.allocate(DType.F32, 2, 3, 5);
    gpu.matmul(out, dx, dw, false, true, 1f, false);
    Tensor got = cpu.allocate(DType.F32, 2, 3, 5);
    gpu.download(got, out);
    assertThat(got.data().toArray(ValueLayout.JAVA_FLOAT))
        .containsExactly(
            want.data().toArray(ValueLayout.JAVA_FLOAT),
            org.assertj.core.data.Offset.offset(1e-5f));
    // one row in: its address is 8 * 4 = 32 bytes past a 256-aligned block
    Tensor view = dx.reshape(6, 8).rows(1, 4);
    Tensor outRows = gpu.allocate(DType.F32, 4, 5);
    gpu.matmul(outRows, view, dw, false, true, 1f, false);
    // the heuristic was told the real alignments: weight and output 256, the view's rows 32
    assertThat(new int[] {alignment(0), alignment(1), alignment(2), alignment(3)})
        .containsExactly(256, 32, 256, 256);
    Tensor gotRows = cpu.allocate(DType.F32, 4, 5);
    gpu.download(gotRows, outRows);
    assertThat(gotRows.data().toArray(ValueLayout.JAVA_FLOAT))
        .containsExactly(
            want.reshape(6, 5).rows(1, 4).data().toArray(ValueLayout.JAVA_FLOAT),
            org.assertj.core.data.Offset.offset(1e-5f));
    for (Tensor t : new Tensor[] {dx, dw, out, outRows}) {
      gpu.free(t);
    }
  }

  @Test
  void mixedOperandsGoThroughTheConvertKernel() {
    Tensor out = gpu.allocate(DType.F32, 2, 3);
    Tensor a = gpu.allocate(DType.F32, 2, 4);
    Tensor b = gpu.allocate(DType.BF16, 3, 4);
    // F32 x BF16 converts a to BF16 with CudaKernelOps.convert first: the kernels lane's skeleton
    // refuses, their kernel is not among this test's fake sources; either way convert was asked.
    assertThatThrownBy(() -> gpu.matmul(out, a, b, false, true, 1f, false))
        .satisfiesAnyOf(
            e ->
                assertThat(e)
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("convert"),
            e ->
                assertThat(e)
                    .isInstanceOf(EngineException.class)
                    .hasMessageContaining("no CUDA kernel named"));
    for (Tensor t : new Tensor[] {out, a, b}) {
      gpu.free(t);
    }
  }
}
