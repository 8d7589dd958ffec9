// Convention: the tensor list is GgufTensorPlan's, the one the exporter writes, walked backwards:
// each GGUF tensor goes to the Hugging Face parameter it came from, Llama's q/k rows un-permuted,
// GPT-2's transposed Conv1D weights taken as they are (the decoder keeps linears as (out, in),
// which is the GGUF layout). Tensors are dequantized one at a time, so peak extra memory is one
// F32 copy of the largest tensor.
package dev.entity.engine.format.gguf;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.gguf.GgufTensorPlan.Entry;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A GGUF model file opened for inference: its {@link ModelConfig} ({@link GgufModelConfig}), its
 * {@link Tokenizer} and chat template ({@link GgufTokenizerReader}) and its weights, which {@link
 * #load} dequantizes (F32, F16, BF16, Q8_0, Q4_0, Q5_1) into a {@link Decoder}'s parameter store —
 * F32, or the decoder's frozen BF16/F16 storage. The inverse of {@link GgufExport#model}: a model
 * exported as F32 and loaded back computes the same logits as its Hugging Face folder.
 */
public final class GgufModel implements AutoCloseable {

  private static final String ROPE_FREQS = "rope_freqs.weight";

  private final GgufReader reader;
  private final ModelConfig config;
  private final Tokenizer tokenizer;

  private GgufModel(GgufReader reader, ModelConfig config, Tokenizer tokenizer) {
    this.reader = reader;
    this.config = config;
    this.tokenizer = tokenizer;
  }

  /**
   * Whether {@code path} is a GGUF file: a regular file named {@code *.gguf} or starting with the
   * GGUF magic.
   */
  public static boolean isGgufFile(Path path) {
    if (!Files.isRegularFile(path)) {
      return false;
    }
    if (path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
      return true;
    }
    try (InputStream in = Files.newInputStream(path)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4
          && ByteBuffer.wrap(magic).order(ByteOrder.LITTLE_ENDIAN).getInt() == GgufWriter.MAGIC;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Opens {@code file}: parses the header, the config and the tokenizer (weights are read by {@link
   * #load}). A file that is not a whole model of a supported architecture is refused with an {@link
   * EngineException} naming the file and the key or tensor at fault.
   */
  public static GgufModel open(Path file) {
    GgufReader reader = GgufReader.open(file);
    try {
      GgufValue type = reader.metadata().get("general.type");
      if (type != null && type.type() == GgufValueType.STRING && !type.asString().equals("model")) {
        throw new EngineException(
            file
                + ": GGUF general.type is \""
                + type.asString()
                + "\", not a model; load the base model and apply the adapter to it");
      }
      ModelConfig config = GgufModelConfig.read(reader);
      Tokenizer tokenizer = GgufTokenizerReader.read(reader.metadata(), file.toString());
      if (tokenizer.vocabSize() > config.vocabSize()) {
        throw new EngineException(
            file
                + ": the tokenizer has "
                + tokenizer.vocabSize()
                + " tokens but token_embd.weight only "
                + config.vocabSize()
                + " rows");
      }
      return new GgufModel(reader, config, tokenizer);
    } catch (RuntimeException e) {
      reader.close();
      throw e;
    }
  }

  public Path file() {
    return reader.file();
  }

  public ModelConfig config() {
    return config;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The underlying reader (metadata and raw tensors), valid until {@link #close}. */
  public GgufReader reader() {
    return reader;
  }

  /**
   * Every id generation stops on: the tokenizer's EOS and known end-of-turn markers, and the GGUF's
   * {@code eot_token_id}/{@code eom_token_id}.
   */
  public int[] stopIds() {
    Set<Integer> ids = new LinkedHashSet<>();
    for (int id : tokenizer.endOfTurnIds()) {
      ids.add(id);
    }
    for (int id : GgufTokenizerReader.extraStopIds(reader.metadata(), file().toString())) {
      ids.add(id);
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /** A decoder with this file's weights on {@code backend}; adapters (if any) stay initialized. */
  public Decoder load(Backend backend, Decoder.Options options) {
    Decoder d = new Decoder(backend, config, options);
    try {
      loadInto(d);
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  /** Copies every base weight of this file into {@code d} (made with this file's config). */
  public void loadInto(Decoder d) {
    if (!d.config().equals(config)) {
      throw new IllegalArgumentException("the decoder was made for another config");
    }
    List<Entry> entries = GgufTensorPlan.entries(config);
    Set<String> expected = new HashSet<>();
    for (Entry e : entries) {
      expected.add(e.ggufName());
    }
    List<String> unexpected = new ArrayList<>();
    for (GgufTensorInfo t : reader.tensors()) {
      if (!expected.contains(t.name()) && !t.name().equals(ROPE_FREQS)) {
        unexpected.add(t.name());
      }
    }
    if (!unexpected.isEmpty()) {
      throw new EngineException(
          file()
              + ": tensors "
              + unexpected.subList(0, Math.min(8, unexpected.size()))
              + " are not part of a "
              + GgufTensorPlan.architectureName(config.architecture())
              + " model of this shape; the file's metadata and tensors do not agree");
    }
    ParameterStore store = d.store();
    for (Entry e : entries) {
      if (!reader.hasTensor(e.ggufName())) {
        throw new EngineException(
            file()
                + ": no tensor \""
                + e.ggufName()
                + "\"; a "
                + GgufTensorPlan.architectureName(config.architecture())
                + " model with "
                + config.numLayers()
                + " blocks needs it");
      }
      GgufTensorInfo info = reader.tensor(e.ggufName());
      if (!Arrays.equals(info.shape(), e.ggufShape())) {
        throw new EngineException(
            file()
                + ": tensor \""
                + e.ggufName()
                + "\" has shape "
                + Arrays.toString(info.shape())
                + " but the metadata needs "
                + Arrays.toString(e.ggufShape()));
      }
      try (Arena arena = Arena.ofShared()) {
        Tensor stored = reader.readF32(e.ggufName(), arena);
        MemorySegment values = hfLayout(stored.data(), e, arena);
        long[] slotShape = store.slot(e.hfName()).shape();
        store.copyFromHost(e.hfName(), new Tensor(DType.F32, slotShape, values, Device.CPU));
      }
    }
  }

  /**
   * The values of a GGUF tensor in the decoder's layout: q/k rows back in Hugging Face's order;
   * transposed GPT-2 weights are already (out, in), the decoder's layout.
   */
  private MemorySegment hfLayout(MemorySegment values, Entry e, Arena arena) {
    long[] shape = e.ggufShape();
    long rows = shape[0];
    long cols = shape.length > 1 ? shape[1] : 1;
    return switch (e.rearrangement()) {
      case NONE, TRANSPOSE -> values;
      case PERMUTE_QUERY ->
          GgufTensorPlan.unpermuteRows(values, rows, cols, config.numHeads(), arena);
      case PERMUTE_KEY ->
          GgufTensorPlan.unpermuteRows(values, rows, cols, config.numKvHeads(), arena);
    };
  }

  /** Bytes of the tensors in the file (as stored, quantized or not). */
  public long storedTensorBytes() {
    long n = 0;
    for (GgufTensorInfo t : reader.tensors()) {
      n += t.byteSize();
    }
    return n;
  }

  @Override
  public void close() {
    reader.close();
  }
}
