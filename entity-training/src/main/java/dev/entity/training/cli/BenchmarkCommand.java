package dev.entity.training.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code entity-train benchmark}: performance measurements; each kind is a subcommand. */
@Command(
    name = "benchmark",
    mixinStandardHelpOptions = true,
    header = "Measure performance (inference speed).",
    description = {"Subcommands measure one thing each and print the figures.", ""},
    subcommands = {BenchmarkInferCommand.class},
    footerHeading = "%nExamples:%n",
    footer = {"  entity-train benchmark infer --shape smollm2-135m --prompt-len 128 --gen 64"})
final class BenchmarkCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
