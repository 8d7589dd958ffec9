package dev.entity.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The plugins a workflow may use, by name. {@link #discover()} finds every plugin on the class path
 * through {@link ServiceLoader}; {@link #of} and {@link #register} add instances explicitly (tests,
 * plugins assembled in code). Names are unique; a second plugin with a taken name is an error
 * naming both classes.
 */
public final class PluginRegistry {

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");

  private final Map<String, Plugin<?>> plugins = new TreeMap<>();

  private PluginRegistry() {}

  /** An empty registry. */
  public static PluginRegistry empty() {
    return new PluginRegistry();
  }

  /** A registry holding exactly these plugins. */
  public static PluginRegistry of(Plugin<?>... plugins) {
    PluginRegistry registry = new PluginRegistry();
    for (Plugin<?> plugin : plugins) {
      registry.register(plugin);
    }
    return registry;
  }

  /**
   * A registry of every plugin listed in {@code META-INF/services/dev.entity.core.Plugin} on the
   * class path of this class's loader.
   *
   * @throws EntityException when a listed plugin cannot be loaded or two share a name
   */
  public static PluginRegistry discover() {
    return discover(PluginRegistry.class.getClassLoader());
  }

  /** Like {@link #discover()}, with the given class loader. */
  @SuppressWarnings("rawtypes")
  public static PluginRegistry discover(ClassLoader loader) {
    PluginRegistry registry = new PluginRegistry();
    try {
      for (Plugin plugin : ServiceLoader.load(Plugin.class, loader)) {
        registry.register(plugin);
      }
    } catch (ServiceConfigurationError e) {
      throw new EntityException(
          "cannot load a plugin listed in META-INF/services/dev.entity.core.Plugin: "
              + e.getMessage()
              + "; each listed class must be public, implement Plugin and have a public"
              + " no-argument constructor",
          e);
    }
    return registry;
  }

  /**
   * Adds a plugin.
   *
   * @return this registry
   * @throws EntityException when the name is malformed or already taken
   */
  public synchronized PluginRegistry register(Plugin<?> plugin) {
    String name = plugin.name();
    if (name == null || !NAME.matcher(name).matches()) {
      throw new EntityException(
          "plugin "
              + plugin.getClass().getName()
              + " has name '"
              + name
              + "'; a plugin name is lower case letters, digits and underscores, starting with a"
              + " letter");
    }
    if (plugin.stages() == null || plugin.stages().isEmpty()) {
      throw new EntityException("plugin '" + name + "' declares no stages");
    }
    if (plugin.configType() == null) {
      throw new EntityException(
          "plugin '" + name + "' declares no config type; use Plugin.NoConfig for none");
    }
    Plugin<?> previous = plugins.putIfAbsent(name, plugin);
    if (previous != null) {
      throw new EntityException(
          "two plugins are named '"
              + name
              + "': "
              + previous.getClass().getName()
              + " and "
              + plugin.getClass().getName()
              + "; rename one");
    }
    return this;
  }

  /**
   * The plugin with this name.
   *
   * @throws EntityException naming the unknown plugin and listing the known ones
   */
  public synchronized Plugin<?> get(String name) {
    Plugin<?> plugin = plugins.get(name);
    if (plugin == null) {
      throw new EntityException(
          "unknown plugin '"
              + name
              + "'; known plugins are "
              + (plugins.isEmpty() ? "(none)" : String.join(", ", plugins.keySet())));
    }
    return plugin;
  }

  /** The plugin with this name, if registered. */
  public synchronized Optional<Plugin<?>> find(String name) {
    return Optional.ofNullable(plugins.get(name));
  }

  /** All plugins, sorted by name. */
  public synchronized List<Plugin<?>> list() {
    return List.copyOf(new ArrayList<>(plugins.values()));
  }

  /** All plugin names, sorted. */
  public synchronized List<String> names() {
    return List.copyOf(plugins.keySet());
  }
}
