package dev.entity.engine.format.gguf;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.Family;
import dev.entity.engine.model.HfCheckpoint;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import dev.entity.engine.tokenizer.BpeTrainer;
import dev.entity.engine.tokenizer.TrainedBpe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Complete tiny Hugging Face model folders (config.json, random weights, a trained byte-level BPE
 * tokenizer with special tokens and a ChatML template) for the GGUF export tests. Widths are
 * multiples of 32 so every matrix quantizes; weights have std 0.1 so logits are far from uniform.
 */
final class TinyHfModels {

  static final List<String> SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
  static final String CHATML =
      "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

  private TinyHfModels() {}

  static TrainedBpe tokenizer() {
    List<String> corpus = new ArrayList<>();
    String[] lines = {
      "The quick brown fox jumps over the lazy dog.",
      "Hello world! Fine-tuning models on the JVM, without Python.",
      "GGUF files load in llama.cpp; logits must match at every position.",
      "Numbers like 12345 and 3.14159 and dates 2026-11-25 appear too.",
      "  Leading spaces,\ttabs and\nnew lines are kept as they are.  ",
      "Ünïcödé text: naïve café, 東京, emoji 🙂 and more.",
    };
    for (int i = 0; i < 8; i++) {
      corpus.addAll(List.of(lines));
    }
    return new BpeTrainer(new BpeTrainer.Config(300, 2, SPECIALS)).train(corpus);
  }

  static ModelConfig config(Architecture arch, int vocab) {
    return switch (arch) {
      case LLAMA ->
          new ModelConfig(
              arch,
              "llama",
              vocab,
              64,
              2,
              4,
              2,
              16,
              96,
              128,
              1e-5,
              10000,
              new ModelConfig.RopeScaling(8, 1, 4, 16),
              false,
              false,
              false,
              false,
              "silu",
              null,
              List.of(0),
              "float32",
              null);
      case QWEN2 ->
          new ModelConfig(
              arch,
              "qwen2",
              vocab + 20,
              64,
              2,
              4,
              2,
              16,
              96,
              128,
              1e-6,
              1000000,
              null,
              true,
              true,
              false,
              false,
              "silu",
              null,
              List.of(0),
              "float32",
              null);
      case GPT2 ->
          new ModelConfig(
              arch,
              "gpt2",
              vocab,
              64,
              2,
              4,
              4,
              16,
              128,
              128,
              1e-5,
              10000,
              null,
              true,
              true,
              true,
              true,
              "gelu_new",
              null,
              List.of(0),
              "float32",
              null);
    };
  }

  /** Writes a tiny model of {@code arch} into {@code folder} and returns its config. */
  static ModelConfig write(Backend backend, Architecture arch, Path folder, long seed) {
    TrainedBpe bpe = tokenizer();
    bpe.writeTo(folder, null, "<|endoftext|>", "<|endoftext|>", CHATML);
    return writeWeights(backend, config(arch, bpe.vocabSize()), folder, seed);
  }

  /** Writes random weights and config.json for {@code config} into {@code folder}. */
  static ModelConfig writeWeights(Backend backend, ModelConfig config, Path folder, long seed) {
    try (Decoder d = new Decoder(backend, config, Decoder.Options.full());
        Arena arena = Arena.ofConfined()) {
      d.initializeRandom(seed, 0.1f);
      Map<String, Tensor> tensors = HfCheckpoint.baseTensors(d, arena);
      SplittableRandom rnd = new SplittableRandom(seed);
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        // norms and biases away from 1 and 0, so their layout matters too
        if (e.getValue().rank() == 1) {
          boolean bias = e.getKey().endsWith(".bias");
          for (long i = 0; i < e.getValue().elementCount(); i++) {
            float v = (float) (bias ? 0.1 : 1) + (float) (rnd.nextDouble(-0.2, 0.2));
            e.getValue().data().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
          }
        }
      }
      SafetensorsWriter.write(folder.resolve("model.safetensors"), tensors, Map.of());
      config.write(folder.resolve("config.json"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return config;
  }

  /**
   * Writes a PEFT LoRA adapter (rank 4, alpha 8, every linear layer, random non-zero A and B) for
   * the model in {@code base} into {@code adapter}, and the merged model (W + alpha/r B A, in the
   * file's layout: transposed for GPT-2's Conv1D) with the base's tokenizer into {@code merged}.
   */
  static void writeAdapterAndMerged(ModelConfig config, Path base, Path adapter, Path merged)
      throws IOException {
    int rank = 4;
    float scale = 8f / rank;
    Family family = Family.of(config);
    SplittableRandom rnd = new SplittableRandom(7);
    Files.createDirectories(adapter);
    Files.createDirectories(merged);
    try (Arena arena = Arena.ofConfined();
        SafetensorsFile files = SafetensorsFile.open(base.resolve("model.safetensors"))) {
      Map<String, Tensor> weights = new LinkedHashMap<>();
      for (String name : files.names()) {
        weights.put(name, files.readF32(name, arena));
      }
      Map<String, Tensor> lora = new LinkedHashMap<>();
      for (int l = 0; l < config.numLayers(); l++) {
        for (ModelConfig.LayerLinear lin : config.layerLinears()) {
          String module = family.layerPrefix(l) + lin.path();
          Tensor a = random(arena, rnd, rank, lin.in());
          Tensor b = random(arena, rnd, lin.out(), rank);
          lora.put(LoraConfig.loraAName(module), a);
          lora.put(LoraConfig.loraBName(module), b);
          Tensor w = weights.get(module + ".weight");
          boolean conv1d = family.linearsTransposedInFiles();
          for (long o = 0; o < lin.out(); o++) {
            for (long i = 0; i < lin.in(); i++) {
              float delta = 0;
              for (long k = 0; k < rank; k++) {
                delta +=
                    b.data().getAtIndex(ValueLayout.JAVA_FLOAT, o * rank + k)
                        * a.data().getAtIndex(ValueLayout.JAVA_FLOAT, k * lin.in() + i);
              }
              long at = conv1d ? i * lin.out() + o : o * lin.in() + i;
              float v = w.data().getAtIndex(ValueLayout.JAVA_FLOAT, at);
              w.data().setAtIndex(ValueLayout.JAVA_FLOAT, at, v + scale * delta);
            }
          }
        }
      }
      SafetensorsWriter.write(adapter.resolve("adapter_model.safetensors"), lora, Map.of());
      SafetensorsWriter.write(merged.resolve("model.safetensors"), weights, Map.of());
    }
    Files.writeString(
        adapter.resolve("adapter_config.json"),
        "{\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 4, \"lora_alpha\": 8,"
            + " \"lora_dropout\": 0.0, \"target_modules\": \"all-linear\", \"bias\": \"none\","
            + " \"use_rslora\": false}\n");
    for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
      Files.copy(base.resolve(f), merged.resolve(f));
    }
  }

  private static Tensor random(Arena arena, SplittableRandom rnd, long rows, long cols) {
    Tensor t =
        new Tensor(
            DType.F32, new long[] {rows, cols}, arena.allocate(rows * cols * 4, 64), Device.CPU);
    for (long i = 0; i < rows * cols; i++) {
      t.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-0.3, 0.3));
    }
    return t;
  }

  /**
   * Writes into {@code out} the model of {@code folder} with every tensor that a {@code type}
   * export quantizes replaced by its quantized-then-dequantized values (blocks along GGUF rows, so
   * GPT-2's Conv1D weights are transposed for it), plus the tokenizer: the weights llama.cpp
   * computes with when it loads that export.
   */
  static void writeDequantized(ModelConfig config, Path folder, GgmlType type, Path out)
      throws IOException {
    Files.createDirectories(out);
    try (Arena arena = Arena.ofConfined();
        SafetensorsFile files = SafetensorsFile.open(folder.resolve("model.safetensors"))) {
      Map<String, Tensor> weights = new LinkedHashMap<>();
      for (String name : files.names()) {
        weights.put(name, files.readF32(name, arena));
      }
      for (GgufTensorPlan.Entry e : GgufTensorPlan.entries(config)) {
        long[] shape = e.ggufShape();
        GgmlType t = GgufExport.tensorType(e, shape, type);
        if (t == GgmlType.F32) {
          continue;
        }
        Tensor w = weights.get(e.hfName());
        boolean transposed = e.rearrangement() == GgufTensorPlan.Rearrangement.TRANSPOSE;
        MemorySegment rows =
            transposed ? GgufTensorPlan.transpose(w.data(), shape[1], shape[0], arena) : w.data();
        long n = w.elementCount();
        MemorySegment blocks = arena.allocate(t.byteSize(n));
        GgufTensorCodec.encode(t, rows, 0, blocks, 0, n);
        GgufTensorCodec.decode(t, blocks, 0, rows, 0, n);
        if (transposed) {
          MemorySegment.copy(
              GgufTensorPlan.transpose(rows, shape[0], shape[1], arena), 0, w.data(), 0, n * 4);
        }
      }
      SafetensorsWriter.write(out.resolve("model.safetensors"), weights, Map.of());
    }
    for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
      Files.copy(folder.resolve(f), out.resolve(f));
    }
  }
}
