package dev.entity.training.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code entity-train benchmark}: the group of benchmark commands ({@code train}); on its own it
 * prints its usage.
 */
@Command(
    name = "benchmark",
    mixinStandardHelpOptions = true,
    header = "Measure training speed and memory on model shapes with random weights.",
    subcommands = {BenchmarkTrainCommand.class})
final class BenchmarkCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return CommandLine.ExitCode.USAGE;
  }
}
