package dev.entity.training.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code entity-train benchmark}: performance measurements; each kind is a subcommand. */
@Command(
    name = "benchmark",
    mixinStandardHelpOptions = true,
    header = "Measure training and inference speed and memory on real model shapes.",
    description = {"Subcommands measure one thing each and print the figures.", ""},
    subcommands = {BenchmarkTrainCommand.class, BenchmarkInferCommand.class},
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train benchmark train --shape smollm2-135m --method lora --seq 512 \\",
      "      --batch 4" + " --steps 5",
      "  entity-train benchmark infer --shape smollm2-135m --prompt-len 128 --gen 64"
    })
final class BenchmarkCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
