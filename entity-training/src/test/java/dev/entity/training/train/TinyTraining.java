package dev.entity.training.train;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.HfCheckpoint;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.optim.AdamW;
import dev.entity.engine.tensor.DType;
import dev.entity.training.data.BatchPosition;
import dev.entity.training.data.BatchSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A tiny random llama (hidden 32, 2 layers, vocab 96) saved as a Hugging Face folder, a seeded
 * tokenizer-free batch source, and the config and session the trainer tests share.
 */
public final class TinyTraining {

  public static final int VOCAB = 96;
  public static final int SEQ = 12;

  private TinyTraining() {}

  public static ModelConfig modelConfig() {
    return new ModelConfig(
        Architecture.LLAMA,
        "llama",
        VOCAB,
        32,
        2,
        4,
        2,
        8,
        64,
        64,
        1e-5,
        10000,
        null,
        false,
        false,
        false,
        false,
        "silu",
        1,
        List.of(2),
        "float32",
        null);
  }

  /** Writes the model folder (config.json, model.safetensors, a tokenizer file to copy). */
  public static Path writeModel(Path folder) throws IOException {
    try (Backend b = new CpuBackend(1);
        Decoder d = new Decoder(b, modelConfig(), Decoder.Options.full())) {
      d.initializeRandom(7, 0.1f);
      HfCheckpoint.save(d, folder, 1L << 30);
    }
    Files.writeString(folder.resolve("tokenizer_config.json"), "{\"model_max_length\": 64}\n");
    return folder;
  }

  public static LoraConfig lora() {
    return new LoraConfig(4, 8, 0.1, List.of("q_proj", "v_proj", "down_proj"), false, 42);
  }

  public static TrainingConfig config(Path model, Path out, String method) {
    TrainingConfig c =
        TrainingConfig.defaults(model.toString())
            .with("training_method", method)
            .with("output_dir", out.toString())
            .with("learning_rate", 5e-3)
            .with("batch_size", 2)
            .with("gradient_accumulation_steps", 2)
            .with("max_steps", 12)
            .with("warmup_steps", 2)
            .with("lr_scheduler", "cosine")
            .with("logging_steps", 1)
            .with("save_steps", 3)
            .with("evaluation_steps", 3)
            .with("save_total_limit", 2)
            .with("max_seq_length", SEQ);
    if (method.equals("lora")) {
      c =
          c.with("lora_r", 4)
              .with("lora_alpha", 8)
              .with("target_modules", List.of("q_proj", "v_proj", "down_proj"))
              .with("seed", 42L);
    }
    return c;
  }

  public static TrainingSession session(Backend backend, Path model, TrainingConfig config) {
    Decoder.Options options =
        config.method() == TrainingConfig.Method.FULL
            ? Decoder.Options.full()
            : Decoder.Options.lora(
                new LoraConfig(
                    config.loraR(),
                    config.loraAlpha(),
                    config.loraDropout(),
                    config.targetModules(),
                    config.useRslora(),
                    config.seed()));
    return TrainingSession.open(
        backend,
        model,
        options.withFrozenDType(DType.F32),
        new AdamW.Config(0.9f, 0.999f, 1e-8f, config.weightDecay().floatValue(), false));
  }

  /** Right-padded random sequences of 5..SEQ tokens, labels on every token. */
  public static List<Batch> batches(long seed, int count, int batchSize) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<Batch> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[][] ids = new int[batchSize][SEQ];
      int[][] mask = new int[batchSize][SEQ];
      int[][] labels = new int[batchSize][SEQ];
      for (int r = 0; r < batchSize; r++) {
        int len = 5 + rng.nextInt(SEQ - 4);
        // a learnable pattern: each token follows the previous by a fixed stride
        int start = rng.nextInt(VOCAB);
        for (int t = 0; t < SEQ; t++) {
          boolean real = t < len;
          ids[r][t] = real ? (start + 7 * t) % VOCAB : 0;
          mask[r][t] = real ? 1 : 0;
          labels[r][t] = real ? ids[r][t] : -100;
        }
      }
      out.add(Batch.fromHuggingFace(ids, mask, labels));
    }
    return out;
  }

  /**
   * A test stand-in for data preparation: a fixed list of equal-size batches, reshuffled per epoch
   * from (seed, epoch).
   */
  public static final class ListSource implements BatchSource {
    private final List<Batch> batches;
    private final long seed;
    private final int pieces; // micro-batches cut from each listed batch (1 = as listed)
    private int[] order;
    private int epoch;
    private long index;

    public ListSource(List<Batch> batches, long seed) {
      this(batches, seed, 1);
    }

    private ListSource(List<Batch> batches, long seed, int pieces) {
      this.batches = List.copyOf(batches);
      this.seed = seed;
      this.pieces = pieces;
      seek(BatchPosition.start());
    }

    @Override
    public int microBatchSize() {
      return batches.getFirst().batchSize() / pieces;
    }

    @Override
    public long batchesPerEpoch() {
      return (long) batches.size() * pieces;
    }

    @Override
    public long seed() {
      return seed;
    }

    @Override
    public long rowsPerEpoch() {
      return batches.stream().mapToLong(Batch::batchSize).sum();
    }

    @Override
    public BatchPosition position() {
      return new BatchPosition(epoch, index);
    }

    @Override
    public void seek(BatchPosition p) {
      epoch = p.epoch();
      index = p.batchIndex();
      order = new int[batches.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      SplittableRandom rng = new SplittableRandom(seed * 31 + epoch);
      for (int i = order.length - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }

    @Override
    public Batch next() {
      Batch whole = batches.get(order[(int) (index / pieces)]);
      Batch b =
          pieces == 1
              ? whole
              : MicroBatches.split(whole, microBatchSize()).get((int) (index % pieces));
      index++;
      if (index == batchesPerEpoch()) {
        seek(new BatchPosition(epoch + 1, 0));
      }
      return b;
    }

    /** The same batches in the same order, each cut into row pieces of {@code size}. */
    @Override
    public BatchSource withMicroBatchSize(int size) {
      int rows = batches.getFirst().batchSize();
      long row = position().rowOffset(microBatchSize());
      if (rows % size != 0 || row % size != 0) {
        throw new IllegalArgumentException("cannot cut batches of " + rows + " rows by " + size);
      }
      ListSource cut = new ListSource(batches, seed, rows / size);
      cut.seek(new BatchPosition(epoch, row / size));
      return cut;
    }
  }
}
