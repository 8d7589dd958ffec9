// Tagged "gpu": needs Backends.open("cuda", 0); without a usable device the whole class is
// skipped with the backend's own reason.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backends;
import dev.entity.engine.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/** The parity cases of {@link KernelParityCases} on the real CUDA backend. */
@Tag("gpu")
class CudaKernelParityTest extends KernelParityCases {

  @BeforeAll
  static void openBackends() {
    try {
      gpu = Backends.open("cuda", 0);
    } catch (EngineException e) {
      System.out.println("skipping the CUDA parity tests: " + e.getMessage());
      Assumptions.abort("no usable CUDA device: " + e.getMessage());
    }
    cpu = new CpuBackend(2);
  }
}
