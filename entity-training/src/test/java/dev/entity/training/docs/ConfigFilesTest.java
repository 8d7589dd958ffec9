package dev.entity.training.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowYaml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Loads every {@code configs/*.yaml} through the real plugin registry, with an empty environment
 * (so each {@code ${VAR:-default}} takes its default): every plugin exists, sits in a stage it
 * supports, and its config binds and validates.
 */
class ConfigFilesTest {

  static Stream<Path> configFiles() throws IOException {
    try (Stream<Path> files = Files.list(Repository.root().resolve("configs"))) {
      List<Path> yaml =
          files.filter(f -> f.getFileName().toString().matches(".*\\.ya?ml")).sorted().toList();
      assertThat(yaml).as("configs/ holds workflow files").isNotEmpty();
      return yaml.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("configFiles")
  void loadsAndValidatesWithTheRealRegistry(Path file) {
    Workflow workflow = WorkflowYaml.read(file, PluginRegistry.discover(), name -> null).build();

    long steps = Stage.PIPELINE.stream().mapToLong(stage -> workflow.steps(stage).size()).sum();
    assertThat(steps).as(file + " has steps").isPositive();
    for (Stage stage : Stage.PIPELINE) {
      for (Workflow.Step step : workflow.steps(stage)) {
        assertThat(step.plugin().stages()).contains(stage);
        assertThat(step.config()).isInstanceOf(step.plugin().configType());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("configFiles")
  void opensWithACommentSayingWhatItIsFor(Path file) throws IOException {
    assertThat(Files.readAllLines(file).getFirst()).as(file.toString()).startsWith("#");
  }
}
