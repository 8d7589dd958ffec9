package dev.entity.training.export;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.lora.LoraConfig;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Tiny base models (TinyModel) and PEFT adapters with non-zero B for the export tests. */
public final class TinyExportModels {

  public static final Backend BACKEND = new CpuBackend(1);

  private TinyExportModels() {}

  static List<List<ChatMessage>> corpus() {
    List<List<ChatMessage>> out = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      out.add(
          List.of(
              ChatMessage.user("What is the weather like in town number " + i + "?"),
              ChatMessage.assistant("The weather in town " + i + " is sunny and warm today.")));
    }
    return out;
  }

  /** A one-layer, 32-wide model of {@code arch} in {@code folder}. */
  public static Path base(Architecture arch, Path folder) {
    TinyModel.write(
        BACKEND, new TinyModel.Spec(arch, 300, 32, 1, 7, 0.05f), corpus(), folder, false);
    return folder;
  }

  /** A PEFT adapter for the base in {@code base}: r 4, all-linear, random A and B. */
  public static Path adapter(Path base, Path folder, boolean rslora) {
    LoraConfig lora = new LoraConfig(4, 8, 0.0, List.of(LoraConfig.ALL_LINEAR), rslora, 3);
    try (Decoder d = Decoder.load(BACKEND, base, Decoder.Options.lora(lora));
        Arena arena = Arena.ofConfined()) {
      Random random = new Random(11);
      for (String module : d.loraModulePaths()) {
        for (String name : List.of(LoraConfig.loraAName(module), LoraConfig.loraBName(module))) {
          long[] shape = d.store().slot(name).shape();
          long n = Tensor.elementCount(shape);
          var seg = arena.allocate(n * 4, 64);
          for (long i = 0; i < n; i++) {
            seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian() * 0.2f);
          }
          d.store().copyFromHost(name, new Tensor(DType.F32, shape, seg, Device.CPU));
        }
      }
      LoraAdapter.save(d, folder, base.toString());
    }
    return folder;
  }
}
