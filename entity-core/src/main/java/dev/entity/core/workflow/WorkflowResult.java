package dev.entity.core.workflow;

import dev.entity.core.Failure;
import dev.entity.core.Stage;
import java.nio.file.Path;
import java.util.List;

/**
 * How a run ended: {@link Completed}, {@link Failed} (naming the plugin and stage) or {@link
 * Cancelled}. Every result carries the run id, the run folder, the last message passed between
 * plugins and everything plugins said to the user.
 */
public sealed interface WorkflowResult {

  /** The run's id, also its row in the memory's {@code runs} table. */
  String runId();

  /** The run folder, holding {@code events.jsonl} and what plugins wrote. */
  Path runFolder();

  /** The last message passed on by a plugin. */
  String message();

  /** What plugins said to the user, in order. */
  List<String> said();

  /** Whether every stage ran without failure or cancellation. */
  default boolean succeeded() {
    return this instanceof Completed;
  }

  /** One line describing the outcome, for the CLI. */
  String summary();

  /** Every stage ran. */
  record Completed(String runId, Path runFolder, String message, List<String> said)
      implements WorkflowResult {
    /** Copies {@code said}. */
    public Completed {
      said = List.copyOf(said);
    }

    @Override
    public String summary() {
      return "run " + runId + " completed";
    }
  }

  /**
   * A plugin failed; the ERROR stage ran.
   *
   * @param failure the failing plugin, its stage and the cause
   * @param errorStageFailures failures of ERROR-stage plugins themselves, empty when they all ran
   */
  record Failed(
      String runId,
      Path runFolder,
      String message,
      List<String> said,
      Failure failure,
      List<Failure> errorStageFailures)
      implements WorkflowResult {
    /** Copies the lists. */
    public Failed {
      said = List.copyOf(said);
      errorStageFailures = List.copyOf(errorStageFailures);
    }

    @Override
    public String summary() {
      return "run " + runId + " failed: " + failure;
    }
  }

  /**
   * The run was cancelled.
   *
   * @param stage the stage it stopped in
   * @param plugin the plugin that stopped on cancellation, or the next one that did not start
   * @param reason the reason given to {@code Cancellation.cancel}
   */
  record Cancelled(
      String runId,
      Path runFolder,
      String message,
      List<String> said,
      Stage stage,
      String plugin,
      String reason)
      implements WorkflowResult {
    /** Copies {@code said}. */
    public Cancelled {
      said = List.copyOf(said);
    }

    @Override
    public String summary() {
      return "run "
          + runId
          + " cancelled ("
          + reason
          + ") at plugin '"
          + plugin
          + "' in stage "
          + stage
          + "; later stages did not run";
    }
  }
}
