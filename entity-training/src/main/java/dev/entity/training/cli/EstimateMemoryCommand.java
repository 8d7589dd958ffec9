// Convention: memory sizes on the command line are binary: 24GB and 24GiB both mean 24 x 2^30
// bytes, which is what GPU makers' "24 GB" cards hold.
package dev.entity.training.cli;

import dev.entity.core.EntityException;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.model.ModelConfig;
import dev.entity.training.train.MemoryEstimator;
import dev.entity.training.train.TrainingConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code entity-train estimate-memory}: the memory breakdown of a training setup, and advice. */
@Command(
    name = "estimate-memory",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Estimate the peak memory of a training run, and how to make it fit.",
    description = {
      "Prints the breakdown (frozen weights, trainable weights, gradients, optimizer state,"
          + " activations, logits, workspace, runtime) of one training setup, compares it with"
          + " the device's memory, lowers the micro-batch (raising gradient accumulation, same"
          + " effective batch) when it does not fit, and suggests what else would help.",
      "",
      "The model is a folder with config.json (--model) or a built-in shape (--shape):"
          + " tiny, gpt2, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b.",
      "Device memory is this host's available RAM, or a detected GPU's free memory;"
          + " --device-memory sets it (binary units: 24GB = 24 GiB).",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train estimate-memory --shape smollm2-135m --method lora",
      "  entity-train estimate-memory --shape llama-3-8b --method qlora --batch 2 \\",
      "      --seq 1024 --checkpointing --device cuda --device-memory 24GB",
      "  entity-train estimate-memory --model models/qwen2.5-0.5b --method full"
    })
final class EstimateMemoryCommand implements Callable<Integer> {

  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]i?b?|b)?", Pattern.CASE_INSENSITIVE);

  @Spec CommandSpec spec;

  static final class ModelSource {
    @Option(
        names = "--model",
        paramLabel = "DIR",
        required = true,
        description = "Model folder (or its config.json).")
    Path model;

    @Option(
        names = "--shape",
        paramLabel = "NAME",
        required = true,
        description = "A built-in model shape, e.g. smollm2-135m.")
    String shape;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  ModelSource source;

  @Option(
      names = "--method",
      paramLabel = "full|lora|qlora",
      defaultValue = "lora",
      description = "full, lora or qlora (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "4",
      description = "Sequences per micro-batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--accumulation",
      paramLabel = "N",
      defaultValue = "1",
      description = "Gradient accumulation steps (default: ${DEFAULT-VALUE}).")
  int accumulation;

  @Option(
      names = "--seq",
      paramLabel = "N",
      defaultValue = "512",
      description = "max_seq_length in tokens (default: ${DEFAULT-VALUE}).")
  int seq;

  @Option(
      names = "--lora-r",
      paramLabel = "R",
      defaultValue = "16",
      description = "LoRA rank (lora and qlora; default: ${DEFAULT-VALUE}).")
  int loraR;

  @Option(names = "--checkpointing", description = "Gradient checkpointing on.")
  boolean checkpointing;

  @Option(
      names = "--device",
      paramLabel = "auto|cpu|cuda",
      defaultValue = "auto",
      description =
          "auto, cpu or cuda (default: auto: cuda when a GPU is detected; with --device-memory,"
              + " cpu).")
  String device;

  @Option(
      names = "--device-memory",
      paramLabel = "SIZE",
      description = "Memory to fit into, e.g. 24GB or 16GiB (default: what is detected).")
  String deviceMemory;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    MemoryEstimator.Target target;
    long memory;
    if (deviceMemory != null) {
      // Planning for a device this host may not have: nothing is detected.
      target =
          switch (device) {
            case "cuda" -> MemoryEstimator.Target.CUDA;
            case "cpu", "auto" -> MemoryEstimator.Target.CPU;
            default ->
                throw new EntityException(
                    "--device: unknown device '" + device + "'; use auto, cpu or cuda");
          };
      memory = parseSize(deviceMemory);
    } else {
      DeviceInfo host = DeviceInfo.detect();
      target = MemoryEstimator.resolveTarget(device, host);
      memory = MemoryEstimator.availableBytes(host, target);
    }
    boolean cuda = target == MemoryEstimator.Target.CUDA;
    ModelConfig model =
        source.model != null ? ModelConfig.load(source.model) : ModelConfig.shape(source.shape);
    String name = source.model != null ? source.model.toString() : source.shape;
    TrainingConfig config =
        TrainingConfig.defaults(name)
            .with("training_method", method)
            .with("batch_size", batch)
            .with("gradient_accumulation_steps", accumulation)
            .with("max_seq_length", seq)
            .with("gradient_checkpointing", checkpointing);
    if (!method.equals("full")) {
      config = config.with("lora_r", loraR).with("lora_alpha", 2 * loraR);
    }
    List<String> violations = config.violations(model);
    if (!violations.isEmpty()) {
      throw new EntityException(
          "this setup is not valid: "
              + String.join("; ", violations).replace("batch_size", "batch (batch_size)"));
    }
    MemoryEstimator estimator = new MemoryEstimator(model, config, target);
    MemoryEstimator.Estimate estimate = estimator.estimate();
    out.println(
        "Model: " + name + " (" + model.architecture().name().toLowerCase(Locale.ROOT) + ")");
    out.print(estimate.table());
    out.println();
    out.printf(
        Locale.ROOT,
        "Device: %s, %s%s%n",
        cuda ? "cuda" : "cpu",
        DeviceInfo.formatBytes(memory),
        deviceMemory != null ? " (--device-memory)" : cuda ? " free on GPU 0" : " RAM available");
    MemoryEstimator.Fit fit = estimator.fit(memory);
    List<String> advice = new ArrayList<>();
    if (estimate.total() <= memory) {
      out.printf(
          Locale.ROOT,
          "Fits: %s of %s (%s to spare).%n",
          DeviceInfo.formatBytes(estimate.total()),
          DeviceInfo.formatBytes(memory),
          DeviceInfo.formatBytes(memory - estimate.total()));
      if (!checkpointing && estimate.activationBytes() > estimate.total() / 3) {
        advice.add(
            "activations are the largest part: --checkpointing trades about a third more compute"
                + " for much less memory, if you need a larger batch or sequence");
      }
    } else {
      out.printf(
          Locale.ROOT,
          "Does not fit: %s needed, %s available.%n",
          DeviceInfo.formatBytes(estimate.total()),
          DeviceInfo.formatBytes(memory));
      advice.addAll(fit.changes().stream().map(c -> "auto-adjust: " + c).toList());
      if (fit.fits()) {
        advice.add("that fits: the training_config plugin makes this change by itself");
      }
      advice.addAll(fit.warnings());
    }
    if (!advice.isEmpty()) {
      out.println("Suggestions:");
      advice.forEach(a -> out.println("  - " + a));
    }
    return 0;
  }

  /**
   * Bytes from {@code 24GB}, {@code 16GiB}, {@code 512M}, {@code 1000000} (binary units).
   *
   * @throws EntityException for anything else
   */
  static long parseSize(String text) {
    Matcher m = SIZE.matcher(text.strip());
    if (!m.matches()) {
      throw new EntityException(
          "--device-memory: cannot read '" + text + "' as a size; write e.g. 24GB, 16GiB or 512MB");
    }
    double value = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
    int shift =
        switch (unit.charAt(0)) {
          case 'k' -> 10;
          case 'm' -> 20;
          case 'g' -> 30;
          case 't' -> 40;
          default -> 0;
        };
    double bytes = value * (1L << shift);
    if (bytes < 1 || bytes > Long.MAX_VALUE / 2) {
      throw new EntityException("--device-memory: " + text + " is not a usable size");
    }
    return (long) bytes;
  }
}
