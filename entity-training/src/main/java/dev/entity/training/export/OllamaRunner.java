// Convention: Ollama is only ever run when its executable is found on the PATH (or given); without
// it nothing fails: the exact commands to run later are returned instead.
package dev.entity.training.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.core.EntityException;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Creates an Ollama model from a written Modelfile ({@code ollama create NAME -f Modelfile}) and
 * checks that it answers a prompt through Ollama's local API ({@code POST /api/generate}); or,
 * where Ollama is not installed, gives the commands that do the same.
 */
public final class OllamaRunner {

  /** Ollama's default local API. */
  public static final URI DEFAULT_API = URI.create("http://127.0.0.1:11434");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What happened: whether Ollama ran, the commands (to run by hand when it did not), and the
   * model's answer to the check prompt.
   */
  public record Outcome(boolean ran, List<String> commands, String answer) {}

  private OllamaRunner() {}

  /** The commands that create and try the model by hand. */
  public static List<String> commands(Path modelfile, String name) {
    String file = modelfile.toAbsolutePath().normalize().toString();
    return List.of(
        "ollama create " + name + " -f " + shellQuote(file),
        "ollama run " + name + " \"Hello!\"",
        "curl http://localhost:11434/api/generate -d '{\"model\": \""
            + name
            + "\", \"prompt\": \"Hello!\", \"stream\": false}'");
  }

  /** The {@code ollama} executable on {@code pathVariable} (the PATH's value), if any. */
  public static Optional<Path> findOnPath(String pathVariable) {
    if (pathVariable == null) {
      return Optional.empty();
    }
    for (String dir : pathVariable.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, "ollama");
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Runs {@code ollama create} with {@code executable} when present, then asks the model a question
   * through {@code api}; without an executable returns the commands only.
   */
  public static Outcome run(
      Optional<Path> executable, Path modelfile, String name, URI api, Duration timeout) {
    checkName(name);
    List<String> commands = commands(modelfile, name);
    if (executable.isEmpty()) {
      return new Outcome(false, commands, null);
    }
    create(executable.get(), modelfile, name, timeout);
    return new Outcome(true, commands, ask(api, name, timeout));
  }

  /** Model names Ollama accepts: letters, digits, and . _ - : / (no spaces or shell syntax). */
  public static void checkName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")) {
      throw new EntityException(
          "ollama_model_name: '"
              + name
              + "' is not a valid Ollama model name; use letters,"
              + " digits, '.', '_', '-', ':' or '/'");
    }
  }

  private static void create(Path exe, Path modelfile, String name, Duration timeout) {
    ProcessBuilder pb =
        new ProcessBuilder(
                exe.toString(), "create", name, "-f", modelfile.toAbsolutePath().toString())
            .directory(modelfile.toAbsolutePath().getParent().toFile())
            .redirectErrorStream(true);
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new EntityException("ollama create " + name + " did not finish in " + timeout);
      }
      if (p.exitValue() != 0) {
        String text = new String(out, StandardCharsets.UTF_8).strip();
        throw new EntityException(
            "ollama create "
                + name
                + " failed (exit "
                + p.exitValue()
                + "): "
                + (text.length() > 800 ? text.substring(text.length() - 800) : text));
      }
    } catch (IOException e) {
      throw new EntityException("cannot run " + exe + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EntityException("interrupted while running ollama create", e);
    }
  }

  private static String ask(URI api, String name, Duration timeout) {
    String body =
        JSON.createObjectNode()
            .put("model", name)
            .put("prompt", "Say hello.")
            .put("stream", false)
            .set("options", JSON.createObjectNode().put("num_predict", 16))
            .toString();
    HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build();
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(api.resolve("/api/generate"))
                  .timeout(timeout)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode json = r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
      if (json == null || !json.path("response").isTextual()) {
        throw new EntityException(
            "ollama: the model "
                + name
                + " was created but did not answer through "
                + api
                + "/api/generate (HTTP "
                + r.statusCode()
                + "): "
                + abbreviate(r.body()));
      }
      return json.get("response").asText();
    } catch (IOException e) {
      throw new EntityException(
          "ollama: the model "
              + name
              + " was created but "
              + api
              + " cannot be reached ("
              + e.getMessage()
              + "); is `ollama serve` running?",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EntityException("interrupted while asking ollama", e);
    } finally {
      http.shutdownNow();
    }
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private static String shellQuote(String s) {
    return s.matches("[A-Za-z0-9_./-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
  }
}
