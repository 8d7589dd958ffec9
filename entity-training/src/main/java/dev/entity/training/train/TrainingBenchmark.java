// Convention: the peak RSS compared with the estimate is the TRAINING peak: the kernel's high-water
// mark (VmHWM) is reset (ProcessMemory.resetPeak) once the model is built, so the transient host
// copies made while filling random weights do not count; the whole-process peak is reported next
// to it. Where the reset is refused, the training peak is the process peak and says so.
package dev.entity.training.train;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.BackendProfiler;
import dev.entity.engine.backend.Backends;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.backend.ProcessMemory;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.tensor.DType;
import dev.entity.training.train.metrics.MemoryProbe;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measures LoRA, QLoRA or full fine-tuning on a model shape with random weights (no download):
 * builds the {@link Decoder} on the chosen backend (the CPU unless {@code --device} says
 * otherwise), draws seeded random token batches, runs warm-up steps, then times each optimizer step
 * (forward + backward, global grad norm, AdamW) and reads the peak resident set size. The result
 * carries the {@link MemoryEstimator}'s figure for the same setup and the engine's own tensor
 * bytes, so a gap between estimate and measurement can be traced to a component.
 */
public final class TrainingBenchmark {

  /**
   * What to measure.
   *
   * @param model the model's shape
   * @param modelName how the model was named (shape name or folder), for the report
   * @param method full, lora or qlora
   * @param seq tokens per sequence
   * @param batch sequences per step
   * @param warmup untimed steps first
   * @param steps timed optimizer steps
   * @param rank LoRA rank (lora, qlora)
   * @param targets LoRA target modules (PEFT names or all-linear)
   * @param dropout LoRA dropout
   * @param threads worker threads (0 = all cores)
   * @param checkpointing gradient checkpointing
   * @param frozenDtype f32 or bf16: storage of frozen matrices (lora, full)
   * @param seed seed of the weights and the token batches
   */
  public record Setup(
      ModelConfig model,
      String modelName,
      String method,
      int seq,
      int batch,
      int warmup,
      int steps,
      int rank,
      List<String> targets,
      double dropout,
      int threads,
      boolean checkpointing,
      String frozenDtype,
      long seed) {
    public Setup {
      targets = List.copyOf(targets);
    }

    /** The training config these settings correspond to, for the memory estimator. */
    public TrainingConfig trainingConfig() {
      TrainingConfig c =
          TrainingConfig.defaults(modelName)
              .with("training_method", method)
              .with("batch_size", batch)
              .with("max_seq_length", seq)
              .with("gradient_checkpointing", checkpointing);
      if (!method.equals("full")) {
        c =
            c.with("lora_r", rank)
                .with("lora_alpha", 2 * rank)
                .with("lora_dropout", dropout)
                .with("target_modules", targets);
      }
      if (!method.equals("qlora")) {
        c = c.with("frozen_weights_dtype", frozenDtype);
      }
      return c;
    }
  }

  /**
   * The machine the benchmark ran on.
   *
   * @param cores processors the JVM sees
   * @param cpuModel the "model name" line of /proc/cpuinfo (or the OS architecture)
   * @param jvm the Java runtime's name and version
   * @param loadAverage the one-minute load average at the start (-1 when unknown)
   */
  public record Machine(int cores, String cpuModel, String jvm, double loadAverage) {

    /** This machine, now. */
    public static Machine detect() {
      String model = System.getProperty("os.arch");
      try {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
          if (line.startsWith("model name")) {
            model = line.substring(line.indexOf(':') + 1).strip();
            break;
          }
        }
      } catch (IOException | RuntimeException e) {
        // not Linux: the architecture stands in
      }
      return new Machine(
          Runtime.getRuntime().availableProcessors(),
          model,
          System.getProperty("java.vm.name") + " " + Runtime.version(),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  /**
   * What was measured.
   *
   * @param setup what was run
   * @param machine where
   * @param threads worker threads used
   * @param stepSeconds each timed step's wall time
   * @param losses each timed step's loss
   * @param parameters all parameters
   * @param trainableParameters parameters trained
   * @param storeBytes the parameter store's buffers: trainable + frozen + compact + NF4 (weights)
   * @param gradientBytes the gradient buffer
   * @param optimizerBytes AdamW's two moment buffers
   * @param activationBytes the activation arena (saved state, work buffers, logits chunk)
   * @param trainingPeakRssBytes VmHWM over warm-up and timed steps (see the file comment)
   * @param processPeakRssBytes VmHWM of the whole process, model building included
   * @param peakReset whether the high-water mark could be reset after building the model
   * @param heapUsedBytes JVM heap in use after the last step
   * @param estimate the memory estimator's figure for the same setup
   */
  public record Result(
      Setup setup,
      Machine machine,
      int threads,
      double[] stepSeconds,
      float[] losses,
      long parameters,
      long trainableParameters,
      long storeBytes,
      long gradientBytes,
      long optimizerBytes,
      long activationBytes,
      long trainingPeakRssBytes,
      long processPeakRssBytes,
      boolean peakReset,
      long heapUsedBytes,
      MemoryEstimator.Estimate estimate) {

    public long tokensPerStep() {
      return (long) setup.batch() * setup.seq();
    }

    public double meanStepSeconds() {
      double sum = 0;
      for (double s : stepSeconds) {
        sum += s;
      }
      return sum / stepSeconds.length;
    }

    public double minStepSeconds() {
      double min = Double.POSITIVE_INFINITY;
      for (double s : stepSeconds) {
        min = Math.min(min, s);
      }
      return min;
    }

    public double tokensPerSecond() {
      return tokensPerStep() / meanStepSeconds();
    }

    /** The engine's tensors: parameters, gradients, moments and activations. */
    public long tensorBytes() {
      return storeBytes + gradientBytes + optimizerBytes + activationBytes;
    }

    /** Estimated total over the measured training peak. */
    public double estimateRatio() {
      return (double) estimate.total() / trainingPeakRssBytes;
    }
  }

  private TrainingBenchmark() {}

  /**
   * Runs the benchmark; progress lines (one per step) go to {@code progress}.
   *
   * @throws EntityException for a setup the engine or the estimator refuses
   */
  public static Result run(Setup setup, PrintWriter progress) {
    return run(setup, "cpu", progress);
  }

  /**
   * Runs the benchmark on the backend {@code device} names (cpu, cuda or auto, as {@code
   * --device}); on a GPU the peak device memory is printed after the last step.
   *
   * @throws EntityException for a setup the engine or the estimator refuses, or a device that
   *     cannot be used here
   */
  public static Result run(Setup setup, String device, PrintWriter progress) {
    return run(setup, device, progress, null);
  }

  /**
   * As {@link #run(Setup, String, PrintWriter)}, timing every backend op of the timed steps in
   * {@code profiler} when it is not null.
   */
  public static Result run(
      Setup setup, String device, PrintWriter progress, BackendProfiler profiler) {
    TrainingConfig config = setup.trainingConfig();
    List<String> violations = config.violations(setup.model());
    if (!violations.isEmpty()) {
      throw new EntityException(
          "this benchmark setup is not valid: " + String.join("; ", violations));
    }
    MemoryEstimator.Estimate estimate =
        new MemoryEstimator(setup.model(), config, MemoryEstimator.Target.CPU).estimate();
    Machine machine = Machine.detect();
    MemoryProbe probe = new MemoryProbe();
    try (Backend backend = openBackend(device, setup.threads());
        TrainingSession session =
            new TrainingSession(
                new Decoder(
                    profiler == null ? backend : profiler.wrap(backend),
                    setup.model(),
                    options(setup)),
                AdamW.Config.torch(0f))) {
      if (backend.name().equals("cuda")) {
        estimate =
            new MemoryEstimator(setup.model(), config, MemoryEstimator.Target.CUDA).estimate();
      }
      Decoder decoder = session.decoder();
      progress.printf(
          Locale.ROOT,
          "Building %s with random weights (%,d parameters)...%n",
          setup.modelName(),
          decoder.store().parameterCount());
      progress.flush();
      decoder.initializeRandom(setup.seed(), 0.02f);
      long processPeakAfterBuild = probe.sample().peakRssBytes();
      boolean reset = ProcessMemory.resetPeak();
      SplittableRandom rng = new SplittableRandom(setup.seed());
      int total = setup.warmup() + setup.steps();
      double[] seconds = new double[setup.steps()];
      float[] losses = new float[setup.steps()];
      for (int i = 0; i < total; i++) {
        Batch b = randomBatch(rng, setup.batch(), setup.seq(), setup.model().vocabSize());
        if (profiler != null) {
          profiler.recording(i >= setup.warmup());
        }
        long start = System.nanoTime();
        session.zeroGrad();
        float loss = session.accumulate(b, 1f);
        session.step(1e-4f, 1.0);
        double s = (System.nanoTime() - start) / 1e9;
        boolean warm = i < setup.warmup();
        if (!warm) {
          seconds[i - setup.warmup()] = s;
          losses[i - setup.warmup()] = loss;
        }
        progress.printf(
            Locale.ROOT,
            "  %s %d/%d: %.3f s, loss %.4f, %.1f tokens/s%n",
            warm ? "warm-up" : "step",
            warm ? i + 1 : i - setup.warmup() + 1,
            warm ? setup.warmup() : setup.steps(),
            s,
            loss,
            (double) setup.batch() * setup.seq() / s);
        progress.flush();
      }
      if (profiler != null) {
        profiler.recording(false);
      }
      if (backend.peakDeviceBytes() >= 0) {
        progress.printf(
            Locale.ROOT,
            "  peak device memory on %s: %s%n",
            backend.device(),
            DeviceInfo.formatBytes(backend.peakDeviceBytes()));
        progress.flush();
      }
      MemoryProbe.Snapshot after = probe.sample();
      ParameterStore store = decoder.store();
      long weights = 0;
      for (ParameterStore.Storage storage : ParameterStore.Storage.values()) {
        weights += store.bytes(storage);
      }
      long trainableBytes = store.bytes(ParameterStore.Storage.TRAINABLE);
      return new Result(
          setup,
          machine,
          backend instanceof CpuBackend cpu ? cpu.threads() : 0,
          seconds,
          losses,
          store.parameterCount(),
          store.trainableCount(),
          weights,
          trainableBytes,
          2 * trainableBytes,
          decoder.activationElements() * 4,
          after.peakRssBytes(),
          Math.max(processPeakAfterBuild, after.peakRssBytes()),
          reset,
          after.heapUsedBytes(),
          estimate);
    }
  }

  /** The backend {@code --device} names; a device that cannot be used is a user error. */
  private static Backend openBackend(String device, int threads) {
    try {
      return Backends.open(device, threads);
    } catch (EngineException e) {
      throw new EntityException("--device " + e.getMessage(), e);
    }
  }

  private static Decoder.Options options(Setup setup) {
    if (setup.method().equals("full")) {
      return Decoder.Options.full()
          .withFrozenDType(frozen(setup))
          .withGradientCheckpointing(setup.checkpointing());
    }
    LoraConfig lora =
        new LoraConfig(
            setup.rank(), 2.0 * setup.rank(), setup.dropout(), setup.targets(), false, 42);
    Decoder.Options options =
        setup.method().equals("qlora")
            ? Decoder.Options.qlora(lora, Nf4Config.of("float32", true))
            : Decoder.Options.lora(lora).withFrozenDType(frozen(setup));
    return options.withGradientCheckpointing(setup.checkpointing());
  }

  private static DType frozen(Setup setup) {
    return setup.frozenDtype().equals("bf16") ? DType.BF16 : DType.F32;
  }

  /** Uniform random tokens; every position but the last of each row has a target. */
  static Batch randomBatch(SplittableRandom rng, int batch, int seq, int vocab) {
    int n = batch * seq;
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = rng.nextInt(vocab);
    }
    int[][] rows = new int[batch][seq];
    int[][] mask = new int[batch][seq];
    for (int i = 0; i < batch; i++) {
      System.arraycopy(ids, i * seq, rows[i], 0, seq);
      java.util.Arrays.fill(mask[i], 1);
    }
    return Batch.fromHuggingFace(rows, mask, rows);
  }
}
