package dev.entity.training.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProjectFolderTest {

  @TempDir Path dir;

  @Test
  void findsTheCloneAboveTheCompiledClasses() {
    Path found = ProjectFolder.find();
    assertThat(found.resolve(ProjectFolder.MARKER)).isRegularFile();
    assertThat(found.resolve("data/sample.jsonl")).isRegularFile();
  }

  @Test
  void entityHomeComesFirst() throws IOException {
    Files.createDirectories(dir.resolve("configs"));
    Files.writeString(dir.resolve(ProjectFolder.MARKER), "input: []\n");
    String previous = System.getProperty("entity.home");
    System.setProperty("entity.home", dir.resolve("configs").toString());
    try {
      assertThat(ProjectFolder.find()).isEqualTo(dir.toAbsolutePath().normalize());
    } finally {
      if (previous == null) {
        System.clearProperty("entity.home");
      } else {
        System.setProperty("entity.home", previous);
      }
    }
  }
}
