package dev.entity.core.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.core.EntityException;
import dev.entity.core.PluginLog;
import dev.entity.core.Stage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageAndEventLogTest {

  /** A value Jackson cannot write: its getter throws. */
  public static final class Explosive {
    public int getBoom() {
      throw new IllegalStateException("boom");
    }

    @Override
    public String toString() {
      return "explosive";
    }
  }

  @Test
  void storageCreatesTheFolderAndResolvesInsideIt(@TempDir Path temp) {
    Storage storage = Storage.open(temp.resolve("run/a"));
    assertThat(storage.root()).isDirectory();
    assertThat(storage.resolve("x/y.txt")).isEqualTo(storage.root().resolve("x/y.txt"));
    assertThat(storage.createDirectories("checkpoint-1")).isDirectory();
    assertThatThrownBy(() -> storage.resolve("../escape"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("leaves the run folder");
    assertThatThrownBy(() -> storage.resolve("/etc/passwd")).isInstanceOf(EntityException.class);
  }

  @Test
  void atomicWriteReplacesWholeFilesAndLeavesNothingOnFailure(@TempDir Path temp)
      throws IOException {
    Storage storage = Storage.open(temp);
    Path file = storage.writeString("out/result.txt", "first");
    assertThat(file).hasContent("first");
    storage.writeString("out/result.txt", "second");
    assertThat(file).hasContent("second");
    assertThatThrownBy(
            () ->
                storage.writeAtomically(
                    "out/result.txt",
                    out -> {
                      out.write("partial".getBytes());
                      throw new IOException("disk full");
                    }))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("disk full");
    assertThat(file).hasContent("second");
    try (var files = Files.list(file.getParent())) {
      assertThat(files.toList()).containsExactly(file);
    }
  }

  @Test
  void eventLogWritesOneJsonObjectPerEvent(@TempDir Path temp) throws IOException {
    Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    Path file = temp.resolve(EventLog.FILE_NAME);
    try (EventLog log = EventLog.open(file, clock)) {
      log.forPlugin("loader", Stage.INPUT).info("loaded", "records", 100, "splits", List.of("a"));
      log.event(PluginLog.Level.WARN, null, null, "run note", Map.of("thread", new Explosive()));
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    ObjectMapper json = new ObjectMapper();
    JsonNode first = json.readTree(lines.get(0));
    assertThat(first.get("time").asText()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(first.get("level").asText()).isEqualTo("INFO");
    assertThat(first.get("plugin").asText()).isEqualTo("loader");
    assertThat(first.get("stage").asText()).isEqualTo("INPUT");
    assertThat(first.get("message").asText()).isEqualTo("loaded");
    assertThat(first.get("fields").get("records").asInt()).isEqualTo(100);
    assertThat(first.get("fields").get("splits").get(0).asText()).isEqualTo("a");
    JsonNode second = json.readTree(lines.get(1));
    assertThat(second.get("plugin").isNull()).isTrue();
    assertThat(second.get("fields").get("thread").asText()).startsWith("explosive");
  }

  @Test
  void logFieldsMustAlternateKeysAndValues(@TempDir Path temp) {
    try (EventLog log = EventLog.open(temp.resolve("e.jsonl"))) {
      PluginLog pluginLog = log.forPlugin("p", Stage.DO);
      assertThatThrownBy(() -> pluginLog.info("m", "key"))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> pluginLog.info("m", 1, 2))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
