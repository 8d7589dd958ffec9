package dev.entity.training.cli;

import dev.entity.training.export.GgufFileExport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code entity-train convert-to-gguf}: a Hugging Face folder (or a LoRA adapter) to GGUF. */
@Command(
    name = "convert-to-gguf",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Convert a Hugging Face model folder (or a LoRA adapter) to GGUF for llama.cpp.",
    description = {
      "Writes GGUF v3 natively (no Python, no llama.cpp): llama, qwen2 and gpt2 models with"
          + " their tokenizer and chat template, matrices in the chosen type (norms and other 1-D"
          + " tensors stay F32). Every tensor is read back after writing. With --adapter, writes"
          + " a GGUF LoRA adapter for the base model in --model instead.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train convert-to-gguf --model merged --out model-q8_0.gguf",
      "  entity-train convert-to-gguf --model models/qwen2.5-0.5b --out q.gguf \\",
      "      --type q4_0",
      "  entity-train convert-to-gguf --model BASE --adapter final-model \\",
      "      --out lora.gguf"
    })
final class ConvertToGgufCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "Hugging Face model folder (the base, with --adapter).")
  Path model;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "GGUF file to write.")
  Path out;

  @Option(
      names = "--type",
      defaultValue = "q8_0",
      paramLabel = "TYPE",
      description = "f32, f16, bf16, q8_0, q4_0 or q5_1 (default: ${DEFAULT-VALUE}).")
  String type;

  @Option(
      names = "--adapter",
      paramLabel = "DIR",
      description = "Convert this PEFT adapter instead.")
  Path adapter;

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    GgufFileExport.Result r =
        adapter == null
            ? GgufFileExport.model(model, out, GgufFileExport.parseType(type), null)
            : GgufFileExport.adapter(adapter, model, out);
    w.printf(
        Locale.ROOT,
        "wrote %s (%s, %d tensors read back, %,d bytes, sha256 %s)%n",
        r.file(),
        r.type().name().toLowerCase(Locale.ROOT),
        r.tensors(),
        r.bytes(),
        r.sha256());
    return 0;
  }
}
