package dev.entity.core.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkflowYamlTest {

  private final List<String> calls = Fixtures.calls();
  private final PluginRegistry registry = Fixtures.registry(calls);

  private Workflow parse(String yaml, Map<String, String> env) {
    return WorkflowYaml.parse(yaml, "w.yaml", "w", registry, env::get).build();
  }

  private Workflow parse(String yaml) {
    return parse(yaml, Map.of());
  }

  @Test
  void readsStagesStepsConfigsAndResources() {
    Workflow workflow =
        parse(
            """
            resources:
              memory: {path: "${HOME_DIR}/memory.duckdb"}
              storage: {run_folder: out/run}
            input:
              - plugin: a
                config: {text: "x", times: ${TIMES:-2}}
            OUTPUT:
              - speaker
            error:
              - plugin: reporter
            review:
            """,
            Map.of("HOME_DIR", "/tmp/project"));
    assertThat(workflow.name()).isEqualTo("w");
    assertThat(workflow.steps(Stage.INPUT))
        .singleElement()
        .satisfies(
            step -> {
              assertThat(step.plugin().name()).isEqualTo("a");
              assertThat(step.config()).isEqualTo(new Fixtures.AppendConfig("x", 2));
              assertThat(step.source()).isEqualTo("w.yaml line 5");
            });
    assertThat(workflow.steps(Stage.OUTPUT))
        .extracting(s -> s.plugin().name())
        .containsExactly("speaker");
    assertThat(workflow.steps(Stage.ERROR)).hasSize(1);
    assertThat(workflow.steps(Stage.REVIEW)).isEmpty();
    assertThat(workflow.memoryFile()).contains(Path.of("/tmp/project/memory.duckdb"));
    assertThat(workflow.runFolder()).contains(Path.of("out/run"));
  }

  @Test
  void unknownStagesPluginsAndConfigErrorsAreAllReportedWithLines() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    inptu:
                      - plugin: a
                    parse:
                      - plugin: nope
                      - plugin: a
                        config: {times: 0, colour: red}
                      - plugin: a
                        configs: {}
                      - 42
                    """))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("workflow 'w' is not valid (6 problems)")
        .hasMessageContaining(
            "w.yaml line 1: unknown stage 'inptu'; stages are input, parse, think, do, review,"
                + " output, error, and 'resources' sets resources")
        .hasMessageContaining("w.yaml line 7: unknown step key 'configs'")
        .hasMessageContaining(
            "w.yaml line 9: a step is '- plugin: name' with optional 'config:', got number")
        .hasMessageContaining(
            "w.yaml line 4, stage parse: unknown plugin 'nope'; known plugins are a, b, reporter,"
                + " speaker")
        .hasMessageContaining(
            "w.yaml line 5, stage parse, plugin 'a': config.colour: unknown field; known fields are"
                + " text, times")
        .hasMessageContaining(
            "w.yaml line 5, stage parse, plugin 'a': config.times: must be greater than 0");
  }

  @Test
  void malformedYamlReportsFileAndLine() {
    assertThatThrownBy(() -> parse("input:\n  - plugin: a\n    config: {text: [unclosed\n"))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith("w.yaml line ")
        .hasMessageContaining("invalid YAML");
    assertThatThrownBy(() -> parse("input: [a]\ninput: [b]\n"))
        .hasMessageContaining("w.yaml line 2")
        .hasMessageContaining("Duplicate field 'input'");
    assertThatThrownBy(() -> parse("- a\n- b\n"))
        .hasMessageContaining("w.yaml line 1: expected a mapping of stage names");
    assertThatThrownBy(() -> parse("")).hasMessageContaining("w.yaml: the workflow is empty");
    assertThatThrownBy(() -> parse("input: a\n"))
        .hasMessageContaining("w.yaml line 1: stage input must be a list of steps");
    assertThatThrownBy(() -> parse("input:\n  - {config: {}}\n"))
        .hasMessageContaining("w.yaml line 2: step needs 'plugin: <name>'");
    assertThatThrownBy(() -> parse("resources:\n  memroy: {}\n"))
        .hasMessageContaining(
            "w.yaml line 1: resources.memroy: unknown field; known fields are memory, storage");
  }

  @Test
  void hostileAndTruncatedYamlGetsAClearErrorQuickly() {
    String laughs =
        """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        input:
          - plugin: a
            config: {text: *g}
        """;
    assertThatThrownBy(() -> parse(laughs)).isInstanceOf(EntityException.class);
    String deep =
        "input:\n  - plugin: a\n    config: {text: " + "[".repeat(5000) + "]".repeat(5000) + "}\n";
    assertThatThrownBy(() -> parse(deep))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith("w.yaml line");
    String full = "input:\n  - plugin: a\n    config: {text: \"abc\", times: 2}\n";
    for (int cut = 1; cut < full.length(); cut++) {
      String truncated = full.substring(0, cut);
      try {
        parse(truncated);
      } catch (EntityException expected) {
        assertThat(expected.getMessage()).startsWith("w");
      }
    }
    assertThatThrownBy(() -> parse("input:\n\t- plugin: a\n"))
        .hasMessageStartingWith("w.yaml line 2 column 1: invalid YAML: ")
        .hasMessageContaining("TAB")
        .hasMessageNotContaining("reader");
    assertThatThrownBy(() -> parse("input:\n  - plugin: \"a\u0000\"\n"))
        .isInstanceOf(EntityException.class);
  }

  @Test
  void missingEnvironmentVariableNamesFileAndLine() {
    assertThatThrownBy(() -> parse("input:\n  - plugin: a\n    config: {text: ${SUFFIX}}\n"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("w.yaml line 3: environment variable SUFFIX is not set");
  }

  @Test
  void loadsFilesAndReportsMissingOrBinaryFiles(@TempDir Path temp) throws Exception {
    Path file = temp.resolve("train.yaml");
    Files.writeString(file, "input:\n  - plugin: a\n");
    Workflow workflow = WorkflowYaml.read(file, registry, Map.<String, String>of()::get).build();
    assertThat(workflow.name()).isEqualTo("train");
    assertThat(workflow.steps(Stage.INPUT).getFirst().source()).isEqualTo(file + " line 2");
    assertThat(WorkflowYaml.load(file, registry).steps(Stage.INPUT)).hasSize(1);
    assertThatThrownBy(() -> WorkflowYaml.load(temp.resolve("missing.yaml"), registry))
        .hasMessageContaining("missing.yaml does not exist");
    Path binary = temp.resolve("binary.yaml");
    Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    assertThatThrownBy(() -> WorkflowYaml.load(binary, registry)).hasMessageContaining("not UTF-8");
  }
}
