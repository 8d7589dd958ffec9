package dev.entity.core;

import dev.entity.core.resource.Resource;
import java.util.Optional;

/**
 * What a plugin sees while it runs: its stage, the message passed between plugins, the memory
 * resource ({@link #remember}/{@link #recall}), a structured log, {@link #say} to the user (OUTPUT
 * and ERROR only), the resources it declared, and the run's cancellation flag. One context is made
 * per plugin call by the workflow executor.
 */
public interface PluginContext {

  /** The stage the plugin runs in. */
  Stage stage();

  /** The name of the running plugin. */
  String pluginName();

  /** The id of this run, also its row in the memory's {@code runs} table. */
  String runId();

  /** The message passed on by the previous plugin (the run's input for the first one). */
  String message();

  /**
   * Stores {@code value} as JSON under {@code key} in the memory resource, replacing what was
   * there. Memory persists across runs when it is file-backed.
   */
  void remember(String key, Object value);

  /**
   * The value stored under {@code key}, read back from JSON as {@code type}; empty if none.
   *
   * @throws EntityException when the stored JSON does not fit {@code type}
   */
  <T> Optional<T> recall(String key, Class<T> type);

  /** The structured log of this plugin: console plus the run folder's JSON-lines event file. */
  PluginLog log();

  /**
   * Shows {@code text} to the user and records it in the run's result.
   *
   * @throws IllegalStateException naming the plugin when called outside OUTPUT and ERROR
   */
  void say(String text);

  /**
   * The resource of this type among those the plugin declared, e.g. {@code resource(Memory.class)}.
   *
   * @throws IllegalStateException when the plugin did not declare a resource of this type
   */
  <T extends Resource> T resource(Class<T> type);

  /**
   * The resource with this name, e.g. {@code memory}, if the plugin declared it.
   *
   * @throws IllegalStateException when the plugin did not declare it
   */
  Resource resource(String name);

  /** The run's cancellation flag; long-running plugins poll it between units of work. */
  Cancellation cancellation();

  /** Whether the run was cancelled; shorthand for {@code cancellation().isCancelled()}. */
  default boolean cancelled() {
    return cancellation().isCancelled();
  }

  /** In the ERROR stage: the failure that stopped the pipeline. Empty in every other stage. */
  Optional<Failure> failure();
}
