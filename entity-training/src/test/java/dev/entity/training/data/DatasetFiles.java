package dev.entity.training.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small dataset files for tests. */
final class DatasetFiles {

  private DatasetFiles() {}

  static Path text(Path dir, String name, String content) {
    return bytes(dir, name, content.getBytes(StandardCharsets.UTF_8));
  }

  static Path lines(Path dir, String name, String... lines) {
    return text(dir, name, String.join("\n", lines) + "\n");
  }

  static Path bytes(Path dir, String name, byte[] content) {
    try {
      return Files.write(dir.resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code n} alpaca records whose instruction is "q{i}", one per line. */
  static Path alpaca(Path dir, String name, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append("{\"instruction\":\"q")
          .append(i)
          .append("\",\"output\":\"a")
          .append(i)
          .append("\"}\n");
    }
    return text(dir, name, s.toString());
  }
}
