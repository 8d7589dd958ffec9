package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.BackendProvider;
import dev.entity.engine.backend.Backends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaBackendProviderTest {

  @TempDir Path root;

  private CudaBackendProvider provider(Map<String, String> vars) throws IOException {
    Path home = Files.createDirectories(root.resolve("home"));
    return new CudaBackendProvider(new CudaLibraries.Environment(vars, root, home, n -> false));
  }

  @Test
  void withoutLibrariesTheReasonListsThemAndCreateRefuses() throws IOException {
    CudaBackendProvider p = provider(Map.of());
    assertThat(p.name()).isEqualTo("cuda");
    assertThat(p.priority()).isGreaterThan(0);
    assertThat(p.unavailableReason())
        .contains("libcuda.so.1")
        .contains("cuBLASLt")
        .contains("NVRTC")
        .contains(root.resolve("usr/lib64").toString());
    assertThatThrownBy(() -> p.create(1))
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("device cuda is not usable here: CUDA libraries not found");
  }

  @Test
  void filesThatAreNotLibrariesMakeItUnavailableWithoutCrashing() throws IOException {
    for (String file :
        List.of(
            "usr/lib64/libcuda.so.1",
            "usr/local/cuda/lib64/libcublasLt.so.12",
            "usr/local/cuda/lib64/libnvrtc.so.12")) {
      Path f = root.resolve(file);
      Files.createDirectories(f.getParent());
      Files.writeString(f, "not an ELF file");
    }
    CudaBackendProvider p = provider(Map.of());
    assertThat(p.unavailableReason())
        .startsWith(
            "the NVIDIA driver (" + root.resolve("usr/lib64/libcuda.so.1") + ") could not start")
        .contains("cannot load");
  }

  @Test
  void serviceLoaderFindsTheCudaProvider() {
    List<String> names = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class).forEach(p -> names.add(p.name()));
    assertThat(names).contains("cpu", "cuda");
  }

  @Test
  void namedCudaOnAMachineWithoutItSaysWhyAndAutoFallsBackToTheCpu() {
    String reason = new CudaBackendProvider().unavailableReason();
    if (reason == null) {
      System.out.println("CUDA is usable here: auto must pick it");
      try (Backend auto = Backends.open("auto", 1)) {
        assertThat(auto.name()).isEqualTo("cuda");
      }
      return;
    }
    System.out.println("CUDA is not usable here, as expected without a GPU: " + reason);
    assertThatThrownBy(() -> Backends.open("cuda", 1))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("device cuda is not usable here")
        .hasMessageContaining(reason);
    try (Backend auto = Backends.open("auto", 1)) {
      assertThat(auto.name()).isEqualTo("cpu");
    }
    try (Backend nullName = Backends.open(null, 1)) {
      assertThat(nullName.name()).isEqualTo("cpu");
    }
  }

  @Test
  void gpusIsEmptyWithoutCuda() {
    if (new CudaBackendProvider().unavailableReason() != null) {
      assertThat(CudaBackendProvider.gpus()).isEmpty();
    } else {
      assertThat(CudaBackendProvider.gpus()).isNotEmpty().allMatch(g -> g.totalBytes() > 0);
    }
  }
}
