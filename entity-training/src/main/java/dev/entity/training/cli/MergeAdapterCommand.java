package dev.entity.training.cli;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.training.export.AdapterMerge;
import dev.entity.training.export.HfModelExport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code entity-train merge-adapter}: fold a PEFT LoRA adapter into its base model. */
@Command(
    name = "merge-adapter",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Merge a LoRA adapter into its base model and save a Hugging Face folder.",
    description = {
      "Loads the base model (F32), applies the PEFT adapter (adapter_config.json +"
          + " adapter_model.safetensors) as W += scale * B A, checks that the merged weights give"
          + " the same logits as base + adapter on a probe sequence, and writes sharded"
          + " safetensors, config.json, the base's tokenizer files, generation_config.json and a"
          + " SHA256SUMS manifest, reading the weights back to verify them.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train merge-adapter --base models/smollm2-135m \\",
      "      --adapter runs/my-run/final-model --out merged",
      "  entity-train merge-adapter --base BASE --adapter ADAPTER --out OUT \\",
      "      --dtype bf16"
    })
final class MergeAdapterCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--base", required = true, paramLabel = "DIR", description = "Base model folder.")
  Path base;

  @Option(
      names = "--adapter",
      required = true,
      paramLabel = "DIR",
      description = "PEFT adapter folder.")
  Path adapter;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write.")
  Path out;

  @Option(
      names = "--qlora",
      description =
          "The adapter was trained with QLoRA (NF4 base, double quantization): merge it into the"
              + " base as the run saw it, NF4-dequantized to BF16.")
  boolean qlora;

  @Option(
      names = "--dtype",
      defaultValue = "f32",
      paramLabel = "TYPE",
      description = "Saved weight type: f32, bf16 or f16 (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    try (Backend backend =
        new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors()))) {
      AdapterMerge.Result r =
          AdapterMerge.merge(
              backend,
              base,
              adapter,
              out,
              HfModelExport.parseDType(dtype),
              qlora ? Nf4Config.of("bfloat16", true) : null);
      w.printf(
          Locale.ROOT,
          "merged %s into %s -> %s (%d files, probe logits within %.1e of base+adapter)%n",
          adapter,
          base,
          r.folder(),
          r.files().size(),
          r.maxRelativeDifference());
    }
    return 0;
  }
}
