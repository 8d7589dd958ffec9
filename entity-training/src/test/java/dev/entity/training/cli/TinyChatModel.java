package dev.entity.training.cli;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * A tiny chat model folder (TinyModel: random weights, a BPE tokenizer with ChatML) and a LoRA
 * adapter for it whose B matrices are random, so the adapter visibly changes the output.
 */
public final class TinyChatModel {

  static final List<List<ChatMessage>> CORPUS =
      List.of(
          List.of(
              ChatMessage.user("What is the capital of France?"),
              ChatMessage.assistant("The capital of France is Paris.")),
          List.of(
              ChatMessage.user("Name a primary colour."),
              ChatMessage.assistant("Red is a primary colour.")),
          List.of(
              ChatMessage.user("How many legs does a spider have?"),
              ChatMessage.assistant("A spider has eight legs.")));

  private TinyChatModel() {}

  /** Writes the model into {@code dir/model} and an adapter into {@code dir/adapter}. */
  public static Path[] write(Path dir, Architecture arch) {
    Path model = dir.resolve("model");
    Path adapter = dir.resolve("adapter");
    try (Backend backend = new CpuBackend(1)) {
      TinyModel.write(backend, new TinyModel.Spec(arch, 320, 32, 2, 7, 0.1f), CORPUS, model, false);
      try (Decoder d =
          Decoder.load(
              backend,
              model,
              Decoder.Options.lora(
                  new LoraConfig(4, 8, 0, List.of(LoraConfig.ALL_LINEAR), false, 3)))) {
        Random rng = new Random(5);
        ParameterStore store = d.store();
        try (Arena arena = Arena.ofConfined()) {
          for (ParameterStore.Slot s : store.trainableSlots()) {
            float[] values = new float[(int) s.count()];
            for (int i = 0; i < values.length; i++) {
              values[i] = (float) (rng.nextGaussian() * 0.3);
            }
            Tensor host =
                new Tensor(
                    DType.F32,
                    s.shape(),
                    arena.allocate(ValueLayout.JAVA_FLOAT, values.length),
                    Device.CPU);
            host.data().copyFrom(java.lang.foreign.MemorySegment.ofArray(values));
            store.copyFromHost(s.name(), host);
          }
        }
        LoraAdapter.save(d, adapter, model.toString());
      }
    }
    return new Path[] {model, adapter};
  }
}
