package dev.entity.training.cli;

import dev.entity.engine.generate.GenerationOptions;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The generation options of {@code generate} and {@code chat}. */
final class SamplingOptions {

  @Option(
      names = "--max-new-tokens",
      paramLabel = "N",
      defaultValue = "256",
      description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--temperature",
      paramLabel = "T",
      description = "Sampling temperature; 0 is greedy (default: generate 0, chat 0.7).")
  Double temperature;

  @Option(
      names = "--top-p",
      paramLabel = "P",
      defaultValue = "1.0",
      description = "Nucleus sampling: keep the most likely tokens up to P (default: 1 = all).")
  double topP;

  @Option(
      names = "--top-k",
      paramLabel = "K",
      defaultValue = "0",
      description = "Keep only the K most likely tokens (default: 0 = all).")
  int topK;

  @Option(
      names = "--repetition-penalty",
      paramLabel = "X",
      defaultValue = "1.0",
      description = "Penalty on tokens already in the text (default: 1 = off).")
  double repetitionPenalty;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "0",
      description = "Seed of the sampling; same seed, same text (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--stop",
      paramLabel = "TEXT",
      description = "A text that ends generation (repeatable); end-of-turn tokens always do.")
  List<String> stop = new ArrayList<>();

  /** The options, with {@code defaultTemperature} when --temperature is not given. */
  GenerationOptions options(double defaultTemperature) {
    return new GenerationOptions(
        maxNewTokens,
        temperature == null ? defaultTemperature : temperature,
        topK,
        topP,
        repetitionPenalty,
        seed,
        null,
        stop);
  }
}
