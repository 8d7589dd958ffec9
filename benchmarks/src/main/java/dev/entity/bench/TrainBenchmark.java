// Convention: one method per JVM run, so the process's peak RSS (VmHWM) belongs to that method
// alone; the first step is warm-up (JIT, activation planning) and is not timed.
package dev.entity.bench;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.backend.ProcessMemory;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.ParameterStore.Storage;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.tensor.DType;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * End-to-end training-step benchmark on a real architecture's shape with random weights: LoRA
 * (frozen base F32 or BF16) against QLoRA (NF4 base with double quantization, BF16 or F32 compute),
 * r=16 on every linear of the blocks. Prints the frozen-weight bytes by storage, tokens per second
 * over the timed steps, and the process's peak and current RSS.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *   dev.entity.bench.TrainBenchmark --shape llama-3.2-1b --method qlora --seq 512 --batch 1 --steps 3
 * </pre>
 *
 * Methods: {@code lora} (F32 frozen), {@code lora-bf16}, {@code qlora} (BF16 compute), {@code
 * qlora-f32} (F32 compute).
 */
public final class TrainBenchmark {

  private TrainBenchmark() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("--shape", "smollm2-135m");
    a.put("--method", "qlora");
    a.put("--seq", "512");
    a.put("--batch", "1");
    a.put("--steps", "3");
    a.put("--threads", "0");
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!a.containsKey(args[i])) {
        throw new IllegalArgumentException("unknown option " + args[i] + "; known: " + a.keySet());
      }
      a.put(args[i], args[i + 1]);
    }
    ModelConfig shape = ModelConfig.shape(a.get("--shape"));
    String method = a.get("--method");
    int seq = Integer.parseInt(a.get("--seq"));
    int batch = Integer.parseInt(a.get("--batch"));
    int steps = Integer.parseInt(a.get("--steps"));
    LoraConfig lora = new LoraConfig(16, 32, 0, List.of(LoraConfig.ALL_LINEAR), false, 1);
    Decoder.Options options =
        switch (method) {
          case "lora" -> Decoder.Options.lora(lora);
          case "lora-bf16" -> Decoder.Options.lora(lora).withFrozenDType(DType.BF16);
          case "qlora" -> Decoder.Options.qlora(lora, new Nf4Config(DType.BF16, true));
          case "qlora-f32" -> Decoder.Options.qlora(lora, new Nf4Config(DType.F32, true));
          default -> throw new IllegalArgumentException("unknown method " + method);
        };
    Backend backend = MatmulBenchmark.cpuBackend(Integer.parseInt(a.get("--threads")));
    long t0 = System.nanoTime();
    try (TrainingSession s =
        new TrainingSession(new Decoder(backend, shape, options), AdamW.Config.torch(0f))) {
      s.decoder().initializeRandom(1, 0.02f);
      double loadSeconds = (System.nanoTime() - t0) / 1e9;
      var store = s.decoder().store();
      System.out.printf(
          Locale.ROOT,
          "%s %s: frozen F32 %s, frozen compact %s, frozen NF4 %s, trainable %s (filled in %.1f"
              + " s)%n",
          a.get("--shape"),
          method,
          mib(store.bytes(Storage.FROZEN)),
          mib(store.bytes(Storage.FROZEN_COMPACT)),
          mib(store.bytes(Storage.FROZEN_NF4)),
          mib(store.bytes(Storage.TRAINABLE)),
          loadSeconds);
      Batch b = randomBatch(shape.vocabSize(), batch, seq);
      double timed = 0;
      for (int step = 0; step <= steps; step++) {
        long start = System.nanoTime();
        s.zeroGrad();
        float loss = s.accumulate(b, 1f);
        s.step(1e-4f, 1.0);
        double sec = (System.nanoTime() - start) / 1e9;
        if (step > 0) {
          timed += sec;
        }
        System.out.printf(
            Locale.ROOT,
            "  step %d%s: loss %.4f, %.2f s, %.1f tokens/s%n",
            step,
            step == 0 ? " (warm-up)" : "",
            loss,
            sec,
            batch * seq / sec);
      }
      ProcessMemory.Reading memory = ProcessMemory.read();
      System.out.printf(
          Locale.ROOT,
          "%s %s seq %d batch %d: %.1f tokens/s over %d steps; peak RSS %s, RSS %s%n",
          a.get("--shape"),
          method,
          seq,
          batch,
          (double) batch * seq * steps / timed,
          steps,
          bytes(memory.peakResidentBytes()),
          bytes(memory.residentBytes()));
      if (store.nf4Scratch() != null) { // the QLoRA overhead: every NF4 weight dequantized twice
        long start = System.nanoTime();
        int passes = 3;
        for (int p = 0; p < passes; p++) {
          for (var slot : store.slots()) {
            if (slot.storage() == Storage.FROZEN_NF4) {
              store.nf4(slot.name()).dequantize(backend, store.nf4Scratch());
            }
          }
        }
        double pass = (System.nanoTime() - start) / 1e9 / passes;
        System.out.printf(
            Locale.ROOT,
            "  dequantizing every NF4 weight once: %.3f s (twice per step: %.1f%% of the mean"
                + " step)%n",
            pass,
            100 * 2 * pass / (timed / steps));
      }
    } finally {
      backend.close();
    }
  }

  private static Batch randomBatch(int vocab, int batch, int seq) {
    SplittableRandom rng = new SplittableRandom(5);
    int[][] ids = new int[batch][seq];
    int[][] mask = new int[batch][seq];
    for (int i = 0; i < batch; i++) {
      for (int j = 0; j < seq; j++) {
        ids[i][j] = rng.nextInt(vocab);
        mask[i][j] = 1;
      }
    }
    return Batch.fromHuggingFace(ids, mask, ids);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }

  /** Bytes in binary units, or "n/a" where /proc is missing. */
  private static String bytes(long b) {
    return b < 0 ? "n/a" : DeviceInfo.formatBytes(b);
  }
}
