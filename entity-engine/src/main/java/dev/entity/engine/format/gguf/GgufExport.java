// Convention: tensors are read, rearranged and encoded one at a time while the file is written,
// so peak memory is about two copies of the largest single tensor, never of the model. Types
// follow llama.cpp's converter: 1-D tensors, norms, biases and learned positions stay F32, and a
// matrix whose rows are not whole blocks of a quantized type falls back to F16.
package dev.entity.engine.format.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import dev.entity.engine.format.gguf.GgufTensorPlan.Entry;
import dev.entity.engine.format.gguf.GgufTensorPlan.Rearrangement;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.format.safetensors.TensorEntry;
import dev.entity.engine.format.safetensors.TensorSource;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Family;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.tensor.Tensor;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Converts Hugging Face model folders and PEFT LoRA adapters to GGUF for llama.cpp, natively: the
 * library call behind {@code convert-to-gguf} and the GGUF export of the export plugin. {@link
 * #model} writes a whole model (architecture, tokenizer and chat-template metadata, every tensor in
 * the chosen type); {@link #adapter} writes a GGUF LoRA adapter for a base model.
 */
public final class GgufExport {

  /** The tensor types a model may be exported as. */
  public static final List<GgmlType> MODEL_TYPES =
      List.of(
          GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_1);

  /**
   * How a model is exported.
   *
   * @param type the type of the matrices (one of {@link #MODEL_TYPES})
   * @param name {@code general.name}, or null for the folder's name
   * @param preTokenizer the llama.cpp pre-tokenizer name, or null to detect it from the tokenizer
   */
  public record Options(GgmlType type, String name, String preTokenizer) {
    public Options {
      if (!MODEL_TYPES.contains(type)) {
        throw new EngineException(
            "GGUF type " + type + " cannot be exported; choose one of " + typeNames());
      }
    }

    public static Options of(GgmlType type) {
      return new Options(type, null, null);
    }
  }

  private GgufExport() {}

  /** The type named by a user ("q8_0", "F16", ...), or an error listing the choices. */
  public static GgmlType parseType(String name) {
    for (GgmlType t : MODEL_TYPES) {
      if (t.name().equalsIgnoreCase(name == null ? "" : name.trim())) {
        return t;
      }
    }
    throw new EngineException(
        "quantization_format '" + name + "' is not supported; choose one of " + typeNames());
  }

  private static String typeNames() {
    return String.join(
        ", ", MODEL_TYPES.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).toList());
  }

  /**
   * Writes {@code hfFolder} (config.json, safetensors, tokenizer.json and tokenizer_config.json) as
   * the GGUF file {@code out}.
   */
  public static void model(Path hfFolder, Path out, Options options) {
    ModelConfig config = ModelConfig.load(hfFolder);
    if (!Files.isRegularFile(hfFolder.resolve("tokenizer.json"))) {
      throw new EngineException(
          hfFolder
              + ": no tokenizer.json; llama.cpp needs the tokenizer inside the GGUF, so export a"
              + " folder that has its tokenizer files");
    }
    Tokenizer tokenizer = Tokenizer.load(hfFolder);
    GgufWriter w = new GgufWriter();
    String name = options.name() != null ? options.name() : folderName(hfFolder);
    putModelMetadata(w, config, name, options.type());
    GgufTokenizerMetadata.put(w, tokenizer, config.vocabSize(), options.preTokenizer());
    try (SafetensorsFolder files = SafetensorsFolder.open(hfFolder)) {
      Family family = Family.of(config);
      for (Entry e : GgufTensorPlan.entries(config)) {
        String fileName = fileName(files, family, e.hfName(), hfFolder);
        TensorEntry stored = files.entry(fileName);
        if (!Arrays.equals(stored.shape(), e.hfShape())) {
          throw new EngineException(
              hfFolder
                  + ": tensor \""
                  + fileName
                  + "\" has shape "
                  + Arrays.toString(stored.shape())
                  + " but config.json needs "
                  + Arrays.toString(e.hfShape()));
        }
        long[] shape = e.ggufShape();
        GgmlType type = tensorType(e, shape, options.type());
        w.addTensor(e.ggufName(), type, shape, data(files, fileName, e, config, type));
      }
      if (config.ropeScaling() != null) {
        float[] factors = llama3RopeFactors(config);
        w.addTensor(
            "rope_freqs.weight",
            GgmlType.F32,
            new long[] {factors.length},
            GgufWriter.encoded(MemorySegment.ofArray(factors), GgmlType.F32, factors.length));
      }
      w.write(out);
    }
  }

  /** The general and architecture metadata llama.cpp reads for this config. */
  static void putModelMetadata(GgufWriter w, ModelConfig c, String name, GgmlType type) {
    String arch = GgufTensorPlan.architectureName(c.architecture());
    w.put("general.architecture", GgufValue.string(arch));
    w.put("general.type", GgufValue.string("model"));
    w.put("general.name", GgufValue.string(name));
    w.put("general.file_type", GgufValue.u32(type.fileType()));
    w.put("general.quantization_version", GgufValue.u32(2));
    w.put(arch + ".context_length", GgufValue.u32(c.maxPositions()));
    w.put(arch + ".embedding_length", GgufValue.u32(c.hiddenSize()));
    w.put(arch + ".block_count", GgufValue.u32(c.numLayers()));
    w.put(arch + ".feed_forward_length", GgufValue.u32(c.intermediateSize()));
    w.put(arch + ".attention.head_count", GgufValue.u32(c.numHeads()));
    if (c.architecture() == Architecture.GPT2) {
      w.put(arch + ".attention.layer_norm_epsilon", GgufValue.f32((float) c.normEps()));
      return;
    }
    w.put(arch + ".attention.head_count_kv", GgufValue.u32(c.numKvHeads()));
    w.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.f32((float) c.normEps()));
    w.put(arch + ".rope.freq_base", GgufValue.f32((float) c.ropeTheta()));
    w.put(arch + ".rope.dimension_count", GgufValue.u32(c.headDim()));
    if ((long) c.headDim() * c.numHeads() != c.hiddenSize()) {
      w.put(arch + ".attention.key_length", GgufValue.u32(c.headDim()));
      w.put(arch + ".attention.value_length", GgufValue.u32(c.headDim()));
    }
    w.put(arch + ".vocab_size", GgufValue.u32(c.vocabSize()));
  }

  /**
   * Llama 3 RoPE scaling as llama.cpp's converter writes it: a {@code rope_freqs} tensor of head
   * dim / 2 factors that divide each rotary frequency (1 for short wavelengths, {@code factor} for
   * long ones, interpolated between).
   */
  static float[] llama3RopeFactors(ModelConfig c) {
    ModelConfig.RopeScaling s = c.ropeScaling();
    int dim = c.headDim();
    float[] out = new float[dim / 2];
    double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
    double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
    for (int i = 0; i < out.length; i++) {
      float freq = (float) (1.0 / Math.pow(c.ropeTheta(), (float) (2 * i) / dim));
      double wavelen = 2 * Math.PI / freq;
      if (wavelen < highWavelen) {
        out[i] = 1f;
      } else if (wavelen > lowWavelen) {
        out[i] = (float) s.factor();
      } else {
        double smooth =
            (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                / (s.highFreqFactor() - s.lowFreqFactor());
        out[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
      }
    }
    return out;
  }

  static GgmlType tensorType(Entry e, long[] shape, GgmlType requested) {
    boolean keepF32 =
        shape.length <= 1
            || e.ggufName().endsWith("_norm.weight")
            || e.ggufName().equals("position_embd.weight")
            || !e.ggufName().endsWith(".weight");
    if (keepF32) {
      return GgmlType.F32;
    }
    if (requested.byteSize(shape[shape.length - 1]) < 0) {
      return GgmlType.F16;
    }
    return requested;
  }

  private static GgufWriter.TensorData data(
      TensorSource files, String fileName, Entry e, ModelConfig c, GgmlType type) {
    return sink -> {
      try (Arena arena = Arena.ofConfined()) {
        Tensor src = files.readF32(fileName, arena);
        MemorySegment values = rearrange(src.data(), e.hfShape(), e.rearrangement(), c, arena);
        long[] shape = e.ggufShape();
        GgufWriter.encoded(values, type, shape[shape.length - 1]).writeTo(sink);
      }
    };
  }

  static MemorySegment rearrange(
      MemorySegment values, long[] hfShape, Rearrangement r, ModelConfig c, Arena arena) {
    long rows = hfShape[0];
    long cols = hfShape.length > 1 ? hfShape[1] : 1;
    return switch (r) {
      case NONE -> values;
      case TRANSPOSE -> GgufTensorPlan.transpose(values, rows, cols, arena);
      case PERMUTE_QUERY -> GgufTensorPlan.permuteRows(values, rows, cols, c.numHeads(), arena);
      case PERMUTE_KEY -> GgufTensorPlan.permuteRows(values, rows, cols, c.numKvHeads(), arena);
    };
  }

  private static String fileName(TensorSource files, Family family, String name, Path folder) {
    if (files.contains(name)) {
      return name;
    }
    if (name.startsWith(family.basePrefix())
        && files.contains(name.substring(family.basePrefix().length()))) {
      return name.substring(family.basePrefix().length());
    }
    throw new EngineException(
        folder + ": tensor \"" + name + "\" is missing; the weights do not match config.json");
  }

  private static String folderName(Path folder) {
    Path f = folder.toAbsolutePath().normalize().getFileName();
    return f == null ? "model" : f.toString();
  }

  // ---------------------------------------------------------------- LoRA adapters

  private static final String LORA_PREFIX = "base_model.model.";

  /**
   * Writes the PEFT LoRA adapter in {@code adapterFolder} ({@code adapter_config.json} + {@code
   * adapter_model.safetensors}) for the base model in {@code baseFolder} as a GGUF LoRA adapter:
   * {@code general.type = adapter}, {@code adapter.type = lora}, {@code adapter.lora.alpha}, and
   * F32 tensors {@code <base tensor>.lora_a} (r, in) and {@code .lora_b} (out, r), lora_b of
   * Llama's q/k projections row-permuted like their weights. llama.cpp scales by alpha / r, so an
   * rsLoRA adapter (alpha / sqrt(r)) is written with alpha × sqrt(r).
   */
  public static void adapter(Path adapterFolder, Path baseFolder, Path out) {
    ModelConfig config = ModelConfig.load(baseFolder);
    Path configFile = adapterFolder.resolve("adapter_config.json");
    JsonNode lora = readAdapterConfig(configFile);
    int rank = lora.get("r").asInt();
    double alpha = lora.get("lora_alpha").asDouble();
    if (lora.path("use_rslora").asBoolean(false)) {
      alpha *= Math.sqrt(rank);
    }
    Map<String, Entry> byModule = new HashMap<>();
    for (Entry e : GgufTensorPlan.entries(config)) {
      if (e.hfName().endsWith(".weight")) {
        byModule.put(e.hfName().substring(0, e.hfName().length() - ".weight".length()), e);
      }
    }
    Path weights = adapterFolder.resolve("adapter_model.safetensors");
    if (!Files.isRegularFile(weights)) {
      throw new EngineException(weights + ": not found; a PEFT adapter folder holds it");
    }
    GgufWriter w = new GgufWriter();
    String arch = GgufTensorPlan.architectureName(config.architecture());
    w.put("general.architecture", GgufValue.string(arch));
    w.put("general.type", GgufValue.string("adapter"));
    w.put("general.name", GgufValue.string(folderName(adapterFolder)));
    w.put("adapter.type", GgufValue.string("lora"));
    w.put("adapter.lora.alpha", GgufValue.f32((float) alpha));
    try (SafetensorsFile files = SafetensorsFile.open(weights)) {
      for (String name : files.names()) {
        boolean isA = name.endsWith(".lora_A.weight");
        if (!name.startsWith(LORA_PREFIX) || !(isA || name.endsWith(".lora_B.weight"))) {
          throw new EngineException(
              weights
                  + ": tensor \""
                  + name
                  + "\" is not a PEFT LoRA tensor (base_model.model.<module>.lora_A/B.weight);"
                  + " only LoRA adapters without extra trained modules are supported");
        }
        String module =
            name.substring(LORA_PREFIX.length(), name.length() - ".lora_A.weight".length());
        Entry base = byModule.get(module);
        if (base == null || base.ggufName().equals("token_embd.weight")) {
          throw new EngineException(
              weights + ": \"" + module + "\" is not a linear layer of this " + arch + " model");
        }
        long[] shape = files.entry(name).shape();
        long expected = isA ? base.ggufShape()[1] : base.ggufShape()[0];
        if (shape.length != 2 || shape[isA ? 1 : 0] != expected || shape[isA ? 0 : 1] != rank) {
          throw new EngineException(
              weights
                  + ": tensor \""
                  + name
                  + "\" has shape "
                  + Arrays.toString(shape)
                  + "; with r = "
                  + rank
                  + " the base model needs "
                  + (isA
                      ? "[" + rank + ", " + expected + "]"
                      : "[" + expected + ", " + rank + "]"));
        }
        Rearrangement r =
            isA || base.rearrangement() == Rearrangement.TRANSPOSE
                ? Rearrangement.NONE
                : base.rearrangement();
        Entry e = new Entry(name, base.ggufName() + (isA ? ".lora_a" : ".lora_b"), shape, r);
        w.addTensor(e.ggufName(), GgmlType.F32, shape, data(files, name, e, config, GgmlType.F32));
      }
      w.write(out);
    }
  }

  private static JsonNode readAdapterConfig(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new EngineException(file + ": cannot read the adapter config: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new EngineException(file + ": expected a JSON object as PEFT writes");
    }
    if (!root.path("peft_type").asText("").equals("LORA")) {
      throw new EngineException(file + ": peft_type must be \"LORA\"");
    }
    if (!root.path("r").isIntegralNumber() || root.get("r").asInt() <= 0) {
      throw new EngineException(file + ": \"r\" must be a positive integer");
    }
    if (!root.path("lora_alpha").isNumber() || !(root.get("lora_alpha").asDouble() > 0)) {
      throw new EngineException(file + ": \"lora_alpha\" must be a positive number");
    }
    if (root.path("use_dora").asBoolean(false)) {
      throw new EngineException(file + ": DoRA adapters cannot be written as GGUF LoRA");
    }
    return root;
  }
}
