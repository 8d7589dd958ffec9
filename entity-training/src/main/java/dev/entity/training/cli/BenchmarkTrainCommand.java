// Convention: tokens/s counts every position of every sequence (batch x seq per step), as the
// Hugging Face peer script (scripts/benchmark/hf_peft_train.py) counts them, so the two agree.
package dev.entity.training.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.entity.core.EntityException;
import dev.entity.engine.backend.BackendProfiler;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.model.ModelConfig;
import dev.entity.training.train.MemoryEstimator;
import dev.entity.training.train.TrainingBenchmark;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code entity-train benchmark train}: training speed and peak memory of one setup on a model
 * shape with random weights, next to the memory estimator's figure (see {@link TrainingBenchmark}).
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Measure training tokens/s and peak memory on a model shape with random weights.",
    description = {
      "Builds the model with random weights (nothing is downloaded), trains on seeded random"
          + " tokens for --warmup untimed and --steps timed optimizer steps, and prints tokens/s,"
          + " step times, peak RSS, the engine's tensor bytes, and the memory estimate next to"
          + " the measured peak.",
      "",
      "Shapes: tiny, gpt2, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train benchmark train --shape smollm2-135m --method lora --seq 512 \\",
      "      --batch 4 --steps 5",
      "  entity-train benchmark train --shape tiny --seq 256 --steps 2 --json tiny.json",
      "  entity-train benchmark train --shape smollm2-135m --steps 2 --profile",
      "  entity-train benchmark train --shape llama-3.2-1b --method qlora --seq 256 \\",
      "      --batch 1 --steps 3"
    })
final class BenchmarkTrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  EstimateMemoryCommand.ModelSource source; // --model DIR | --shape NAME, as estimate-memory

  @Option(
      names = "--method",
      paramLabel = "full|lora|qlora",
      defaultValue = "lora",
      description = "full, lora or qlora (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(
      names = "--seq",
      paramLabel = "N",
      defaultValue = "512",
      description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
  int seq;

  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "4",
      description = "Sequences per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--steps",
      paramLabel = "N",
      defaultValue = "5",
      description = "Timed optimizer steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      defaultValue = "2",
      description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(
      names = "--rank",
      paramLabel = "R",
      defaultValue = "16",
      description = "LoRA rank; alpha is 2R (default: ${DEFAULT-VALUE}).")
  int rank;

  @Option(
      names = "--targets",
      paramLabel = "LIST",
      defaultValue = "all-linear",
      split = ",",
      description = "LoRA target modules, comma-separated (default: ${DEFAULT-VALUE}).")
  List<String> targets;

  @Option(
      names = "--dropout",
      paramLabel = "P",
      defaultValue = "0.1",
      description = "LoRA dropout, as training's default (default: ${DEFAULT-VALUE}).")
  double dropout;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description = "Worker threads, 0 = every core (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--device",
      paramLabel = "auto|cpu|cuda",
      defaultValue = "cpu",
      description = "cpu, cuda or auto: the backend to train on (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--checkpointing", description = "Gradient checkpointing on.")
  boolean checkpointing;

  @Option(
      names = "--frozen-dtype",
      paramLabel = "f32|bf16",
      defaultValue = "f32",
      description = "Storage of frozen weights, full and lora (default: ${DEFAULT-VALUE}).")
  String frozenDtype;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "42",
      description = "Seed of the weights and tokens (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--profile",
      description = "Also print the time of each backend op over the timed steps.")
  boolean profile;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON.")
  Path json;

  @Override
  public Integer call() {
    TrainingBenchmark.Setup setup = setup();
    PrintWriter out = spec.commandLine().getOut();
    TrainingBenchmark.Machine machine = TrainingBenchmark.Machine.detect();
    out.printf(Locale.ROOT, "Benchmark: %s%n", describe(setup));
    out.printf(
        Locale.ROOT,
        "Machine: %d cores, %s, %s, load average %.2f%n",
        machine.cores(),
        machine.cpuModel(),
        machine.jvm(),
        machine.loadAverage());
    out.flush();
    BackendProfiler profiler = profile ? new BackendProfiler() : null;
    TrainingBenchmark.Result r = TrainingBenchmark.run(setup, device, out, profiler);
    print(out, r);
    if (profiler != null) {
      printProfile(out, profiler.entries(), r);
    }
    if (json != null) {
      writeJson(r, profiler == null ? List.of() : profiler.entries());
      out.println("Figures written to " + json);
    }
    return 0;
  }

  private TrainingBenchmark.Setup setup() {
    if (!List.of("full", "lora", "qlora").contains(method)) {
      throw new EntityException("--method: '" + method + "' is not one of full, lora, qlora");
    }
    if (!List.of("f32", "bf16").contains(frozenDtype)) {
      throw new EntityException("--frozen-dtype: '" + frozenDtype + "' is not one of f32, bf16");
    }
    if (method.equals("qlora") && !frozenDtype.equals("f32")) {
      throw new EntityException(
          "--frozen-dtype: qlora keeps frozen weights in NF4; leave --frozen-dtype out");
    }
    positive("--seq", seq);
    positive("--batch", batch);
    positive("--steps", steps);
    positive("--rank", rank);
    if (warmup < 0) {
      throw new EntityException("--warmup: must be 0 or more, got " + warmup);
    }
    if (threads < 0) {
      throw new EntityException("--threads: must be 0 (every core) or more, got " + threads);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new EntityException("--dropout: must be in [0, 1), got " + dropout);
    }
    ModelConfig model =
        source.model != null ? ModelConfig.load(source.model) : ModelConfig.shape(source.shape);
    String name = source.model != null ? source.model.toString() : source.shape;
    return new TrainingBenchmark.Setup(
        model,
        name,
        method,
        seq,
        batch,
        warmup,
        steps,
        rank,
        targets,
        dropout,
        threads,
        checkpointing,
        frozenDtype,
        seed);
  }

  private static void positive(String flag, int value) {
    if (value <= 0) {
      throw new EntityException(flag + ": must be a positive number, got " + value);
    }
  }

  private static String describe(TrainingBenchmark.Setup s) {
    String method =
        s.method().equals("full")
            ? "full fine-tuning"
            : String.format(
                Locale.ROOT,
                "%s r=%d on %s (dropout %s)",
                s.method(),
                s.rank(),
                String.join(",", s.targets()),
                s.dropout());
    return String.format(
        Locale.ROOT,
        "%s, %s, frozen %s%s, seq %d x batch %d, %d warm-up + %d timed steps",
        s.modelName(),
        method,
        s.method().equals("qlora") ? "nf4" : s.frozenDtype(),
        s.checkpointing() ? ", gradient checkpointing" : "",
        s.seq(),
        s.batch(),
        s.warmup(),
        s.steps());
  }

  private static void print(PrintWriter out, TrainingBenchmark.Result r) {
    MemoryEstimator.Estimate e = r.estimate();
    out.println();
    out.printf(
        Locale.ROOT,
        "tokens/s          %.1f (%d tokens per step, %d threads)%n",
        r.tokensPerSecond(),
        r.tokensPerStep(),
        r.threads());
    out.printf(
        Locale.ROOT,
        "step time         mean %.3f s, min %.3f s%n",
        r.meanStepSeconds(),
        r.minStepSeconds());
    out.printf(
        Locale.ROOT,
        "peak RSS          %s during training%s; %s for the whole process%n",
        DeviceInfo.formatBytes(r.trainingPeakRssBytes()),
        r.peakReset() ? "" : " (high-water mark could not be reset: whole process)",
        DeviceInfo.formatBytes(r.processPeakRssBytes()));
    out.printf(
        Locale.ROOT,
        "parameter store   %s weights (%,d parameters, %,d trainable)%n",
        DeviceInfo.formatBytes(r.storeBytes()),
        r.parameters(),
        r.trainableParameters());
    out.println();
    out.println("Memory: estimate against measurement");
    String row = "  %-28s %12s %12s%n";
    out.printf(Locale.ROOT, row, "", "estimated", "measured");
    compare(out, row, "weights", weights(e), r.storeBytes());
    compare(out, row, "gradients", e.bytesOf("gradients (F32)"), r.gradientBytes());
    compare(out, row, "AdamW moments", e.bytesOf("AdamW moments (2 × F32)"), r.optimizerBytes());
    compare(out, row, "activations + logits + work", activations(e), r.activationBytes());
    compare(
        out,
        row,
        "rest (JVM, runtime, other)",
        e.bytesOf("runtime overhead"),
        r.trainingPeakRssBytes() - r.tensorBytes());
    compare(out, row, "total / peak RSS", e.total(), r.trainingPeakRssBytes());
    double ratio = r.estimateRatio();
    out.printf(
        Locale.ROOT,
        "  estimate / measured peak = %.3f (%s)%n",
        ratio,
        Math.abs(ratio - 1) <= 0.15 ? "within 15%" : "OUTSIDE 15%");
    out.flush();
  }

  /** The ops that took the most time, then the rest as one line. */
  private static void printProfile(
      PrintWriter out, List<BackendProfiler.Entry> entries, TrainingBenchmark.Result r) {
    double total = entries.stream().mapToDouble(BackendProfiler.Entry::seconds).sum();
    double steps = r.stepSeconds().length;
    out.println();
    out.printf(
        Locale.ROOT,
        "Time by backend op, per step (%.3f s of the %.3f s mean step is inside the backend)%n",
        total / steps,
        r.meanStepSeconds());
    out.printf(Locale.ROOT, "  %9s %6s %6s  %s%n", "seconds", "share", "calls", "op");
    int shown = Math.min(PROFILE_ROWS, entries.size());
    for (BackendProfiler.Entry e : entries.subList(0, shown)) {
      out.printf(
          Locale.ROOT,
          "  %9.4f %5.1f%% %6d  %s%n",
          e.seconds() / steps,
          100 * e.seconds() / total,
          Math.round(e.calls() / steps),
          e.op());
    }
    if (entries.size() > shown) {
      double rest = 0;
      long calls = 0;
      for (BackendProfiler.Entry e : entries.subList(shown, entries.size())) {
        rest += e.seconds();
        calls += e.calls();
      }
      out.printf(
          Locale.ROOT,
          "  %9.4f %5.1f%% %6d  (%d other ops)%n",
          rest / steps,
          100 * rest / total,
          Math.round(calls / steps),
          entries.size() - shown);
    }
    out.flush();
  }

  private static final int PROFILE_ROWS = 30;

  private static void compare(PrintWriter out, String row, String what, long est, long measured) {
    out.printf(
        Locale.ROOT, row, what, DeviceInfo.formatBytes(est), DeviceInfo.formatBytes(measured));
  }

  private static long weights(MemoryEstimator.Estimate e) {
    return e.items().stream()
        .filter(
            i ->
                i.name().startsWith("frozen")
                    || i.name().startsWith("LoRA adapters")
                    || i.name().startsWith("trainable weights"))
        .mapToLong(MemoryEstimator.Item::bytes)
        .sum();
  }

  private static long activations(MemoryEstimator.Estimate e) {
    return e.bytesOf("activations (F32)")
        + e.bytesOf("logits chunk (F32)")
        + e.bytesOf("workspace");
  }

  private void writeJson(TrainingBenchmark.Result r, List<BackendProfiler.Entry> profile) {
    TrainingBenchmark.Setup s = r.setup();
    Map<String, Object> setup = new LinkedHashMap<>();
    setup.put("model", s.modelName());
    setup.put("method", s.method());
    setup.put("seq", s.seq());
    setup.put("batch", s.batch());
    setup.put("warmup", s.warmup());
    setup.put("steps", s.steps());
    setup.put("rank", s.rank());
    setup.put("targets", s.targets());
    setup.put("dropout", s.dropout());
    setup.put("threads", r.threads());
    setup.put("checkpointing", s.checkpointing());
    setup.put("frozen_dtype", s.method().equals("qlora") ? "nf4" : s.frozenDtype());
    setup.put("seed", s.seed());
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("cores", r.machine().cores());
    machine.put("cpu_model", r.machine().cpuModel());
    machine.put("jvm", r.machine().jvm());
    machine.put("load_average", r.machine().loadAverage());
    Map<String, Object> estimate = new LinkedHashMap<>();
    for (MemoryEstimator.Item i : r.estimate().items()) {
      estimate.put(i.name(), i.bytes());
    }
    estimate.put("total", r.estimate().total());
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("engine", "entity-training");
    root.put("setup", setup);
    root.put("machine", machine);
    root.put("tokens_per_second", r.tokensPerSecond());
    root.put("mean_step_seconds", r.meanStepSeconds());
    root.put("min_step_seconds", r.minStepSeconds());
    root.put("step_seconds", Arrays.stream(r.stepSeconds()).boxed().toList());
    float[] losses = r.losses();
    Double[] boxed = new Double[losses.length];
    for (int i = 0; i < losses.length; i++) {
      boxed[i] = (double) losses[i];
    }
    root.put("losses", List.of(boxed));
    root.put("peak_rss_bytes", r.trainingPeakRssBytes());
    root.put("process_peak_rss_bytes", r.processPeakRssBytes());
    root.put("peak_reset_after_build", r.peakReset());
    root.put("parameters", r.parameters());
    root.put("trainable_parameters", r.trainableParameters());
    root.put("parameter_store_bytes", r.storeBytes());
    root.put("gradient_bytes", r.gradientBytes());
    root.put("optimizer_bytes", r.optimizerBytes());
    root.put("activation_bytes", r.activationBytes());
    root.put("heap_used_bytes", r.heapUsedBytes());
    root.put("estimate_bytes", estimate);
    root.put("estimate_ratio", r.estimateRatio());
    if (!profile.isEmpty()) { // totals over the timed steps
      root.put("backend_ops", profile);
    }
    try {
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), root);
    } catch (IOException ex) {
      throw new EntityException("--json: cannot write " + json + ": " + ex.getMessage());
    }
  }
}
