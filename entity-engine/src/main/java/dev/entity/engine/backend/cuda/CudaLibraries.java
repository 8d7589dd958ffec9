// Convention: standard folders (/usr/lib64, /usr/local/cuda...) are resolved under
// Environment.root,
// so tests point it at a temporary folder; folders named by environment variables are used as
// given.
package dev.entity.engine.backend.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Where the three native libraries of the CUDA backend are: the driver ({@code libcuda.so.1}),
 * cuBLASLt and NVRTC of CUDA 13 or 12. Each is looked for in a fixed list of folders — {@code
 * LD_LIBRARY_PATH}, {@code CUDA_HOME}/{@code CUDA_PATH}, {@code /usr/local/cuda*}, the system
 * library folders and the {@code nvidia/*}{@code /lib} folders of Python environments (pip's CUDA
 * wheels) — and the first folder holding a wanted file wins (within a folder, CUDA 13 before 12).
 * Pure logic over an {@link Environment}, so it is tested with temporary folders; when something is
 * missing, {@link #missingReason()} lists every library and every place looked.
 *
 * @param driver the NVIDIA driver's CUDA library
 * @param cublasLt cuBLASLt, for matrix products
 * @param nvrtc the run-time compiler of our kernels
 */
public record CudaLibraries(Search driver, Search cublasLt, Search nvrtc) {

  /** The driver's file name: the driver ships only this soname. */
  public static final String DRIVER = "libcuda.so.1";

  public static final List<String> CUBLASLT = List.of("libcublasLt.so.13", "libcublasLt.so.12");
  public static final List<String> NVRTC = List.of("libnvrtc.so.13", "libnvrtc.so.12");

  /**
   * What discovery may read: environment variables, the file-system root under which standard
   * folders are resolved, the user's home, and whether the system loader finds a bare name (its
   * ld.so.cache; always false in tests).
   */
  public record Environment(
      Map<String, String> variables, Path root, Path home, Predicate<String> systemLoader) {

    public Environment {
      variables = Map.copyOf(variables);
    }

    /** This process's environment, the real root and home, and the real system loader. */
    public static Environment current() {
      return new Environment(
          System.getenv(),
          Path.of("/"),
          Path.of(System.getProperty("user.home", "/")),
          NativeLibrary::loadableByName);
    }

    String get(String name) {
      String v = variables.get(name);
      return v == null || v.isBlank() ? null : v;
    }
  }

  /**
   * One library looked for.
   *
   * @param what a human name, e.g. "cuBLASLt"
   * @param fileNames the file names tried, preferred first
   * @param folders every folder looked in, in order
   * @param found the file found (a bare file name when the system loader found it), or null
   */
  public record Search(String what, List<String> fileNames, List<Path> folders, Path found) {

    public Search {
      fileNames = List.copyOf(fileNames);
      folders = List.copyOf(folders);
    }

    public boolean isFound() {
      return found != null;
    }

    /** "cuBLASLt (libcublasLt.so.13 or libcublasLt.so.12): looked in /a, /b, ...". */
    public String describeMissing() {
      List<String> places = new ArrayList<>();
      folders.forEach(f -> places.add(f.toString()));
      places.add("the system loader's cache");
      return what
          + " ("
          + String.join(" or ", fileNames)
          + "): looked in "
          + String.join(", ", places);
    }
  }

  /** Looks in this process's environment. */
  public static CudaLibraries locate() {
    return locate(Environment.current());
  }

  public static CudaLibraries locate(Environment env) {
    List<Path> driverFolders = new ArrayList<>(ldLibraryPath(env));
    for (String standard :
        List.of(
            "usr/lib/x86_64-linux-gnu",
            "usr/lib64",
            "usr/lib",
            "usr/lib/wsl/lib",
            "usr/local/cuda/compat")) {
      driverFolders.add(env.root().resolve(standard));
    }
    List<Path> toolkitFolders = toolkitFolders(env);
    return new CudaLibraries(
        search("the NVIDIA driver", List.of(DRIVER), distinct(driverFolders), env),
        search("cuBLASLt", CUBLASLT, toolkitFolders, env),
        search("NVRTC", NVRTC, toolkitFolders, env));
  }

  /** True when all three libraries were found. */
  public boolean complete() {
    return driver.isFound() && cublasLt.isFound() && nvrtc.isFound();
  }

  /** Null when every library was found; otherwise one line per missing library, and a remedy. */
  public String missingReason() {
    if (complete()) {
      return null;
    }
    StringBuilder s = new StringBuilder("CUDA libraries not found:");
    for (Search search : List.of(driver, cublasLt, nvrtc)) {
      if (!search.isFound()) {
        s.append("\n  - ").append(search.describeMissing());
      }
    }
    return s.append(
            "\nInstall the NVIDIA driver and the CUDA 12 or 13 toolkit (or pip install"
                + " nvidia-cublas-cu12 nvidia-cuda-nvrtc-cu12 into the active Python"
                + " environment), or point CUDA_HOME or LD_LIBRARY_PATH at the folder that"
                + " holds them; --device cpu runs without them.")
        .toString();
  }

  private static Search search(
      String what, List<String> names, List<Path> folders, Environment env) {
    for (Path folder : folders) {
      for (String name : names) {
        Path candidate = folder.resolve(name);
        if (Files.isRegularFile(candidate)) {
          return new Search(what, names, folders, candidate);
        }
      }
    }
    for (String name : names) {
      if (env.systemLoader().test(name)) {
        return new Search(what, names, folders, Path.of(name));
      }
    }
    return new Search(what, names, folders, null);
  }

  private static List<Path> ldLibraryPath(Environment env) {
    List<Path> out = new ArrayList<>();
    String ld = env.get("LD_LIBRARY_PATH");
    if (ld != null) {
      for (String part : ld.split(":")) {
        if (!part.isBlank()) {
          out.add(Path.of(part));
        }
      }
    }
    return out;
  }

  /** Folders that may hold cuBLASLt and NVRTC, in the order they are tried. */
  static List<Path> toolkitFolders(Environment env) {
    List<Path> out = new ArrayList<>(ldLibraryPath(env));
    for (String variable : List.of("CUDA_HOME", "CUDA_PATH")) {
      String home = env.get(variable);
      if (home != null) {
        out.addAll(toolkitLibs(Path.of(home)));
      }
    }
    out.addAll(toolkitLibs(env.root().resolve("usr/local/cuda")));
    // Versioned installs, newest first (cuda-13.0 before cuda-12.8 before cuda-12.4).
    children(env.root().resolve("usr/local"), "cuda-").stream()
        .sorted(Comparator.comparing(CudaLibraries::versionKey).reversed())
        .forEach(p -> out.addAll(toolkitLibs(p)));
    out.add(env.root().resolve("usr/lib/x86_64-linux-gnu"));
    out.add(env.root().resolve("usr/lib64"));
    for (Path sitePackages : sitePackages(env)) {
      // pip's CUDA wheels: nvidia/cublas/lib, nvidia/cuda_nvrtc/lib, and CUDA 13's nvidia/cu13/lib.
      List<Path> packages = children(sitePackages.resolve("nvidia"), "");
      if (packages.isEmpty()) {
        out.add(sitePackages.resolve("nvidia/*/lib")); // named in the message, never a match
      }
      for (Path pkg : packages) {
        out.add(pkg.resolve("lib"));
      }
    }
    return distinct(out);
  }

  private static List<Path> toolkitLibs(Path home) {
    return List.of(home.resolve("lib64"), home.resolve("targets/x86_64-linux/lib"));
  }

  private static List<Path> sitePackages(Environment env) {
    List<Path> out = new ArrayList<>();
    for (String variable : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
      String prefix = env.get(variable);
      if (prefix != null) {
        children(Path.of(prefix).resolve("lib"), "python3")
            .forEach(p -> out.add(p.resolve("site-packages")));
      }
    }
    children(env.home().resolve(".local/lib"), "python3")
        .forEach(p -> out.add(p.resolve("site-packages")));
    children(env.root().resolve("usr/local/lib"), "python3")
        .forEach(p -> out.add(p.resolve("dist-packages")));
    out.add(env.root().resolve("usr/lib/python3/dist-packages"));
    return out;
  }

  /** Sub-folders of {@code folder} whose names start with {@code prefix}, sorted by name. */
  private static List<Path> children(Path folder, String prefix) {
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(folder)) {
      return list.filter(Files::isDirectory)
          .filter(p -> p.getFileName().toString().startsWith(prefix))
          .sorted()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** "cuda-12.10" sorts after "cuda-12.8": compare the numbers, not the text. */
  private static String versionKey(Path p) {
    StringBuilder key = new StringBuilder();
    for (String part : p.getFileName().toString().replaceAll("[^0-9.]", "").split("\\.")) {
      String digits = part.length() > 8 ? part.substring(part.length() - 8) : part;
      key.append("0".repeat(8 - digits.length())).append(digits);
    }
    return key.toString();
  }

  private static List<Path> distinct(List<Path> paths) {
    return List.copyOf(new LinkedHashSet<>(paths));
  }
}
