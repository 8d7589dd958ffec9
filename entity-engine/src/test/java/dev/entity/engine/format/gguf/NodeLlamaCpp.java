// Convention: without node or interop/node_modules (installed by `npm ci` in interop/, as .ci/run
// does) the calling test is skipped with the reason printed, except under CI=true, where a missing
// install is a failure, not a skip.
package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** Runs interop/eval-gguf.mjs (real llama.cpp through node-llama-cpp) for the interop tests. */
final class NodeLlamaCpp {

  static final ObjectMapper JSON = new ObjectMapper();

  private NodeLlamaCpp() {}

  static Path findInstall() {
    Path root = Path.of("").toAbsolutePath();
    while (root != null && !Files.isRegularFile(root.resolve("interop/package.json"))) {
      root = root.getParent();
    }
    String missing = null;
    if (root == null) {
      missing = "interop/package.json not found above " + Path.of("").toAbsolutePath();
    } else if (!Files.isDirectory(root.resolve("interop/node_modules/node-llama-cpp"))) {
      missing = "interop/node_modules is not installed (run: cd interop && npm ci --omit=optional)";
    } else if (!nodeWorks()) {
      missing = "node is not on the PATH";
    }
    if (missing != null) {
      if ("true".equals(System.getenv("CI"))) {
        Assertions.fail("llama.cpp interop test cannot run under CI: " + missing);
      }
      System.out.println("llama.cpp interop test SKIPPED: " + missing);
      Assumptions.abort(missing);
    }
    return root.resolve("interop");
  }

  private static boolean nodeWorks() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static JsonNode run(Path interop, ObjectNode request, Path dir) throws Exception {
    Path reqFile = dir.resolve("request.json");
    Files.writeString(reqFile, JSON.writeValueAsString(request));
    Path out = dir.resolve("answer.json");
    Path err = dir.resolve("stderr.txt");
    long start = System.nanoTime();
    Process p =
        new ProcessBuilder("node", "eval-gguf.mjs", reqFile.toString())
            .directory(interop.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("node eval-gguf.mjs timed out");
    }
    assertThat(p.exitValue()).as("node eval-gguf.mjs failed:\n%s", Files.readString(err)).isZero();
    System.out.printf(
        "llama.cpp ran %d jobs in %.1f s%n",
        request.get("jobs").size(), (System.nanoTime() - start) / 1e9);
    return JSON.readTree(out.toFile());
  }
}
