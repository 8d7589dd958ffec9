// Convention: the pipeline runs once. Resources are opened before the first plugin and closed in
// reverse order in a finally block, so a failed or cancelled run releases them too.
package dev.entity.core.workflow;

import dev.entity.core.Cancellation;
import dev.entity.core.EntityException;
import dev.entity.core.Failure;
import dev.entity.core.Plugin;
import dev.entity.core.PluginContext;
import dev.entity.core.PluginLog;
import dev.entity.core.Stage;
import dev.entity.core.resource.EventLog;
import dev.entity.core.resource.Memory;
import dev.entity.core.resource.Resource;
import dev.entity.core.resource.Storage;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Workflow} once: INPUT, PARSE, THINK, DO, REVIEW, OUTPUT, each stage's plugins in
 * listed order, each getting the message the previous one passed on. When a plugin throws, the
 * remaining stages are skipped, the ERROR stage's plugins run (they can read the {@link Failure}
 * and {@code say} to the user) and the result names the failing plugin and stage. Cancellation is
 * checked before every plugin; a plugin may also stop early with {@link
 * Cancellation#throwIfCancelled()}. Unlike Entity, the pipeline is never re-run.
 */
public final class WorkflowExecutor {

  private static final DateTimeFormatter RUN_ID =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final Workflow workflow;
  private final Consumer<String> output;
  private final Clock clock;

  /** An executor that prints what plugins say to standard output. */
  public WorkflowExecutor(Workflow workflow) {
    this(workflow, System.out::println, Clock.systemUTC());
  }

  /**
   * An executor sending what plugins say to {@code output}.
   *
   * @param clock the time of run ids, memory rows and events
   */
  public WorkflowExecutor(Workflow workflow, Consumer<String> output, Clock clock) {
    this.workflow = workflow;
    this.output = output;
    this.clock = clock;
  }

  /** Runs the workflow with {@code input} as the first message and a fresh cancellation flag. */
  public WorkflowResult run(String input) {
    return run(input, new Cancellation());
  }

  /**
   * Runs the workflow once.
   *
   * @param input the message the first plugin receives
   * @param cancellation checked before each plugin and by long-running plugins
   * @throws EntityException only when a resource cannot be opened; plugin failures are results
   */
  public WorkflowResult run(String input, Cancellation cancellation) {
    String runId =
        RUN_ID.format(clock.instant())
            + "-"
            + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
    Path folder = workflow.runFolder().orElse(Path.of("runs", runId));
    List<Resource> opened = new ArrayList<>();
    try {
      Storage storage = open(opened, () -> Storage.open(folder));
      EventLog log = open(opened, () -> EventLog.open(storage.resolve(EventLog.FILE_NAME), clock));
      Memory memory =
          open(opened, () -> workflow.memoryFile().map(Memory::file).orElseGet(Memory::inMemory));
      Map<String, Resource> resources = new LinkedHashMap<>();
      resources.put("storage", storage);
      resources.put("logging", log);
      resources.put("memory", memory);
      for (Map.Entry<String, Supplier<? extends Resource>> extra :
          workflow.extraResources().entrySet()) {
        resources.put(extra.getKey(), open(opened, extra.getValue()));
      }
      Run run = new Run(runId, storage.root(), resources, log, memory, cancellation);
      memory.startRun(runId, workflow.name(), clock.instant());
      log.event(
          PluginLog.Level.INFO,
          null,
          null,
          "run started",
          Map.of("run_id", runId, "workflow", workflow.name()));
      WorkflowResult result = run.execute(input);
      String status =
          switch (result) {
            case WorkflowResult.Completed c -> "completed";
            case WorkflowResult.Failed f -> "failed";
            case WorkflowResult.Cancelled c -> "cancelled";
          };
      memory.finishRun(runId, status, result.summary(), clock.instant());
      log.event(
          result.succeeded() ? PluginLog.Level.INFO : PluginLog.Level.WARN,
          null,
          null,
          result.summary(),
          Map.of("run_id", runId, "status", status));
      return result;
    } finally {
      closeAll(opened);
    }
  }

  private static <T extends Resource> T open(List<Resource> opened, Supplier<T> opener) {
    T resource = opener.get();
    if (resource == null) {
      throw new EntityException("a resource opener returned nothing");
    }
    opened.add(resource);
    return resource;
  }

  private static void closeAll(List<Resource> opened) {
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (RuntimeException e) {
        LoggerFactory.getLogger("entity").warn("cannot close a resource: {}", e.toString());
      }
    }
  }

  /** The state of one run. */
  private final class Run {
    private final String runId;
    private final Path folder;
    private final Map<String, Resource> resources;
    private final EventLog log;
    private final Memory memory;
    private final Cancellation cancellation;
    private final List<String> said = new ArrayList<>();
    private String message;

    Run(
        String runId,
        Path folder,
        Map<String, Resource> resources,
        EventLog log,
        Memory memory,
        Cancellation cancellation) {
      this.runId = runId;
      this.folder = folder;
      this.resources = resources;
      this.log = log;
      this.memory = memory;
      this.cancellation = cancellation;
    }

    WorkflowResult execute(String input) {
      message = input;
      for (Stage stage : Stage.PIPELINE) {
        for (Workflow.Step step : workflow.steps(stage)) {
          if (cancellation.isCancelled()) {
            return cancelled(step);
          }
          try {
            call(step, null);
          } catch (Cancellation.CancelledException e) {
            // a plugin may stop on its own cancellation; the flag makes the result consistent
            cancellation.cancel(e.getMessage());
            return cancelled(step);
          } catch (Exception
              | LinkageError
              | AssertionError
              | OutOfMemoryError
              | StackOverflowError e) {
            Failure failure = Failure.of(stage, step.plugin().name(), e);
            log.event(
                PluginLog.Level.ERROR,
                step.plugin().name(),
                stage,
                "plugin failed",
                Map.of("error", failure.message()));
            return failed(failure);
          }
        }
      }
      return new WorkflowResult.Completed(runId, folder, message, said);
    }

    private WorkflowResult cancelled(Workflow.Step step) {
      log.event(
          PluginLog.Level.WARN,
          step.plugin().name(),
          step.stage(),
          "run cancelled",
          Map.of("reason", cancellation.reason()));
      return new WorkflowResult.Cancelled(
          runId, folder, message, said, step.stage(), step.plugin().name(), cancellation.reason());
    }

    private WorkflowResult failed(Failure failure) {
      List<Failure> errorStageFailures = new ArrayList<>();
      for (Workflow.Step step : workflow.steps(Stage.ERROR)) {
        try {
          call(step, failure);
        } catch (Exception | LinkageError | AssertionError e) {
          Failure nested = Failure.of(Stage.ERROR, step.plugin().name(), e);
          errorStageFailures.add(nested);
          log.event(
              PluginLog.Level.ERROR,
              step.plugin().name(),
              Stage.ERROR,
              "error-stage plugin failed",
              Map.of("error", nested.message()));
        }
      }
      return new WorkflowResult.Failed(runId, folder, message, said, failure, errorStageFailures);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void call(Workflow.Step step, Failure failure) throws Exception {
      Plugin plugin = step.plugin();
      Context context = new Context(this, step, failure);
      long start = System.nanoTime();
      log.event(PluginLog.Level.DEBUG, plugin.name(), step.stage(), "plugin started", Map.of());
      String next = plugin.execute(context, step.config());
      if (next != null) {
        message = next;
      }
      log.event(
          PluginLog.Level.INFO,
          plugin.name(),
          step.stage(),
          "plugin finished",
          Map.of("duration_ms", (System.nanoTime() - start) / 1_000_000));
    }
  }

  /** What one plugin call sees. */
  private final class Context implements PluginContext {
    private final Run run;
    private final Workflow.Step step;
    private final Failure failure;
    private final PluginLog pluginLog;

    Context(Run run, Workflow.Step step, Failure failure) {
      this.run = run;
      this.step = step;
      this.failure = failure;
      this.pluginLog = run.log.forPlugin(step.plugin().name(), step.stage());
    }

    @Override
    public Stage stage() {
      return step.stage();
    }

    @Override
    public String pluginName() {
      return step.plugin().name();
    }

    @Override
    public String runId() {
      return run.runId;
    }

    @Override
    public String message() {
      return run.message;
    }

    @Override
    public void remember(String key, Object value) {
      run.memory.put(key, value);
    }

    @Override
    public <T> Optional<T> recall(String key, Class<T> type) {
      return run.memory.get(key, type);
    }

    @Override
    public PluginLog log() {
      return pluginLog;
    }

    @Override
    public void say(String text) {
      if (!step.stage().maySay()) {
        throw new IllegalStateException(
            "plugin '"
                + pluginName()
                + "' called say() in stage "
                + step.stage()
                + "; only OUTPUT and ERROR plugins may speak to the user (use log() instead)");
      }
      run.said.add(text);
      pluginLog.info("said", "text", text);
      output.accept(text);
    }

    @Override
    public <T extends Resource> T resource(Class<T> type) {
      for (String name : step.plugin().resources()) {
        Resource resource = run.resources.get(name);
        if (type.isInstance(resource)) {
          return type.cast(resource);
        }
      }
      throw new IllegalStateException(
          "plugin '"
              + pluginName()
              + "' asked for a "
              + type.getSimpleName()
              + " resource but declares only "
              + step.plugin().resources()
              + "; add its name to resources()");
    }

    @Override
    public Resource resource(String name) {
      if (!step.plugin().resources().contains(name)) {
        throw new IllegalStateException(
            "plugin '"
                + pluginName()
                + "' asked for resource '"
                + name
                + "' but declares only "
                + step.plugin().resources()
                + "; add it to resources()");
      }
      return run.resources.get(name);
    }

    @Override
    public Cancellation cancellation() {
      return run.cancellation;
    }

    @Override
    public Optional<Failure> failure() {
      return Optional.ofNullable(failure);
    }
  }
}
