package dev.entity.training.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.entity.core.EntityException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OllamaRunnerTest {

  private static Path script(Path dir, String body) throws Exception {
    Path exe = dir.resolve("ollama");
    Files.writeString(exe, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    return exe;
  }

  @Test
  void withoutOllamaTheExactCommandsAreReturned(@TempDir Path dir) {
    Path modelfile = dir.resolve("Modelfile");
    OllamaRunner.Outcome o =
        OllamaRunner.run(
            Optional.empty(),
            modelfile,
            "my-model",
            OllamaRunner.DEFAULT_API,
            Duration.ofSeconds(5));
    assertThat(o.ran()).isFalse();
    assertThat(o.commands().getFirst())
        .isEqualTo("ollama create my-model -f " + modelfile.toAbsolutePath());
    assertThat(o.commands()).anyMatch(c -> c.contains("/api/generate"));
    assertThat(OllamaRunner.findOnPath(dir.toString())).isEmpty();
    assertThatThrownBy(
            () ->
                OllamaRunner.run(
                    Optional.empty(),
                    modelfile,
                    "bad name; rm",
                    OllamaRunner.DEFAULT_API,
                    Duration.ofSeconds(1)))
        .hasMessageContaining("not a valid Ollama model name");
  }

  @Test
  void ollamaCreateRunsAndTheModelMustAnswerThroughTheApi(@TempDir Path dir) throws Exception {
    Path args = dir.resolve("args.txt");
    Path exe = script(dir, "echo \"$@\" > '" + args + "'");
    assertThat(OllamaRunner.findOnPath("/nonexistent:" + dir)).contains(exe);
    AtomicReference<String> asked = new AtomicReference<>();
    HttpServer api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    api.createContext(
        "/api/generate",
        x -> {
          asked.set(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          byte[] b = "{\"response\":\"Hello!\",\"done\":true}".getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, b.length);
          x.getResponseBody().write(b);
          x.close();
        });
    api.start();
    try {
      URI uri = URI.create("http://127.0.0.1:" + api.getAddress().getPort());
      Path modelfile = Files.writeString(dir.resolve("Modelfile"), "FROM ./m.gguf\n");
      OllamaRunner.Outcome o =
          OllamaRunner.run(Optional.of(exe), modelfile, "tiny", uri, Duration.ofSeconds(20));
      assertThat(o.ran()).isTrue();
      assertThat(o.answer()).isEqualTo("Hello!");
      assertThat(Files.readString(args).strip())
          .isEqualTo("create tiny -f " + modelfile.toAbsolutePath());
      assertThat(asked.get()).contains("\"model\":\"tiny\"", "\"stream\":false");
    } finally {
      api.stop(0);
    }
  }

  @Test
  void aFailingCreateOrASilentServerIsAnError(@TempDir Path dir) throws Exception {
    Path exe = script(dir, "echo 'Error: unsupported architecture' >&2; exit 1");
    Path modelfile = Files.writeString(dir.resolve("Modelfile"), "FROM ./m.gguf\n");
    assertThatThrownBy(
            () ->
                OllamaRunner.run(
                    Optional.of(exe),
                    modelfile,
                    "tiny",
                    OllamaRunner.DEFAULT_API,
                    Duration.ofSeconds(20)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("exit 1")
        .hasMessageContaining("unsupported architecture");
    Path ok = script(Files.createDirectories(dir.resolve("ok")), "exit 0");
    assertThatThrownBy(
            () ->
                OllamaRunner.run(
                    Optional.of(ok),
                    modelfile,
                    "tiny",
                    URI.create("http://127.0.0.1:9"),
                    Duration.ofSeconds(5)))
        .hasMessageContaining("cannot be reached");
  }
}
