package dev.entity.engine.format.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;

/**
 * The tensors of a Hugging Face model folder as one name → tensor map: either the shards listed in
 * {@code <prefix>.safetensors.index.json} (its {@code weight_map} decides which shard holds which
 * tensor) or a single {@code <prefix>.safetensors}. The index wins when both exist, as in {@code
 * transformers}. Shard names in an index must be plain file names inside the folder.
 */
public final class SafetensorsFolder implements TensorSource {

  /** The file-name prefix of model weights; PEFT adapters use {@code adapter_model}. */
  public static final String MODEL = "model";

  private final Path folder;
  private final List<SafetensorsFile> shards;
  private final Map<String, SafetensorsFile> byName;

  private SafetensorsFolder(
      Path folder, List<SafetensorsFile> shards, Map<String, SafetensorsFile> byName) {
    this.folder = folder;
    this.shards = List.copyOf(shards);
    this.byName = Collections.unmodifiableMap(byName);
  }

  /** Opens the {@code model} weights of {@code folder}. */
  public static SafetensorsFolder open(Path folder) {
    return open(folder, MODEL);
  }

  /**
   * Opens {@code prefix.safetensors.index.json} or {@code prefix.safetensors} in {@code folder}.
   */
  public static SafetensorsFolder open(Path folder, String prefix) {
    Path index = folder.resolve(prefix + ".safetensors.index.json");
    Path single = folder.resolve(prefix + ".safetensors");
    if (Files.isRegularFile(index)) {
      return openIndex(index);
    }
    if (Files.isRegularFile(single)) {
      SafetensorsFile file = SafetensorsFile.open(single);
      Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
      for (String n : file.names()) {
        byName.put(n, file);
      }
      return new SafetensorsFolder(folder, List.of(file), byName);
    }
    if (!Files.isDirectory(folder)) {
      throw new EngineException("model folder " + folder + " does not exist or is not a folder");
    }
    throw new EngineException(
        "model folder "
            + folder
            + " has neither "
            + single.getFileName()
            + " nor "
            + index.getFileName()
            + "; point to a Hugging Face model folder with safetensors weights");
  }

  /** Opens the shards that the index file {@code index} lists. */
  public static SafetensorsFolder openIndex(Path index) {
    Map<String, String> weightMap = readWeightMap(index);
    Path folder = index.toAbsolutePath().getParent();
    Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
    Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, String> w : weightMap.entrySet()) {
        String shardName = w.getValue();
        SafetensorsFile shard = opened.get(shardName);
        if (shard == null) {
          Path shardPath = folder.resolve(shardName);
          if (!Files.isRegularFile(shardPath)) {
            throw failIndex(
                index,
                "lists shard \""
                    + shardName
                    + "\" (for tensor \""
                    + w.getKey()
                    + "\"), which is missing from "
                    + folder
                    + "; download the complete model");
          }
          shard = SafetensorsFile.open(shardPath);
          opened.put(shardName, shard);
        }
        if (!shard.contains(w.getKey())) {
          throw failIndex(
              index,
              "maps tensor \""
                  + w.getKey()
                  + "\" to shard \""
                  + shardName
                  + "\", which does not contain it");
        }
        byName.put(w.getKey(), shard);
      }
    } catch (RuntimeException e) {
      opened.values().forEach(SafetensorsFile::close);
      throw e;
    }
    return new SafetensorsFolder(folder, new ArrayList<>(opened.values()), byName);
  }

  /** The {@code weight_map} of an index file, validated: tensor name → shard file name. */
  static Map<String, String> readWeightMap(Path index) {
    JsonNode root;
    try {
      root = SafetensorsHeader.JSON.readTree(Files.readString(index));
    } catch (JacksonException e) {
      throw failIndex(index, "is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw failIndex(index, "cannot be read: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw failIndex(index, "is not a JSON object");
    }
    JsonNode map = root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw failIndex(index, "has no \"weight_map\" object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      JsonNode v = e.getValue();
      if (!v.isTextual()) {
        throw failIndex(index, "weight_map value of \"" + e.getKey() + "\" is not a file name");
      }
      String shard = v.textValue();
      if (shard.isEmpty()
          || shard.contains("/")
          || shard.contains("\\")
          || shard.equals(".")
          || shard.equals("..")
          || shard.indexOf('\0') >= 0) {
        throw failIndex(
            index,
            "weight_map points tensor \""
                + e.getKey()
                + "\" at \""
                + shard
                + "\", which is not a plain file name in the model folder");
      }
      out.put(e.getKey(), shard);
    }
    if (out.isEmpty()) {
      throw failIndex(index, "has an empty weight_map");
    }
    return out;
  }

  private static EngineException failIndex(Path index, String what) {
    return new EngineException("safetensors index " + index + " " + what + ".");
  }

  public Path folder() {
    return folder;
  }

  /** The shard files, in the order the index first names them. */
  public List<SafetensorsFile> shards() {
    return shards;
  }

  @Override
  public SequencedSet<String> names() {
    return Collections.unmodifiableSequencedSet(new LinkedHashSet<>(byName.keySet()));
  }

  @Override
  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  private SafetensorsFile shardOf(String name) {
    SafetensorsFile f = byName.get(name);
    if (f == null) {
      throw new EngineException(
          "model folder "
              + folder
              + " has no tensor \""
              + name
              + "\" ("
              + byName.size()
              + " tensors)");
    }
    return f;
  }

  @Override
  public TensorEntry entry(String name) {
    return shardOf(name).entry(name);
  }

  @Override
  public Map<String, String> metadata() {
    return shards.getFirst().metadata();
  }

  @Override
  public Tensor tensor(String name) {
    return shardOf(name).tensor(name);
  }

  @Override
  public MemorySegment storedBytes(String name) {
    return shardOf(name).storedBytes(name);
  }

  @Override
  public void close() {
    shards.forEach(SafetensorsFile::close);
  }
}
