// Convention: the store's names ARE the file's names; the only translations are GPT-2's Conv1D
// transpose, checkpoints saved without the base prefix ("h.0..." for "transformer.h.0..."), and a
// tied LM head that some files also store.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.format.safetensors.TensorEntry;
import dev.entity.engine.format.safetensors.TensorSource;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Moves base-model weights between Hugging Face safetensors and a decoder's {@link ParameterStore}:
 * every parameter must be found once with its shape, every file tensor must be a parameter (or a
 * known buffer), and F32/BF16/F16 are converted to the slot's dtype.
 */
public final class HfCheckpoint {

  private static final int LISTED = 8;

  private HfCheckpoint() {}

  /** Whether a store name is a LoRA adapter tensor (not part of a base checkpoint). */
  public static boolean isAdapter(String name) {
    return name.startsWith("base_model.model.");
  }

  /** Loads every base parameter of {@code d} from {@code files}; {@code where} names the source. */
  public static void load(Decoder d, TensorSource files, String where) {
    ParameterStore store = d.store();
    Family family = d.family();
    Map<String, String> fileFor = new LinkedHashMap<>(); // store name -> file name
    List<String> unexpected = new ArrayList<>();
    for (String name : files.names()) {
      String canonical = canonicalName(store, family, name);
      if (canonical == null) {
        boolean tiedHead = d.config().tieWordEmbeddings() && name.equals(family.lmHead());
        if (!family.isBuffer(name) && !tiedHead) {
          unexpected.add(name);
        }
      } else {
        fileFor.put(canonical, name);
      }
    }
    List<String> missing = new ArrayList<>();
    for (Slot s : store.slots()) {
      if (!isAdapter(s.name()) && !fileFor.containsKey(s.name())) {
        missing.add(s.name());
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      StringBuilder m = new StringBuilder(where + ": the weights do not match config.json (");
      m.append(d.config().modelType())
          .append(", ")
          .append(d.config().numLayers())
          .append(" layers)");
      if (!missing.isEmpty()) {
        m.append("; missing ").append(missing.size()).append(": ").append(list(missing));
      }
      if (!unexpected.isEmpty()) {
        m.append("; unexpected ").append(unexpected.size()).append(": ").append(list(unexpected));
      }
      throw new EngineException(
          m.append(". Use the config.json saved with these weights").toString());
    }
    for (Map.Entry<String, String> e : fileFor.entrySet()) {
      loadOne(store, store.slot(e.getKey()), files, e.getValue(), where);
    }
  }

  private static String canonicalName(ParameterStore store, Family family, String fileName) {
    if (store.contains(fileName) && !isAdapter(fileName)) {
      return fileName;
    }
    String prefixed = family.basePrefix() + fileName;
    return store.contains(prefixed) ? prefixed : null;
  }

  private static void loadOne(
      ParameterStore store, Slot slot, TensorSource files, String fileName, String where) {
    TensorEntry entry = files.entry(fileName);
    if (!Arrays.equals(entry.shape(), slot.fileShape())) {
      throw new EngineException(
          where
              + ": tensor \""
              + fileName
              + "\" has shape "
              + Arrays.toString(entry.shape())
              + " but the config needs "
              + Arrays.toString(slot.fileShape())
              + "; check that config.json belongs to these weights");
    }
    if (!slot.fileTransposed()) {
      Tensor src = files.tensor(fileName);
      if (!src.dtype().isFloat()) {
        throw new EngineException(
            where
                + ": tensor \""
                + fileName
                + "\" is "
                + entry.dtype()
                + "; weights must be F32, BF16 or F16");
      }
      store.copyFromHost(slot.name(), src);
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      Tensor src = files.readF32(fileName, arena);
      store.copyFromHost(slot.name(), transpose(src, arena));
    }
  }

  /** The (cols, rows) transpose of an F32 host matrix (rows, cols). */
  static Tensor transpose(Tensor m, Arena arena) {
    long rows = m.dim(0);
    long cols = m.dim(1);
    MemorySegment dst = arena.allocate(m.byteSize(), 64);
    MemorySegment src = m.data();
    for (long r = 0; r < rows; r++) {
      for (long c = 0; c < cols; c++) {
        float v = src.getAtIndex(ValueLayout.JAVA_FLOAT, r * cols + c);
        dst.setAtIndex(ValueLayout.JAVA_FLOAT, c * rows + r, v);
      }
    }
    return new Tensor(DType.F32, new long[] {cols, rows}, dst, Device.CPU);
  }

  /**
   * Every base parameter as an F32 host tensor in file layout (GPT-2's Conv1D weights transposed
   * back), by Hugging Face name, for writing a model folder.
   */
  public static SequencedMap<String, Tensor> baseTensors(Decoder d, Arena arena) {
    SequencedMap<String, Tensor> out = new LinkedHashMap<>();
    for (Slot s : d.store().slots()) {
      if (isAdapter(s.name())) {
        continue;
      }
      Tensor host = d.store().toHost(s.name(), arena); // NF4 weights dequantized
      out.put(s.name(), s.fileTransposed() ? transpose(host, arena) : host);
    }
    return out;
  }

  /**
   * Writes the base model as a Hugging Face folder: {@code config.json} and F32 safetensors
   * (sharded above {@code maxShardBytes}, with an index), GPT-2's Conv1D weights in file layout.
   * Merge LoRA adapters first ({@code LoraMerge}) to export a merged model.
   */
  public static void save(Decoder d, Path folder, long maxShardBytes) {
    try (Arena arena = Arena.ofConfined()) {
      SafetensorsWriter.writeFolder(
          folder, SafetensorsFolder.MODEL, baseTensors(d, arena), Map.of(), maxShardBytes);
    }
    try {
      d.config().write(folder.resolve("config.json"));
    } catch (IOException e) {
      throw new EngineException(
          "cannot write " + folder.resolve("config.json") + ": " + e.getMessage(), e);
    }
  }

  private static String list(List<String> names) {
    List<String> shown = names.subList(0, Math.min(LISTED, names.size()));
    return String.join(", ", shown) + (names.size() > LISTED ? ", ..." : "");
  }
}
