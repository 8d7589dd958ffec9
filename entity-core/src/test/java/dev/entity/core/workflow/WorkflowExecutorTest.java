package dev.entity.core.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.Cancellation;
import dev.entity.core.EntityException;
import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.core.resource.Resource;
import dev.entity.core.resource.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkflowExecutorTest {

  @TempDir Path temp;

  private final List<String> calls = Fixtures.calls();
  private final List<String> printed = new ArrayList<>();

  private WorkflowResult run(Workflow workflow) {
    return new WorkflowExecutor(workflow, printed::add, Clock.systemUTC()).run("in");
  }

  private Workflow.Builder builder(Plugin<?>... extra) {
    PluginRegistry registry = Fixtures.registry(calls);
    for (Plugin<?> plugin : extra) {
      registry.register(plugin);
    }
    return Workflow.builder("test", registry).runFolder(temp.resolve("run"));
  }

  @Test
  void runsEachStageOnceInOrderPassingTheMessage() throws Exception {
    Workflow workflow =
        builder()
            .add(Stage.OUTPUT, "speaker")
            .add(Stage.DO, "b", Map.of("text", "D"))
            .add(Stage.INPUT, "a", Map.of("text", "I"))
            .add(Stage.INPUT, "b", Map.of("text", "J", "times", 2))
            .add(Stage.REVIEW, "a", Map.of("text", "R"))
            .build();
    WorkflowResult result = run(workflow);
    assertThat(result).isInstanceOf(WorkflowResult.Completed.class);
    assertThat(result.succeeded()).isTrue();
    assertThat(calls).containsExactly("INPUT:a", "INPUT:b", "DO:b", "REVIEW:a");
    assertThat(result.message()).isEqualTo("inIJJDR");
    assertThat(result.said()).containsExactly("result: inIJJDR");
    assertThat(printed).containsExactly("result: inIJJDR");
    assertThat(result.runFolder()).isEqualTo(temp.resolve("run").toAbsolutePath());
    String events = Files.readString(result.runFolder().resolve("events.jsonl"));
    assertThat(events.lines().filter(l -> l.contains("\"plugin finished\""))).hasSize(5);
    assertThat(events).contains("\"message\":\"said\"").contains("run started");
  }

  @Test
  void failureRunsTheErrorStageAndNamesPluginAndStage() {
    Workflow workflow =
        builder(Fixtures.failing("boom", new EntityException("dataset file x.jsonl is empty")))
            .add(Stage.INPUT, "a")
            .add(Stage.THINK, "boom")
            .add(Stage.DO, "b")
            .add(Stage.ERROR, "reporter")
            .build();
    WorkflowResult result = run(workflow);
    assertThat(result).isInstanceOf(WorkflowResult.Failed.class);
    WorkflowResult.Failed failed = (WorkflowResult.Failed) result;
    assertThat(failed.failure().stage()).isEqualTo(Stage.THINK);
    assertThat(failed.failure().plugin()).isEqualTo("boom");
    assertThat(failed.failure().message()).isEqualTo("dataset file x.jsonl is empty");
    assertThat(failed.summary())
        .contains("plugin 'boom' failed in stage THINK: dataset file x.jsonl is empty");
    assertThat(calls)
        .containsExactly(
            "INPUT:a", "ERROR:plugin 'boom' failed in stage THINK: dataset file x.jsonl is empty");
    assertThat(failed.said())
        .containsExactly(
            "sorry: plugin 'boom' failed in stage THINK: dataset file x.jsonl is empty");
    assertThat(failed.errorStageFailures()).isEmpty();
  }

  @Test
  void failingErrorPluginIsRecordedWithoutHidingTheOriginalFailure() {
    Plugin<Plugin.NoConfig> brokenReporter =
        Plugin.of(
            "broken_reporter",
            Plugin.NoConfig.class,
            Set.of(Stage.ERROR),
            Set.of(),
            (c, x) -> {
              throw new IllegalStateException("reporter broke");
            });
    Workflow workflow =
        builder(Fixtures.failing("boom", new NullPointerException("npe")), brokenReporter)
            .add(Stage.DO, "boom")
            .add(Stage.ERROR, "broken_reporter")
            .add(Stage.ERROR, "reporter")
            .build();
    WorkflowResult.Failed failed = (WorkflowResult.Failed) run(workflow);
    assertThat(failed.failure().message()).isEqualTo("NullPointerException: npe");
    assertThat(failed.failure().cause()).isInstanceOf(NullPointerException.class);
    assertThat(failed.errorStageFailures())
        .singleElement()
        .satisfies(f -> assertThat(f.plugin()).isEqualTo("broken_reporter"));
    assertThat(failed.said()).hasSize(1);
  }

  @Test
  void sayOutsideOutputAndErrorFailsNamingThePlugin() {
    WorkflowResult result =
        run(builder().add(Stage.THINK, "speaker").add(Stage.OUTPUT, "a").build());
    WorkflowResult.Failed failed = (WorkflowResult.Failed) result;
    assertThat(failed.failure().plugin()).isEqualTo("speaker");
    assertThat(failed.failure().stage()).isEqualTo(Stage.THINK);
    assertThat(failed.failure().message())
        .isEqualTo(
            "IllegalStateException: plugin 'speaker' called say() in stage THINK; only OUTPUT and"
                + " ERROR plugins may speak to the user (use log() instead)");
    assertThat(calls).isEmpty();
    assertThat(printed).isEmpty();
  }

  @Test
  void wrongStageAndMissingResourceAreErrorsWhenBuilt() {
    Plugin<Plugin.NoConfig> needsModel =
        Plugin.of(
            "needs_model",
            Plugin.NoConfig.class,
            Set.of(Stage.DO),
            Set.of("model", "memory"),
            (c, x) -> null);
    AtomicBoolean ran = new AtomicBoolean();
    Plugin<Plugin.NoConfig> recorder =
        Plugin.of(
            "recorder",
            Plugin.NoConfig.class,
            Set.of(Stage.INPUT),
            Set.of(),
            (c, x) -> {
              ran.set(true);
              return null;
            });
    assertThatThrownBy(
            () ->
                builder(needsModel, recorder)
                    .add(Stage.INPUT, "recorder")
                    .add(Stage.DO, "needs_model")
                    .add(Stage.OUTPUT, "needs_model", Map.of("x", 1))
                    .add(Stage.ERROR, "a")
                    .build())
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("(5 problems)")
        .hasMessageContaining(
            "code, stage do, plugin 'needs_model': needs resource 'model', which this workflow does"
                + " not provide; available resources are logging, memory, storage")
        .hasMessageContaining(
            "code, stage output, plugin 'needs_model': the plugin does not run in stage output;"
                + " it supports [do]")
        .hasMessageContaining("code, stage output, plugin 'needs_model': config.x: unknown field")
        .hasMessageContaining(
            "code, stage error, plugin 'a': the plugin does not run in stage error");
    assertThat(ran).isFalse();

    Workflow provided =
        builder(needsModel).resource("model", () -> () -> {}).add(Stage.DO, "needs_model").build();
    assertThat(run(provided).succeeded()).isTrue();
  }

  @Test
  void resourcesAreLookedUpByTypeAndNameOnlyWhenDeclared() {
    record Model(String id) implements Resource {
      @Override
      public void close() {}
    }
    List<Object> seen = new ArrayList<>();
    Plugin<Plugin.NoConfig> user =
        Plugin.of(
            "user",
            Plugin.NoConfig.class,
            Set.of(Stage.DO),
            Set.of("storage", "model"),
            (c, x) -> {
              seen.add(c.resource(Storage.class).root());
              seen.add(c.resource(Model.class).id());
              seen.add(c.resource("model"));
              try {
                c.resource(Memory.class);
              } catch (IllegalStateException e) {
                seen.add(e.getMessage());
              }
              try {
                c.resource("memory");
              } catch (IllegalStateException e) {
                seen.add(e.getMessage());
              }
              return null;
            });
    Model model = new Model("m1");
    WorkflowResult result =
        run(builder(user).resource("model", () -> model).add(Stage.DO, "user").build());
    assertThat(result.succeeded()).isTrue();
    assertThat(seen.get(0)).isEqualTo(result.runFolder());
    assertThat(seen.get(1)).isEqualTo("m1");
    assertThat(seen.get(2)).isSameAs(model);
    assertThat((String) seen.get(3)).contains("plugin 'user' asked for a Memory resource");
    assertThat((String) seen.get(4)).contains("plugin 'user' asked for resource 'memory'");
  }

  @Test
  void rememberAndRecallShareMemoryBetweenPluginsAndRunsAreRecorded() {
    record Info(String format, long records) {}
    Plugin<Plugin.NoConfig> writer =
        Plugin.of(
            "writer",
            Plugin.NoConfig.class,
            Set.of(Stage.INPUT),
            Set.of(),
            (c, x) -> {
              c.remember("dataset", new Info("alpaca", 100));
              c.log().info("stored", "key", "dataset");
              return null;
            });
    List<Object> recalled = new ArrayList<>();
    Plugin<Plugin.NoConfig> reader =
        Plugin.of(
            "reader",
            Plugin.NoConfig.class,
            Set.of(Stage.PARSE),
            Set.of("memory"),
            (c, x) -> {
              recalled.add(c.recall("dataset", Info.class).orElseThrow());
              recalled.add(c.recall("absent", Info.class).isPresent());
              Memory memory = c.resource(Memory.class);
              recalled.add(memory.run(c.runId()).orElseThrow().status());
              return null;
            });
    Path memoryFile = temp.resolve("memory.duckdb");
    WorkflowResult result =
        run(
            builder(writer, reader)
                .memoryFile(memoryFile)
                .add(Stage.INPUT, "writer")
                .add(Stage.PARSE, "reader")
                .build());
    assertThat(result.succeeded()).isTrue();
    assertThat(recalled).containsExactly(new Info("alpaca", 100), false, null);
    try (Memory memory = Memory.file(memoryFile)) {
      Memory.Run run = memory.run(result.runId()).orElseThrow();
      assertThat(run.status()).isEqualTo("completed");
      assertThat(run.workflow()).isEqualTo("test");
      assertThat(run.finished()).isNotNull();
      assertThat(memory.get("dataset", Info.class)).contains(new Info("alpaca", 100));
    }
  }

  @Test
  void cancellationBeforeAPluginStopsWithAClearResult() {
    Cancellation cancellation = new Cancellation();
    Plugin<Plugin.NoConfig> canceller =
        Plugin.of(
            "canceller",
            Plugin.NoConfig.class,
            Set.of(Stage.THINK),
            Set.of(),
            (c, x) -> {
              cancellation.cancel("interrupted by user");
              cancellation.cancel("second reason is ignored");
              return "after think";
            });
    Workflow workflow =
        builder(canceller)
            .add(Stage.INPUT, "a")
            .add(Stage.THINK, "canceller")
            .add(Stage.DO, "b")
            .add(Stage.OUTPUT, "speaker")
            .add(Stage.ERROR, "reporter")
            .build();
    WorkflowResult result =
        new WorkflowExecutor(workflow, printed::add, Clock.systemUTC()).run("in", cancellation);
    assertThat(result).isInstanceOf(WorkflowResult.Cancelled.class);
    WorkflowResult.Cancelled cancelled = (WorkflowResult.Cancelled) result;
    assertThat(cancelled.stage()).isEqualTo(Stage.DO);
    assertThat(cancelled.plugin()).isEqualTo("b");
    assertThat(cancelled.reason()).isEqualTo("interrupted by user");
    assertThat(cancelled.message()).isEqualTo("after think");
    assertThat(cancelled.summary())
        .contains("cancelled (interrupted by user) at plugin 'b' in stage DO");
    assertThat(calls).containsExactly("INPUT:a");
    assertThat(printed).isEmpty();
  }

  @Test
  void longRunningPluginStopsWhenItSeesTheFlag() throws Exception {
    Cancellation cancellation = new Cancellation();
    List<Integer> steps = new ArrayList<>();
    Plugin<Plugin.NoConfig> trainer =
        Plugin.of(
            "trainer",
            Plugin.NoConfig.class,
            Set.of(Stage.DO),
            Set.of(),
            (c, x) -> {
              for (int step = 0; step < 1000; step++) {
                if (step == 3) {
                  // what a signal handler thread would do
                  Thread signal = new Thread(() -> cancellation.cancel("SIGINT"));
                  signal.start();
                  signal.join();
                }
                c.cancellation().throwIfCancelled();
                steps.add(step);
              }
              return "trained";
            });
    Workflow workflow =
        builder(trainer).add(Stage.DO, "trainer").add(Stage.OUTPUT, "speaker").build();
    WorkflowResult result =
        new WorkflowExecutor(workflow, printed::add, Clock.systemUTC()).run("in", cancellation);
    WorkflowResult.Cancelled cancelled = (WorkflowResult.Cancelled) result;
    assertThat(cancelled.plugin()).isEqualTo("trainer");
    assertThat(cancelled.reason()).isEqualTo("SIGINT");
    assertThat(steps).containsExactly(0, 1, 2);
    assertThat(printed).isEmpty();
  }

  @Test
  void pluginThrowingCancelledOnItsOwnEndsTheRunAsCancelled() {
    Plugin<Plugin.NoConfig> quitter =
        Plugin.of(
            "quitter",
            Plugin.NoConfig.class,
            Set.of(Stage.PARSE),
            Set.of(),
            (c, x) -> {
              throw new Cancellation.CancelledException("out of patience");
            });
    WorkflowResult result =
        run(builder(quitter).add(Stage.PARSE, "quitter").add(Stage.DO, "a").build());
    assertThat(result).isInstanceOf(WorkflowResult.Cancelled.class);
    assertThat(((WorkflowResult.Cancelled) result).reason())
        .isEqualTo("cancelled: out of patience");
    assertThat(calls).isEmpty();
  }

  @Test
  void resourcesAreClosedWhenTheRunEndsEvenOnFailure() {
    List<String> closed = new ArrayList<>();
    Resource tracked = () -> closed.add("tracked");
    Workflow workflow =
        builder(Fixtures.failing("boom", new IllegalStateException("x")))
            .resource("tracked", () -> tracked)
            .add(Stage.DO, "boom")
            .build();
    assertThat(run(workflow).succeeded()).isFalse();
    assertThat(closed).containsExactly("tracked");

    Workflow failingOpen =
        builder()
            .resource("tracked", () -> tracked)
            .resource(
                "broken",
                () -> {
                  throw new EntityException("cannot load model");
                })
            .add(Stage.INPUT, "a")
            .build();
    assertThatThrownBy(() -> run(failingOpen)).hasMessage("cannot load model");
    assertThat(closed).containsExactly("tracked", "tracked");
  }

  @Test
  void codeBuiltConfigsAreValidatedAndOverridesApplyToMapConfigs() {
    Plugin<Fixtures.AppendConfig> append = Fixtures.append("typed", calls);
    assertThatThrownBy(
            () -> builder().add(Stage.INPUT, append, new Fixtures.AppendConfig("x", -2)).build())
        .hasMessageContaining(
            "code, stage input, plugin 'typed': config.times: must be greater than 0");
    Workflow workflow =
        builder()
            .add(Stage.INPUT, append, new Fixtures.AppendConfig("x", 2))
            .add(Stage.PARSE, "a", Map.of("text", "y"))
            .override("a", Map.of("times", 3))
            .build();
    assertThat(run(workflow).message()).isEqualTo("inxxyyy");
    assertThatThrownBy(
            () -> builder().add(Stage.PARSE, "a").override("a", Map.of("times", "many")).build())
        .hasMessageContaining("config.times: expected an integer, got string \"many\"");
    assertThatThrownBy(() -> builder().resource("memory", Memory::inMemory).build())
        .hasMessageContaining("resource 'memory' is built in");
  }

  @Test
  void discoveredPluginRunsFromYaml() {
    Workflow workflow =
        WorkflowYaml.parse(
                "input:\n  - plugin: echo_test\n    config: {prefix: 'got '}\n",
                "w.yaml",
                "w",
                PluginRegistry.discover(),
                Map.<String, String>of()::get)
            .runFolder(temp.resolve("yaml-run"))
            .build();
    assertThat(
            new WorkflowExecutor(workflow, printed::add, Clock.systemUTC()).run("hello").message())
        .isEqualTo("got hello");
    assertThat(EnumSet.copyOf(Stage.PIPELINE)).doesNotContain(Stage.ERROR);
  }
}
