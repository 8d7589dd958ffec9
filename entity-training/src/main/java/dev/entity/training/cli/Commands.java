package dev.entity.training.cli;

import java.util.List;

/** The list of subcommands of {@code entity-train}, in the order {@code --help} shows them. */
final class Commands {

  private Commands() {}

  static List<Object> all() {
    return List.of(
        new QuickstartCommand(),
        new TrainCommand(),
        new PrepareDatasetCommand(),
        new EstimateMemoryCommand(),
        new BenchmarkCommand(),
        new PluginsCommand());
  }
}
