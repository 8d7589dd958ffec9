package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaLibrariesTest {

  @TempDir Path root;

  private Path home() throws IOException {
    return Files.createDirectories(root.resolve("home/user"));
  }

  private CudaLibraries.Environment env(Map<String, String> vars) throws IOException {
    return new CudaLibraries.Environment(vars, root, home(), name -> false);
  }

  private static Path touch(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.write(file, new byte[] {1});
  }

  @Test
  void nothingInstalledNamesEveryLibraryAndEveryPlace() throws IOException {
    CudaLibraries libs = CudaLibraries.locate(env(Map.of("CUDA_HOME", "/opt/cuda-x")));
    assertThat(libs.complete()).isFalse();
    String reason = libs.missingReason();
    assertThat(reason)
        .contains("libcuda.so.1")
        .contains("libcublasLt.so.13 or libcublasLt.so.12")
        .contains("libnvrtc.so.13 or libnvrtc.so.12")
        .contains(root.resolve("usr/lib/x86_64-linux-gnu").toString())
        .contains(root.resolve("usr/lib/wsl/lib").toString())
        .contains(root.resolve("usr/local/cuda/compat").toString())
        .contains("/opt/cuda-x/lib64")
        .contains("/opt/cuda-x/targets/x86_64-linux/lib")
        .contains(root.resolve("usr/local/cuda/lib64").toString())
        .contains("the system loader's cache")
        .contains("--device cpu");
    for (CudaLibraries.Search s :
        new CudaLibraries.Search[] {libs.driver(), libs.cublasLt(), libs.nvrtc()}) {
      assertThat(s.isFound()).isFalse();
      for (Path folder : s.folders()) {
        assertThat(reason).contains(folder.toString());
      }
    }
  }

  @Test
  void findsEverythingWhereAStandardInstallPutsIt() throws IOException {
    Path driver = touch(root.resolve("usr/lib/x86_64-linux-gnu/libcuda.so.1"));
    Path lt = touch(root.resolve("usr/local/cuda/lib64/libcublasLt.so.12"));
    Path nvrtc = touch(root.resolve("usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so.12"));
    CudaLibraries libs = CudaLibraries.locate(env(Map.of()));
    assertThat(libs.driver().found()).isEqualTo(driver);
    assertThat(libs.cublasLt().found()).isEqualTo(lt);
    assertThat(libs.nvrtc().found()).isEqualTo(nvrtc);
    assertThat(libs.complete()).isTrue();
    assertThat(libs.missingReason()).isNull();
  }

  @Test
  void ldLibraryPathComesFirstAndCuda13BeatsCuda12InOneFolder() throws IOException {
    Path mine = root.resolve("mine");
    touch(mine.resolve("libcublasLt.so.12"));
    Path lt13 = touch(mine.resolve("libcublasLt.so.13"));
    touch(root.resolve("usr/local/cuda/lib64/libcublasLt.so.13"));
    Path driver = touch(mine.resolve("libcuda.so.1"));
    touch(root.resolve("usr/lib64/libcuda.so.1"));
    Map<String, String> vars = Map.of("LD_LIBRARY_PATH", ":" + mine + "::/nowhere");
    CudaLibraries libs = CudaLibraries.locate(env(vars));
    assertThat(libs.cublasLt().found()).isEqualTo(lt13);
    assertThat(libs.driver().found()).isEqualTo(driver);
    assertThat(libs.cublasLt().folders()).startsWith(mine, Path.of("/nowhere"));
  }

  @Test
  void cudaHomeAndCudaPathBeatStandardFoldersAndNewestVersionedInstallWins() throws IOException {
    touch(root.resolve("usr/local/cuda-12.4/lib64/libnvrtc.so.12"));
    Path newest = touch(root.resolve("usr/local/cuda-12.10/lib64/libnvrtc.so.12"));
    touch(root.resolve("usr/local/cuda-9.2/lib64/libnvrtc.so.12"));
    assertThat(CudaLibraries.locate(env(Map.of())).nvrtc().found()).isEqualTo(newest);

    Path cudaPath = root.resolve("opt/toolkit");
    Path viaPath = touch(cudaPath.resolve("targets/x86_64-linux/lib/libnvrtc.so.13"));
    assertThat(CudaLibraries.locate(env(Map.of("CUDA_PATH", cudaPath.toString()))).nvrtc().found())
        .isEqualTo(viaPath);
    Path cudaHome = root.resolve("opt/home");
    Path viaHome = touch(cudaHome.resolve("lib64/libnvrtc.so.12"));
    Map<String, String> both =
        Map.of("CUDA_PATH", cudaPath.toString(), "CUDA_HOME", cudaHome.toString());
    assertThat(CudaLibraries.locate(env(both)).nvrtc().found()).isEqualTo(viaHome);
  }

  @Test
  void pythonWheelsInVirtualEnvCondaUserAndSystemSitePackages() throws IOException {
    Path venv = root.resolve("venv");
    Path cu13 =
        touch(venv.resolve("lib/python3.12/site-packages/nvidia/cu13/lib/libcublasLt.so.13"));
    Map<String, String> vars = new HashMap<>();
    vars.put("VIRTUAL_ENV", venv.toString());
    assertThat(CudaLibraries.locate(env(vars)).cublasLt().found()).isEqualTo(cu13);

    Path conda = root.resolve("conda");
    Path condaNvrtc =
        touch(conda.resolve("lib/python3.11/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"));
    vars.put("CONDA_PREFIX", conda.toString());
    assertThat(CudaLibraries.locate(env(vars)).nvrtc().found()).isEqualTo(condaNvrtc);

    Path user =
        touch(
            home()
                .resolve(
                    ".local/lib/python3.10/site-packages/nvidia/cublas/lib/libcublasLt.so.12"));
    CudaLibraries.Search userOnly = CudaLibraries.locate(env(Map.of())).cublasLt();
    assertThat(userOnly.found()).isEqualTo(user);

    Path dist =
        touch(
            root.resolve(
                "usr/local/lib/python3.12/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.13"));
    assertThat(CudaLibraries.locate(env(Map.of())).nvrtc().found()).isEqualTo(dist);
    Path debian =
        touch(root.resolve("usr/lib/python3/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"));
    assertThat(CudaLibraries.locate(env(Map.of())).nvrtc().folders()).contains(debian.getParent());
  }

  @Test
  void wslDriverFolderAndCompatFolder() throws IOException {
    Path wsl = touch(root.resolve("usr/lib/wsl/lib/libcuda.so.1"));
    assertThat(CudaLibraries.locate(env(Map.of())).driver().found()).isEqualTo(wsl);
    Files.delete(wsl);
    Path compat = touch(root.resolve("usr/local/cuda/compat/libcuda.so.1"));
    assertThat(CudaLibraries.locate(env(Map.of())).driver().found()).isEqualTo(compat);
  }

  @Test
  void aFolderNamedLikeTheLibraryIsNotTheLibrary() throws IOException {
    Files.createDirectories(root.resolve("usr/lib64/libcuda.so.1"));
    assertThat(CudaLibraries.locate(env(Map.of())).driver().isFound()).isFalse();
  }

  @Test
  void theSystemLoaderIsTheLastResort() throws IOException {
    Set<String> known = Set.of("libcuda.so.1", "libnvrtc.so.12");
    CudaLibraries libs =
        CudaLibraries.locate(
            new CudaLibraries.Environment(Map.of(), root, home(), known::contains));
    assertThat(libs.driver().found()).isEqualTo(Path.of("libcuda.so.1"));
    assertThat(libs.nvrtc().found()).isEqualTo(Path.of("libnvrtc.so.12"));
    assertThat(libs.cublasLt().isFound()).isFalse();
    assertThat(libs.missingReason()).contains("cuBLASLt").doesNotContain("NVRTC (");
  }

  @Test
  void blankVariablesAreIgnored() throws IOException {
    CudaLibraries libs =
        CudaLibraries.locate(
            env(Map.of("CUDA_HOME", "  ", "LD_LIBRARY_PATH", "", "VIRTUAL_ENV", "")));
    assertThat(libs.nvrtc().folders()).allMatch(p -> p.startsWith(root));
  }
}
