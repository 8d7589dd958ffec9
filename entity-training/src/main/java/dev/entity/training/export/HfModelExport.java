// Convention: the decoder's weights are written as they are in memory (merge first for a merged
// model); everything else in the folder (tokenizer files, generation settings) comes from the
// source model folder, so an export never invents a tokenizer.
package dev.entity.training.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.format.safetensors.StoredConversion;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.HfCheckpoint;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.training.checksum.FileChecksums;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;

/**
 * Writes a decoder as a Hugging Face model folder: sharded safetensors with an index, {@code
 * config.json}, the source folder's tokenizer files, a {@code generation_config.json} whose {@code
 * eos_token_id} lists every end-of-turn id, and a {@code SHA256SUMS} manifest. The written weights
 * are read back and compared byte for byte before the call returns.
 */
public final class HfModelExport {

  /** Tokenizer files copied from the source folder when present. */
  public static final List<String> TOKENIZER_FILES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "chat_template.jinja",
          "tokenizer.model",
          "vocab.json",
          "merges.txt",
          "added_tokens.json");

  /** Shard size of {@code save_pretrained}'s default (5 GB). */
  public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private HfModelExport() {}

  /**
   * Writes {@code d}'s base weights in {@code dtype} (F32, BF16 or F16) into {@code out}, with the
   * tokenizer files of {@code sourceFolder} (may be null: no tokenizer files), and verifies them.
   * Returns the manifest entries.
   */
  public static List<FileChecksums.Entry> write(
      Decoder d, Path sourceFolder, Path out, DType dtype, long maxShardBytes) {
    if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      throw new EntityException("dtype: " + dtype + " cannot be saved; use f32, bf16 or f16");
    }
    try (Arena arena = Arena.ofConfined()) {
      SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : HfCheckpoint.baseTensors(d, arena).entrySet()) {
        tensors.put(e.getKey(), convert(e.getValue(), dtype, arena));
      }
      try {
        SafetensorsWriter.writeFolder(
            out, SafetensorsFolder.MODEL, tensors, Map.of(), maxShardBytes);
      } catch (EngineException e) {
        throw new EntityException("cannot write the model into " + out + ": " + e.getMessage(), e);
      }
      writeConfig(d.config(), out, dtype);
      verifyWeights(out, tensors);
    }
    if (sourceFolder != null) {
      copyTokenizerFiles(sourceFolder, out);
      writeGenerationConfig(sourceFolder, out, d.config());
    }
    return FileChecksums.writeManifest(out);
  }

  /** The dtype named in configs and on the command line: f32, bf16 or f16. */
  public static DType parseDType(String name) {
    return switch (name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "f32", "float32", "fp32" -> DType.F32;
      case "bf16", "bfloat16" -> DType.BF16;
      case "f16", "float16", "fp16" -> DType.F16;
      default -> throw new EntityException("dtype '" + name + "' is not one of f32, bf16, f16");
    };
  }

  private static Tensor convert(Tensor f32, DType dtype, Arena arena) {
    if (dtype == DType.F32) {
      return f32;
    }
    long n = f32.elementCount();
    MemorySegment dst = arena.allocate(n * 2, 64);
    MemorySegment src = f32.data();
    for (long i = 0; i < n; i++) {
      float v = src.getAtIndex(ValueLayout.JAVA_FLOAT, i);
      short bits = dtype == DType.BF16 ? StoredConversion.f32ToBf16(v) : Float.floatToFloat16(v);
      dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bits);
    }
    return new Tensor(dtype, f32.shape(), dst, Device.CPU);
  }

  private static void writeConfig(ModelConfig config, Path out, DType dtype) {
    Path file = out.resolve("config.json");
    try {
      ObjectNode json = (ObjectNode) JSON.readTree(config.toJson());
      json.put(
          "torch_dtype",
          switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
          });
      Files.writeString(file, JSON.writeValueAsString(json) + "\n");
      ModelConfig.load(out); // what we wrote must parse as a config again
    } catch (IOException | EngineException e) {
      throw new EntityException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reopens the written safetensors and compares every tensor's name, shape and bytes. */
  static void verifyWeights(Path out, Map<String, Tensor> written) {
    try (SafetensorsFolder back = SafetensorsFolder.open(out)) {
      Set<String> names = new LinkedHashSet<>(back.names());
      if (!names.equals(written.keySet())) {
        throw new EntityException(
            out + ": verification failed: the written files hold other tensors than were saved");
      }
      for (Map.Entry<String, Tensor> e : written.entrySet()) {
        Tensor t = back.tensor(e.getKey());
        if (!Arrays.equals(t.shape(), e.getValue().shape())
            || t.dtype() != e.getValue().dtype()
            || t.data().mismatch(e.getValue().data()) != -1) {
          throw new EntityException(
              out + ": verification failed: tensor " + e.getKey() + " reads back differently");
        }
      }
    } catch (EngineException e) {
      throw new EntityException(out + ": verification failed: " + e.getMessage(), e);
    }
  }

  /** Copies the tokenizer files that {@code source} has into {@code out}. */
  public static void copyTokenizerFiles(Path source, Path out) {
    for (String name : TOKENIZER_FILES) {
      Path f = source.resolve(name);
      if (Files.isRegularFile(f)) {
        try {
          Files.copy(f, out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
          throw new EntityException("cannot copy " + f + " to " + out + ": " + e.getMessage(), e);
        }
      }
    }
  }

  /**
   * Writes {@code generation_config.json}: the source's settings (sampling defaults) with {@code
   * eos_token_id} set to every end-of-turn id of the tokenizer and its chat template, so generation
   * stops after an assistant turn in transformers too.
   */
  static void writeGenerationConfig(Path source, Path out, ModelConfig config) {
    Path file = out.resolve("generation_config.json");
    try {
      ObjectNode g = JSON.createObjectNode();
      Path own = source.resolve("generation_config.json");
      if (Files.isRegularFile(own)) {
        JsonNode read = JSON.readTree(Files.readString(own));
        if (read instanceof ObjectNode o) {
          g = o;
        }
      }
      Set<Integer> eos = new LinkedHashSet<>(config.eosTokenIds());
      if (Files.isRegularFile(source.resolve("tokenizer.json"))) {
        Tokenizer tokenizer = Tokenizer.load(source);
        int[] ids =
            tokenizer.chatTemplate().isPresent()
                ? ChatTemplate.fromTokenizer(tokenizer, null).endOfTurnIds(tokenizer)
                : tokenizer.endOfTurnIds();
        for (int id : ids) {
          eos.add(id);
        }
        if (tokenizer.padId().isPresent() && !g.has("pad_token_id")) {
          g.put("pad_token_id", tokenizer.padId().getAsInt());
        }
      }
      if (config.bosTokenId() != null) {
        g.put("bos_token_id", config.bosTokenId());
      }
      ArrayNode list = g.putArray("eos_token_id");
      eos.forEach(list::add);
      g.put("_from_model_config", false);
      Files.writeString(file, JSON.writeValueAsString(g) + "\n");
    } catch (IOException | EngineException e) {
      throw new EntityException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
