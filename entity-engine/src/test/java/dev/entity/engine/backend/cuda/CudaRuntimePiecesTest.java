package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.DType;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The small pure parts of the runtime: status mapping, kernel index, operand types. */
class CudaRuntimePiecesTest {

  @Test
  void failuresNameFunctionErrorAndMessage() {
    RuntimeException e =
        CudaStatus.failure(
            "cuLaunchKernel(rmsnorm_forward)",
            700,
            "CUDA_ERROR_ILLEGAL_ADDRESS",
            "an illegal memory access was encountered");
    assertThat(e).isInstanceOf(EngineException.class);
    assertThat(e.getMessage())
        .isEqualTo(
            "CUDA call cuLaunchKernel(rmsnorm_forward) failed: CUDA_ERROR_ILLEGAL_ADDRESS (700):"
                + " an illegal memory access was encountered");
    assertThat(CudaStatus.failure("f", 999, "", "").getMessage())
        .isEqualTo("CUDA call f failed: error 999");
  }

  @Test
  void outOfMemoryIsWhatTheTrainerRetriesOn() {
    Throwable oom = CudaStatus.outOfMemory("cuMemAlloc_v2", "CUDA_ERROR_OUT_OF_MEMORY", "");
    // the trainer's test: any OutOfMemoryError in the cause chain
    assertThat(oom).isInstanceOf(OutOfMemoryError.class);
    assertThat(new RuntimeException("wrapped", oom).getCause())
        .isInstanceOf(OutOfMemoryError.class);
    assertThat(oom.getMessage()).contains("cuMemAlloc_v2").contains("CUDA_ERROR_OUT_OF_MEMORY");
    assertThat(CudaStatus.cublasName(CudaStatus.CUBLAS_ALLOC_FAILED))
        .isEqualTo("CUBLAS_STATUS_ALLOC_FAILED");
    assertThat(CudaStatus.cublasName(15)).isEqualTo("CUBLAS_STATUS_NOT_SUPPORTED");
    assertThat(CudaStatus.cublasName(12345)).isEmpty();
  }

  @Test
  void kernelIndexReadsGlobalDeclarationsAndSkipsComments() {
    Map<String, String> sources = new LinkedHashMap<>();
    sources.put(
        "kernels/norms.cu",
        """
        // __global__ void commented_out(float* x)
        /* __global__ void also_commented(float* x) */
        extern "C" __global__ void rmsnorm_forward(float* out, const float* x, int n) {}
        extern "C" __global__ void __launch_bounds__(256) rmsnorm_backward(float* dx) {}
        extern "C" __global__ __launch_bounds__(128, 2) void layernorm_forward(float* o) {}
        __device__ float helper(float x) { return x; }
        """);
    sources.put("kernels/adamw.cu", "extern \"C\" __global__ void adamw_step (float* p) {}");
    Map<String, String> index = KernelModules.kernelIndex(sources);
    assertThat(index)
        .containsOnlyKeys("rmsnorm_forward", "rmsnorm_backward", "layernorm_forward", "adamw_step")
        .containsEntry("adamw_step", "kernels/adamw.cu")
        .containsEntry("layernorm_forward", "kernels/norms.cu");
  }

  @Test
  void aKernelDefinedInTwoFilesIsAnError() {
    Map<String, String> sources =
        Map.of(
            "a.cu", "extern \"C\" __global__ void k(int n) {}",
            "b.cu", "extern \"C\" __global__ void k(int n) {}");
    assertThatThrownBy(() -> KernelModules.kernelIndex(sources))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("kernel k is defined in both");
  }

  @Test
  void anUnknownKernelIsNamedBeforeAnyDriverCall() {
    KernelModules modules =
        new KernelModules(
            null, null, null, "sm_86", Map.of("a.cu", "extern \"C\" __global__ void k(int n) {}"));
    assertThatThrownBy(() -> modules.function("missing"))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("no CUDA kernel named missing")
        .hasMessageContaining("a.cu");
  }

  @Test
  void sourcesAreReadFromResourcesAndAMissingOneIsNamed() {
    Map<String, String> read =
        KernelModules.readSources(
            List.of("kernels/x.cu"),
            name -> new ByteArrayInputStream("// x".getBytes(StandardCharsets.UTF_8)));
    assertThat(read).containsEntry("kernels/x.cu", "// x");
    assertThatThrownBy(() -> KernelModules.readSources(List.of("kernels/gone.cu"), name -> null))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("kernels/gone.cu");
    // whatever the kernels lane lists must be packaged
    assertThat(KernelModules.bundledSources()).hasSameSizeAs(CudaKernelSources.files());
  }

  @Test
  void mixedOperandsMeetInTheNarrowType() {
    assertThat(CudaBackend.operandType(DType.F32, DType.F32)).isEqualTo(DType.F32);
    assertThat(CudaBackend.operandType(DType.F32, DType.BF16)).isEqualTo(DType.BF16);
    assertThat(CudaBackend.operandType(DType.BF16, DType.F32)).isEqualTo(DType.BF16);
    assertThat(CudaBackend.operandType(DType.F16, DType.F32)).isEqualTo(DType.F16);
    assertThat(CudaBackend.operandType(DType.BF16, DType.BF16)).isEqualTo(DType.BF16);
    assertThatThrownBy(() -> CudaBackend.operandType(DType.I32, DType.F32))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void alignmentIsTheLargestPowerOfTwoUpTo256() {
    assertThat(CudaMatmul.alignment(0x1000)).isEqualTo(256);
    assertThat(CudaMatmul.alignment(0x1100)).isEqualTo(256);
    assertThat(CudaMatmul.alignment(0x1080)).isEqualTo(128);
    assertThat(CudaMatmul.alignment(0x1004)).isEqualTo(4);
    assertThat(CudaMatmul.alignment(0x1002)).isEqualTo(2);
  }

  @Test
  void architectureComesFromComputeCapability() {
    assertThat(new CudaDeviceProperties(0, "RTX 3090", 8, 6, 82, 24L << 30).arch())
        .isEqualTo("sm_86");
    assertThat(new CudaDeviceProperties(0, "H100", 9, 0, 132, 80L << 30).arch()).isEqualTo("sm_90");
    assertThat(Nvrtc.options("sm_89")).containsExactly("--gpu-architecture=sm_89");
  }
}
