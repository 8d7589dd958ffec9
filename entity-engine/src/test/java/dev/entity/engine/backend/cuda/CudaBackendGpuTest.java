package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The backend on a real GPU: memory round trips, out-of-memory, and cuBLASLt products against the
 * CPU backend (F32 within 1e-5, BF16 within 1e-2 relative). Skipped with the reason printed where
 * no CUDA device is usable.
 */
@Tag("gpu")
class CudaBackendGpuTest {

  private static Backend gpu;
  private static CpuBackend cpu;

  @BeforeAll
  static void open() {
    // the system probe, not the provider: memory and products need no kernels of ours
    CudaBackendProvider.Probe probe = CudaBackendProvider.systemProbe();
    if (probe.reason() != null) {
      System.out.println("GPU tests skipped: " + probe.reason());
      Assumptions.abort("no usable CUDA device: " + probe.reason());
    }
    gpu = CudaBackendProvider.open(probe);
    cpu = new CpuBackend(1);
    System.out.println("GPU tests on " + ((CudaBackend) gpu).properties());
  }

  @AfterAll
  static void close() {
    if (gpu != null) {
      gpu.close();
    }
    if (cpu != null) {
      cpu.close();
    }
  }

  @Test
  void uploadDownloadZeroAndCopyRoundTrip() {
    Random rnd = new Random(1);
    for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16, DType.I32, DType.U8}) {
      Tensor host = cpu.allocate(dtype, 3, 1001);
      for (long i = 0; i < host.byteSize(); i++) {
        host.data().set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
      }
      Tensor dev = gpu.upload(host);
      assertThat(dev.device()).isEqualTo(gpu.device());
      Tensor back = cpu.allocate(dtype, 3, 1001);
      gpu.download(back, dev);
      assertThat(back.data().mismatch(host.data())).as(dtype.toString()).isEqualTo(-1);

      Tensor copy = gpu.allocate(dtype, 3, 1001);
      gpu.download(back, copy);
      assertThat(back.data().toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
      gpu.convert(copy, dev);
      gpu.zero(dev);
      gpu.download(back, copy);
      assertThat(back.data().mismatch(host.data())).isEqualTo(-1);
      gpu.download(back, dev);
      assertThat(back.data().toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
      gpu.free(dev);
      gpu.free(copy);
    }
    assertThat(gpu.deviceBytesInUse()).isPositive();
    assertThat(gpu.peakDeviceBytes()).isGreaterThanOrEqualTo(gpu.deviceBytesInUse());
  }

  @Test
  void anImpossibleAllocationIsAnOutOfMemoryErrorAndTheBackendStillWorks() {
    assertThatThrownBy(() -> gpu.allocate(DType.F32, 1L << 48))
        .isInstanceOf(CudaOutOfMemoryError.class)
        .isInstanceOf(OutOfMemoryError.class)
        .hasMessageContaining("GPU out of memory");
    Tensor small = gpu.allocate(DType.F32, 16);
    gpu.free(small);
  }

  private static void compareMatmul(
      DType aType, DType bType, boolean transA, boolean transB, boolean accumulate, double tol) {
    MatmulCheck.compare(gpu, cpu, aType, bType, transA, transB, accumulate, 37, 53, 29, tol);
  }

  @Test
  void f32ProductsMatchTheCpuForEveryTransposeWithAndWithoutAccumulate() {
    for (boolean transA : new boolean[] {false, true}) {
      for (boolean transB : new boolean[] {false, true}) {
        for (boolean accumulate : new boolean[] {false, true}) {
          compareMatmul(DType.F32, DType.F32, transA, transB, accumulate, 1e-5);
        }
      }
    }
  }

  @Test
  void bf16ProductsMatchTheCpu() {
    compareMatmul(DType.BF16, DType.BF16, false, true, false, 1e-5); // exact inputs: F32-level
    compareMatmul(DType.BF16, DType.BF16, false, false, true, 1e-5);
    compareMatmul(DType.F16, DType.F16, false, true, false, 1e-5);
  }

  @Test
  void anF32ActivationTimesABf16WeightMatchesWithinBf16Tolerance() {
    try {
      compareMatmul(DType.F32, DType.BF16, false, true, false, 1e-2);
      compareMatmul(DType.F32, DType.BF16, false, false, true, 1e-2);
    } catch (UnsupportedOperationException e) {
      System.out.println("skipped: " + e.getMessage());
      Assumptions.abort(e.getMessage()); // the convert kernel comes from the kernels lane
    }
  }

  @Test
  void emptyAndZeroKProducts() {
    Tensor out = gpu.upload(MatmulCheck.hostRandom(cpu, DType.F32, new Random(3), 4, 5));
    Tensor a = gpu.allocate(DType.F32, 4, 0);
    Tensor b = gpu.allocate(DType.F32, 0, 5);
    gpu.matmul(out, a, b, false, false, 1f, false);
    Tensor got = cpu.allocate(DType.F32, 4, 5);
    gpu.download(got, out);
    assertThat(got.data().toArray(ValueLayout.JAVA_FLOAT)).containsOnly(0f);
  }

  @Test
  void reportsTheDevice() {
    CudaBackend cuda = (CudaBackend) gpu;
    assertThat(cuda.properties().arch()).matches("sm_\\d+");
    long[] info = cuda.memoryInfo();
    assertThat(info[1]).isPositive();
    assertThat(info[0]).isBetween(0L, info[1]);
    assertThat(CudaBackendProvider.gpus()).isNotEmpty();
    Tensor big = cuda.allocate(DType.F32, 1 << 24);
    float ms = cuda.timeMillis(() -> cuda.zero(big));
    assertThat(ms).isPositive().isLessThan(1000f);
    cuda.free(big);
  }
}
