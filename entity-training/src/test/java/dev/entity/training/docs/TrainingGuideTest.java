// Convention: a quoted error message is a line of a ```text block in docs/TRAINING_GUIDE.md, with
// "…" for the parts that vary; each literal piece of it must appear in one Java string literal
// (adjacent literals joined by + count as one) of the main sources of the three modules.
package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.config.ConfigBinder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/TRAINING_GUIDE.md from rotting: every config key of every registered plugin (and of
 * the records nested in their configs, such as {@code generation_config}) is explained there, every
 * example config in configs/ is named there and in the README, and every error message it quotes is
 * still in the code.
 */
class TrainingGuideTest {

  static final String GUIDE = "docs/TRAINING_GUIDE.md";

  /** Every YAML key of {@code type}, with the keys of nested config records. */
  static Set<String> keys(Class<? extends Record> type) {
    Set<String> keys = new LinkedHashSet<>(ConfigBinder.keys(type));
    for (RecordComponent component : type.getRecordComponents()) {
      if (component.getType().isRecord()) {
        @SuppressWarnings("unchecked")
        Class<? extends Record> nested = (Class<? extends Record>) component.getType();
        keys.addAll(keys(nested));
      }
    }
    return keys;
  }

  @Test
  void everyConfigKeyOfEveryPluginIsInTheGuide() {
    String guide = Repository.read(GUIDE);
    List<String> missing = new ArrayList<>();
    for (Plugin<?> plugin : PluginRegistry.discover().list()) {
      assertThat(
              guide.contains("### " + plugin.name() + " (")
                  || guide.contains("`" + plugin.name() + "`"))
          .as("the guide has a section on " + plugin.name())
          .isTrue();
      for (String key : keys(plugin.configType())) {
        if (!guide.contains("`" + key + "`")) {
          missing.add(plugin.name() + "." + key);
        }
      }
    }
    assertThat(missing).as("config keys not explained in " + GUIDE).isEmpty();
  }

  @Test
  void nestedConfigRecordsAreFound() {
    record Inner(Integer depth) {}
    record Outer(String name, Inner inner) {}

    assertThat(keys(Outer.class)).containsExactly("name", "inner", "depth");
  }

  @Test
  void everyExampleConfigIsNamedInTheGuideAndTheReadme() throws IOException {
    String guide = Repository.read(GUIDE);
    String readme = Repository.read("README.md");
    try (Stream<Path> files = Files.list(Repository.root().resolve("configs"))) {
      List<String> names =
          files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".yaml")).toList();
      assertThat(names)
          .contains(
              "cpu_lora.yaml",
              "qlora_training.yaml",
              "full_training.yaml",
              "continued_training.yaml");
      for (String name : names) {
        assertThat(guide).as(GUIDE).contains("configs/" + name);
        assertThat(readme).as("README.md").contains("`" + name + "`");
      }
    }
  }

  @Test
  void everyQuotedErrorMessageIsInTheCode() {
    String code = joinedStringLiterals();
    List<String> quoted = quotedMessages(Repository.read(GUIDE));
    assertThat(quoted).as("the guide quotes messages").hasSizeGreaterThan(10);
    List<String> stale = new ArrayList<>();
    for (String message : quoted) {
      for (String piece : message.split("…")) {
        String literal = piece.strip();
        if (literal.length() >= 8 && !code.contains(literal)) {
          stale.add(message + "\n    not in the code: \"" + literal + "\"");
        }
      }
    }
    assertThat(stale).as("messages quoted in " + GUIDE + " that the code no longer has").isEmpty();
  }

  @Test
  void aChangedMessageIsCaught() {
    String code = "x = \"out of memory at step \"\n    + step\n    + \" with a micro-batch of \";";
    String joined = code.replaceAll("\"\\s*\\+\\s*\"", "");

    assertThat(joined).contains("out of memory at step ").contains(" with a micro-batch of ");
    assertThat(joined).doesNotContain("out of memory in step");
    assertThat(quotedMessages("```text\na …\n```\n```\nnot quoted\n```\n")).containsExactly("a …");
  }

  /** The lines of the ```text blocks. */
  static List<String> quotedMessages(String page) {
    List<String> lines = new ArrayList<>();
    boolean inText = false;
    for (String line : page.split("\n", -1)) {
      if (line.startsWith("```")) {
        inText = !inText && line.equals("```text");
        continue;
      }
      if (inText && !line.isBlank()) {
        lines.add(line);
      }
    }
    return lines;
  }

  /**
   * The main Java sources of core, engine and training with every {@code "a" + "b"} joined into
   * {@code "ab"}, so a message split over several literals reads as one.
   */
  static String joinedStringLiterals() {
    StringBuilder all = new StringBuilder();
    for (String module : List.of("entity-core", "entity-engine", "entity-training")) {
      Path sources = Repository.root().resolve(module).resolve("src/main/java");
      try (Stream<Path> files = Files.walk(sources)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          all.append(Files.readString(file, StandardCharsets.UTF_8)).append('\n');
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return all.toString().replaceAll("\"\\s*\\+\\s*\"", "");
  }
}
