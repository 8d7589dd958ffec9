package dev.entity.training.cli;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.config.ConfigBinder;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code entity-train plugins}: the plugins a workflow may use, their stages and config keys. */
@Command(
    name = "plugins",
    mixinStandardHelpOptions = true,
    header = "List the plugins a workflow file may use, with their stages and config keys.",
    description = {
      "Plugins are found on the class path (META-INF/services/dev.entity.core.Plugin). Use a"
          + " plugin's name in a workflow YAML stage and its keys under config:.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train plugins",
      "  entity-train plugins | grep -A1 fine_tuning     the DO stage's config keys"
    })
final class PluginsCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    for (Plugin<?> plugin : PluginRegistry.discover().list()) {
      out.println(
          plugin.name()
              + " (stage "
              + String.join(", ", plugin.stages().stream().sorted().map(Stage::yamlName).toList())
              + ")");
      out.println("  config: " + String.join(", ", ConfigBinder.keys(plugin.configType())));
    }
    return 0;
  }
}
