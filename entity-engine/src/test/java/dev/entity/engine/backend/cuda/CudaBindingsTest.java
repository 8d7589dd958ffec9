package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every function this backend binds must exist in the installed libraries (a typo in a symbol name
 * or a library too old fails here). Skipped, with the reason printed, where a library is absent —
 * as on a machine without CUDA.
 */
class CudaBindingsTest {

  private static java.nio.file.Path require(CudaLibraries.Search search) {
    if (!search.isFound()) {
      String reason = "skipped: " + search.describeMissing();
      System.out.println(reason);
      Assumptions.abort(reason);
    }
    return search.found();
  }

  @Test
  void driverFunctionsResolve() {
    CudaDriver driver = CudaDriver.load(require(CudaLibraries.locate().driver()));
    assertThat(driver.library()).contains("libcuda");
  }

  @Test
  void cublasLtFunctionsResolve() {
    CublasLt lt = CublasLt.load(require(CudaLibraries.locate().cublasLt()));
    assertThat(lt.version()).isGreaterThanOrEqualTo(120000);
  }

  @Test
  void nvrtcFunctionsResolveAndReportAVersion() {
    Nvrtc nvrtc = Nvrtc.load(require(CudaLibraries.locate().nvrtc()));
    assertThat(nvrtc.version()).matches("1[2-9]\\.\\d+");
  }
}
