// Convention: everything a run could reject up front (unknown plugin, wrong stage, missing
// resource, bad config) is checked by build(), and all problems are reported in one exception.
package dev.entity.core.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.core.EntityException;
import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.config.ConfigBinder;
import dev.entity.core.config.ConfigException;
import dev.entity.core.config.ConfigViolation;
import dev.entity.core.resource.Resource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * A checked, ready-to-run pipeline: for each stage, the plugins to run in order with their bound
 * configs, plus how to open the run's resources. Built in code with {@link #builder} or read from
 * YAML with {@link WorkflowYaml}; run with {@link WorkflowExecutor}. Immutable.
 */
public final class Workflow {

  /** The resources every run has: {@code memory}, {@code logging}, {@code storage}. */
  public static final Set<String> BUILT_IN_RESOURCES = Set.of("memory", "logging", "storage");

  /**
   * One plugin placed in a stage.
   *
   * @param stage where it runs
   * @param plugin the plugin
   * @param config its bound, validated config record
   * @param source where it was declared, e.g. {@code train.yaml line 12}, or {@code code}
   */
  public record Step(Stage stage, Plugin<?> plugin, Record config, String source) {}

  private final String name;
  private final Map<Stage, List<Step>> steps;
  private final Path memoryFile;
  private final Path runFolder;
  private final Map<String, Supplier<? extends Resource>> resources;

  private Workflow(Builder builder, Map<Stage, List<Step>> steps) {
    this.name = builder.name;
    this.steps = steps;
    this.memoryFile = builder.memoryFile;
    this.runFolder = builder.runFolder;
    this.resources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(builder.resources));
  }

  /** A builder for a workflow named {@code name} whose plugins come from {@code registry}. */
  public static Builder builder(String name, PluginRegistry registry) {
    return new Builder(
        Objects.requireNonNull(name, "name"), Objects.requireNonNull(registry, "registry"));
  }

  /** The workflow's name, recorded with each run. */
  public String name() {
    return name;
  }

  /** The steps of {@code stage}, in run order. */
  public List<Step> steps(Stage stage) {
    return steps.getOrDefault(stage, List.of());
  }

  /** The memory database file; empty for an in-memory database. */
  public Optional<Path> memoryFile() {
    return Optional.ofNullable(memoryFile);
  }

  /** The run folder; empty to use {@code runs/<run id>} under the working directory. */
  public Optional<Path> runFolder() {
    return Optional.ofNullable(runFolder);
  }

  /** The application-supplied resources, by name, in the order they were added. */
  Map<String, Supplier<? extends Resource>> extraResources() {
    return resources;
  }

  /**
   * Assembles a workflow. Steps are checked and configs bound by {@link #build()}, which reports
   * every problem at once. Not thread-safe.
   */
  public static final class Builder {
    private record Pending(
        Stage stage, String pluginName, Plugin<?> plugin, Object config, String source) {}

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final PluginRegistry registry;
    private final List<Pending> pending = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, Map<String, Object>> overrides = new LinkedHashMap<>();
    private final Map<String, Supplier<? extends Resource>> resources = new LinkedHashMap<>();
    private Path memoryFile;
    private Path runFolder;

    private Builder(String name, PluginRegistry registry) {
      this.name = name;
      this.registry = registry;
    }

    /** Places the registered plugin {@code plugin} in {@code stage} with config from a map. */
    public Builder add(Stage stage, String plugin, Map<String, ?> config) {
      return add(stage, plugin, config == null ? null : JSON.valueToTree(config), "code");
    }

    /** Places the registered plugin {@code plugin} in {@code stage} with no config. */
    public Builder add(Stage stage, String plugin) {
      return add(stage, plugin, (JsonNode) null, "code");
    }

    /**
     * Places {@code plugin} in {@code stage} with a config tree, remembering {@code source} (e.g.
     * {@code train.yaml line 12}) for error messages.
     */
    public Builder add(Stage stage, String plugin, JsonNode config, String source) {
      pending.add(new Pending(stage, plugin, null, config, source));
      return this;
    }

    /**
     * Places a plugin instance (registered or not) in {@code stage} with a config record built in
     * code; the record is still validated by {@link #build()}.
     */
    public <C extends Record> Builder add(Stage stage, Plugin<C> plugin, C config) {
      pending.add(new Pending(stage, plugin.name(), plugin, config, "code"));
      return this;
    }

    /**
     * Overrides config keys of every step of {@code plugin} (e.g. from {@code key=value} flags);
     * applied before binding, replacing the values at those top-level keys.
     */
    public Builder override(String plugin, Map<String, ?> values) {
      overrides.computeIfAbsent(plugin, k -> new LinkedHashMap<>()).putAll(values);
      return this;
    }

    /** Keeps memory in {@code file} (persisting across runs); in memory when null. */
    public Builder memoryFile(Path file) {
      this.memoryFile = file;
      return this;
    }

    /** Uses {@code folder} as the run folder; {@code runs/<run id>} when null. */
    public Builder runFolder(Path folder) {
      this.runFolder = folder;
      return this;
    }

    /**
     * Adds an application resource opened at the start of each run and closed at its end, e.g. a
     * loaded model shared by several plugins.
     */
    public Builder resource(String name, Supplier<? extends Resource> opener) {
      if (BUILT_IN_RESOURCES.contains(name)) {
        problems.add("resource '" + name + "' is built in and cannot be replaced");
      } else if (resources.putIfAbsent(name, opener) != null) {
        problems.add("resource '" + name + "' is added twice");
      }
      return this;
    }

    /**
     * The names of the plugins placed so far, in the order added (a name may repeat); lets a caller
     * such as the CLI find which plugin takes an override key before {@link #build()} binds.
     */
    public List<String> pluginNames() {
      return pending.stream().map(Pending::pluginName).toList();
    }

    /** Records a problem found while reading the workflow, reported by {@link #build()}. */
    void problem(String problem) {
      problems.add(problem);
    }

    /**
     * Checks every step and binds every config.
     *
     * @throws EntityException listing every problem: unknown plugins, plugins in stages they do not
     *     support, missing resources, config violations (each with its field path)
     */
    public Workflow build() {
      List<String> found = new ArrayList<>(problems);
      Set<String> available = new TreeSet<>(BUILT_IN_RESOURCES);
      available.addAll(resources.keySet());
      Map<Stage, List<Step>> steps = new EnumMap<>(Stage.class);
      for (Pending step : pending) {
        String where = step.source() + ", stage " + step.stage().yamlName();
        Plugin<?> plugin = step.plugin();
        if (plugin == null) {
          Optional<Plugin<?>> registered = registry.find(step.pluginName());
          if (registered.isEmpty()) {
            found.add(
                where
                    + ": unknown plugin '"
                    + step.pluginName()
                    + "'; known plugins are "
                    + (registry.names().isEmpty()
                        ? "(none)"
                        : String.join(", ", registry.names())));
            continue;
          }
          plugin = registered.get();
        }
        where += ", plugin '" + plugin.name() + "'";
        if (!plugin.stages().contains(step.stage())) {
          found.add(
              where
                  + ": the plugin does not run in stage "
                  + step.stage().yamlName()
                  + "; it supports "
                  + plugin.stages().stream().sorted().map(Stage::yamlName).toList());
        }
        for (String resource : new TreeSet<>(plugin.resources())) {
          if (!available.contains(resource)) {
            found.add(
                where
                    + ": needs resource '"
                    + resource
                    + "', which this workflow does not provide; available resources are "
                    + String.join(", ", available));
          }
        }
        Record config = bind(plugin, step, where, found);
        if (config != null) {
          steps
              .computeIfAbsent(step.stage(), k -> new ArrayList<>())
              .add(new Step(step.stage(), plugin, config, step.source()));
        }
      }
      if (!found.isEmpty()) {
        StringBuilder text = new StringBuilder("workflow '" + name + "' is not valid (");
        text.append(found.size()).append(found.size() == 1 ? " problem):" : " problems):");
        for (String problem : found) {
          text.append("\n  ").append(problem.replace("\n", "\n  "));
        }
        throw new EntityException(text.toString());
      }
      steps.replaceAll((stage, list) -> List.copyOf(list));
      return new Workflow(this, steps);
    }

    private Record bind(Plugin<?> plugin, Pending step, String where, List<String> found) {
      Map<String, Object> override = overrides.get(plugin.name());
      if (step.config() instanceof Record record) {
        if (override != null) {
          found.add(where + ": config overrides cannot apply to a config record built in code");
          return null;
        }
        List<ConfigViolation> violations = ConfigBinder.check(record, "config");
        violations.forEach(v -> found.add(where + ": " + v));
        return violations.isEmpty() ? record : null;
      }
      JsonNode tree = (JsonNode) step.config();
      if (override != null) {
        ObjectNode merged =
            tree != null && tree.isObject()
                ? ((ObjectNode) tree).deepCopy()
                : JSON.createObjectNode();
        if (tree != null && !tree.isNull() && !tree.isObject()) {
          found.add(where + ": config: expected a mapping of fields");
          return null;
        }
        override.forEach((key, value) -> merged.set(key, JSON.valueToTree(value)));
        tree = merged;
      }
      try {
        return ConfigBinder.bind(plugin.configType(), tree, "config");
      } catch (ConfigException e) {
        e.violations().forEach(v -> found.add(where + ": " + v));
        return null;
      }
    }
  }
}
