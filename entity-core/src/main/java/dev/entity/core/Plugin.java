package dev.entity.core;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A unit of work placed in one or more stages of a workflow. A plugin is stateless between runs: it
 * reads its validated config record, reads and writes through the {@link PluginContext}, and
 * returns the message passed on to the next plugin (or {@code null} to pass on the message it
 * received). Plugins are found through {@link java.util.ServiceLoader} (list the class in {@code
 * META-INF/services/dev.entity.core.Plugin}; it needs a public no-argument constructor) or
 * registered explicitly in a {@link PluginRegistry}.
 *
 * <p>Everything declared here is checked when a workflow is built, not when it runs: the plugin
 * must support the stage it is placed in, every resource named by {@link #resources()} must exist,
 * and its config must bind to {@link #configType()} without violations (see {@link
 * dev.entity.core.config.ConfigBinder} for the binding rules and the defaults convention).
 *
 * @param <C> the config record; use {@link NoConfig} for a plugin that takes none
 */
public interface Plugin<C extends Record> {

  /** The name used in workflow YAML and the registry: lower case, digits and underscores. */
  String name();

  /** The stages this plugin may be placed in. */
  Set<Stage> stages();

  /**
   * Names of the resources this plugin uses, e.g. {@code memory}, {@code storage}, {@code logging}.
   * A plugin can look up only the resources it declares.
   */
  default Set<String> resources() {
    return Set.of();
  }

  /** The record its config is bound to. */
  Class<C> configType();

  /**
   * Does the plugin's work.
   *
   * @param context the stage, the message, memory, logging and resources of this run
   * @param config the bound and validated config
   * @return the message passed on to the next plugin, or {@code null} to keep the current one
   * @throws Exception any failure; the workflow stops, runs the ERROR stage and reports it
   */
  String execute(PluginContext context, C config) throws Exception;

  /** The config of a plugin that takes none: any key given to it is an unknown field. */
  record NoConfig() {}

  /** The body of a plugin written as a lambda, see {@link #of}. */
  @FunctionalInterface
  interface Body<C extends Record> {
    /** Same contract as {@link Plugin#execute}. */
    String execute(PluginContext context, C config) throws Exception;
  }

  /**
   * A plugin from a name, config type, stages, resources and a lambda; handy for tests and small
   * glue steps assembled in code.
   */
  static <C extends Record> Plugin<C> of(
      String name, Class<C> configType, Set<Stage> stages, Set<String> resources, Body<C> body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(configType, "configType");
    Objects.requireNonNull(body, "body");
    Set<Stage> stageSet = stages.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(stages));
    Set<String> resourceSet = Set.copyOf(resources);
    return new Plugin<>() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Set<Stage> stages() {
        return stageSet;
      }

      @Override
      public Set<String> resources() {
        return resourceSet;
      }

      @Override
      public Class<C> configType() {
        return configType;
      }

      @Override
      public String execute(PluginContext context, C config) throws Exception {
        return body.execute(context, config);
      }

      @Override
      public String toString() {
        return "plugin " + name;
      }
    };
  }
}
