package dev.entity.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.core.workflow.WorkflowYaml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the example plugin the way docs/API.md describes: found by the registry, from YAML. */
class WordCountPluginTest {

  @TempDir Path dir;

  @Test
  void theRegistryFindsThePluginThroughItsServiceEntry() {
    assertThat(PluginRegistry.discover().find(WordCountPlugin.NAME))
        .get()
        .isInstanceOf(WordCountPlugin.class);
  }

  @Test
  void runsInAWorkflowAndLeavesItsCountsInMemory() throws Exception {
    Path text = Files.writeString(dir.resolve("notes.txt"), "one two three\n\nfour five\n");
    AtomicReference<WordCountPlugin.Counts> recalled = new AtomicReference<>();
    PluginRegistry registry = PluginRegistry.discover();
    // A THINK step that reads the counts back, as a later plugin would.
    registry.register(
        Plugin.of(
            "counts_probe",
            Plugin.NoConfig.class,
            Set.of(Stage.THINK),
            Set.of("memory"),
            (context, config) -> {
              recalled.set(
                  context.recall(WordCountPlugin.MEMORY_KEY, WordCountPlugin.Counts.class).get());
              return null;
            }));
    String yaml =
        """
        input:
          - plugin: word_count
            config:
              path: ${TEXT}
              min_words: 2
        think:
          - plugin: counts_probe
        """;
    Workflow workflow =
        WorkflowYaml.parse(
                yaml,
                "count.yaml",
                "count",
                registry,
                name -> name.equals("TEXT") ? text.toString() : null)
            .runFolder(dir.resolve("run"))
            .build();

    WorkflowResult result = new WorkflowExecutor(workflow, s -> {}, Clock.systemUTC()).run("");

    assertThat(result.succeeded()).as(result.summary()).isTrue();
    assertThat(result.message()).isEqualTo("notes.txt: 3 lines, 5 words, 1 short, 0 long");
    assertThat(recalled.get()).isEqualTo(new WordCountPlugin.Counts(text.toString(), 3, 5, 1, 0));
  }

  @Test
  void anUnknownKeyIsRejectedWithASuggestion() {
    assertThatThrownBy(() -> build(Map.of("path", "x.txt", "max_word", 4)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("config.max_word: unknown field")
        .hasMessageContaining("did you mean 'max_words'");
  }

  @Test
  void constraintsAndTheCrossFieldRuleAreCheckedBeforeAnythingRuns() {
    assertThatThrownBy(() -> build(Map.of("path", "", "min_words", 0)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("config.path: must not be blank")
        .hasMessageContaining("config.min_words: must be greater than 0");
    assertThatThrownBy(() -> build(Map.of("path", "x.txt", "min_words", 9, "max_words", 3)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("config.max_words: is 3, less than min_words 9");
  }

  private static Workflow build(Map<String, ?> config) {
    return Workflow.builder("bad", PluginRegistry.of(new WordCountPlugin()))
        .add(Stage.INPUT, WordCountPlugin.NAME, config)
        .build();
  }

  @Test
  void defaultsFillMissingKeys() {
    WordCountPlugin.Config config = new WordCountPlugin.Config("a.txt", null, null);

    assertThat(config.minWords()).isEqualTo(1);
    assertThat(config.maxWords()).isEqualTo(512);
  }

  @Test
  void aMissingFileIsAUserErrorNamingTheField() {
    Workflow workflow =
        Workflow.builder("missing", PluginRegistry.of(new WordCountPlugin()))
            .add(
                Stage.INPUT,
                WordCountPlugin.NAME,
                Map.of("path", dir.resolve("nope.txt").toString()))
            .runFolder(dir.resolve("run"))
            .build();

    WorkflowResult result = new WorkflowExecutor(workflow, s -> {}, Clock.systemUTC()).run("");

    assertThat(result).isInstanceOf(WorkflowResult.Failed.class);
    assertThat(((WorkflowResult.Failed) result).failure().toString())
        .contains("path: file not found");
  }
}
