// Opt-in (-Dentity.cuda.emulate=true) like CudaKernelEmulationTest: the emulator starts a host
// thread per CUDA thread of every block that synchronizes, which takes minutes on 2 busy cores.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/**
 * The parity cases of {@link KernelParityCases} on {@link EmulatedCudaBackend}: CudaKernelOps and
 * the kernels themselves, run on the host, against the CPU backend — every op and whole training
 * steps, without a GPU.
 */
class EmulatedKernelParityTest extends KernelParityCases {

  @BeforeAll
  static void openBackends() {
    Assumptions.assumeTrue(
        Boolean.getBoolean(CudaKernelEmulationTest.PROPERTY),
        "opt-in: run with -D" + CudaKernelEmulationTest.PROPERTY + "=true (takes minutes)");
    Assumptions.assumeTrue(EmulatedLauncher.gxx() != null, "g++ is not on PATH");
    gpu = EmulatedCudaBackend.open();
    cpu = new CpuBackend(2);
  }
}
