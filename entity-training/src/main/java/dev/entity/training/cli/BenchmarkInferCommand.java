package dev.entity.training.cli;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.generate.ChatModel;
import dev.entity.engine.generate.DecodeBenchmark;
import dev.entity.engine.generate.Generator;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code entity-train benchmark infer}: prefill and decode tokens/s, time to the first token and
 * memory of a model folder, a GGUF file or a built-in shape with random weights.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Measure inference speed: prefill and decode tokens/s, memory.",
    description = {
      "Generates --gen tokens (greedy, no stop token) after a --prompt-len token prompt of"
          + " random ids, --runs times after one warm-up, and prints the medians. The model is"
          + " a folder or GGUF file (--model, optionally with --adapter) or a built-in shape"
          + " with random weights (--shape: tiny, gpt2, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b,"
          + " llama-3-8b), which needs no download.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train benchmark infer --shape smollm2-135m --prompt-len 128 --gen 64",
      "  entity-train benchmark infer --model models/qwen2.5-0.5b --bf16 --threads 8",
      "  entity-train benchmark infer --gen 32 \\",
      "      --model runs/qs/export/gguf/model-q8_0.gguf"
    })
final class BenchmarkInferCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  static final class Source {
    @Option(
        names = "--model",
        paramLabel = "DIR|FILE.gguf",
        required = true,
        description = "Model folder or GGUF model file.")
    Path model;

    @Option(
        names = "--shape",
        paramLabel = "NAME",
        required = true,
        description = "A built-in model shape with random weights.")
    String shape;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(names = "--adapter", paramLabel = "DIR", description = "LoRA adapter (with --model).")
  Path adapter;

  @Option(
      names = "--prompt-len",
      paramLabel = "N",
      defaultValue = "128",
      description = "Prompt tokens (default: ${DEFAULT-VALUE}).")
  int promptLength;

  @Option(
      names = "--gen",
      paramLabel = "N",
      defaultValue = "64",
      description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
  int generate;

  @Option(
      names = "--runs",
      paramLabel = "N",
      defaultValue = "3",
      description = "Measured runs after a warm-up (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(
      names = "--device",
      paramLabel = "auto|cpu|cuda",
      defaultValue = "cpu",
      description = "Backend (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "Worker threads (default: 0 = every core).")
  int threads;

  @Option(names = "--bf16", description = "Weights in BF16 (F32 otherwise).")
  boolean bf16;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    DType dtype = bf16 ? DType.BF16 : DType.F32;
    try (Backend backend = InferenceModelOptions.openBackend(device, threads)) {
      if (source.shape != null) {
        ModelConfig config = ModelConfig.shape(source.shape);
        try (Decoder d = new Decoder(backend, config, ChatModel.inferenceOptions(dtype))) {
          d.initializeRandom(42, 0.02f);
          d.setAdaptersDisabled(true);
          report(out, "shape " + source.shape + " (random weights)", d, backend);
        }
      } else {
        try (ChatModel m = ChatModel.open(backend, source.model, adapter, dtype)) {
          String name = source.model + (adapter == null ? "" : " + adapter " + adapter);
          report(out, name, m.decoder(), backend);
        }
      }
    }
    return 0;
  }

  private void report(PrintWriter out, String name, Decoder d, Backend backend) {
    long params = d.config().parameterCount();
    out.printf(
        Locale.ROOT,
        "%s: %s, %.1fM parameters, weights %s, %s backend%s%n",
        name,
        d.config().modelType(),
        params / 1e6,
        bf16 ? "BF16" : "F32",
        backend.name(),
        threads == 0 ? "" : ", " + threads + " threads");
    try (Generator g = new Generator(d, new int[0], ids -> "")) {
      DecodeBenchmark.Figures f = DecodeBenchmark.run(g, promptLength, generate, runs);
      out.println(f.describe());
    }
    out.flush();
  }
}
