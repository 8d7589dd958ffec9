package dev.entity.engine.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.EngineException;
import dev.entity.engine.format.AtomicFile;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * Writes safetensors files the way the Python {@code safetensors} package does, byte for byte:
 * {@code __metadata__} first with {@code "format": "pt"}, tensors sorted by dtype (widest first)
 * and then by name, packed without gaps — which keeps every tensor aligned to its element size —
 * and the header padded with spaces to a multiple of 8. A model folder is written as one file or as
 * {@code model-00001-of-0000N.safetensors} shards plus {@code model.safetensors.index.json}, like
 * {@code save_pretrained}. Every file goes to a temporary name, is fsynced, then renamed, so a
 * crash leaves either the old file or the new one, never half of one.
 */
public final class SafetensorsWriter {

  private static final int CHUNK = 64 << 20; // bytes per write call

  private SafetensorsWriter() {}

  /**
   * Writes {@code tensors} (CPU tensors of any engine dtype) to {@code file} with {@code "format":
   * "pt"} plus {@code metadata}.
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
    byte[] header = header(tensors, metadata);
    AtomicFile.write(
        file,
        ch -> {
          ch.write(ByteBuffer.wrap(header));
          for (Map.Entry<String, Tensor> e : ordered(tensors)) {
            writeFully(ch, e.getValue().data());
          }
        });
  }

  /**
   * Writes {@code tensors} into {@code folder} as {@code prefix.safetensors} when they fit in
   * {@code maxShardBytes}, else as shards named {@code prefix-00001-of-0000N.safetensors} with
   * {@code prefix.safetensors.index.json}. Shards are filled in the map's order (pass module order,
   * as {@code save_pretrained} does); a tensor larger than the limit gets a shard of its own. Files
   * of an earlier save with the same prefix that this one does not replace (the index, the single
   * file, shards of another count) are deleted after the new files are in place. Returns the
   * written files, index last.
   */
  public static List<Path> writeFolder(
      Path folder,
      String prefix,
      SequencedMap<String, Tensor> tensors,
      Map<String, String> metadata,
      long maxShardBytes) {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
    }
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new EngineException("cannot create folder " + folder + ": " + e.getMessage(), e);
    }
    List<Map<String, Tensor>> shards = new ArrayList<>();
    Map<String, Tensor> current = new LinkedHashMap<>();
    long currentBytes = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      long size = e.getValue().byteSize();
      if (!current.isEmpty() && currentBytes + size > maxShardBytes) {
        shards.add(current);
        current = new LinkedHashMap<>();
        currentBytes = 0;
      }
      current.put(e.getKey(), e.getValue());
      currentBytes += size;
    }
    shards.add(current);

    List<Path> written = new ArrayList<>();
    Path index = folder.resolve(prefix + ".safetensors.index.json");
    if (shards.size() == 1) {
      Path single = folder.resolve(prefix + ".safetensors");
      write(single, shards.getFirst(), metadata);
      written.add(single);
    } else {
      Map<String, String> weightMap = new TreeMap<>();
      long totalSize = 0;
      for (int i = 0; i < shards.size(); i++) {
        String name = shardName(prefix, i + 1, shards.size());
        write(folder.resolve(name), shards.get(i), metadata);
        written.add(folder.resolve(name));
        for (Map.Entry<String, Tensor> e : shards.get(i).entrySet()) {
          weightMap.put(e.getKey(), name);
          totalSize += e.getValue().byteSize();
        }
      }
      byte[] json = indexJson(totalSize, weightMap);
      AtomicFile.write(index, ch -> ch.write(ByteBuffer.wrap(json)));
      written.add(index);
    }
    deleteStale(folder, prefix, written);
    return List.copyOf(written);
  }

  /**
   * {@code model-00002-of-00005.safetensors}: the name {@code save_pretrained} gives shard 2 of 5.
   */
  public static String shardName(String prefix, int shard, int count) {
    return String.format("%s-%05d-of-%05d.safetensors", prefix, shard, count);
  }

  /** The header block: 8-byte little-endian length, then the JSON padded with spaces to 8. */
  static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
    ObjectNode root = SafetensorsHeader.JSON.createObjectNode();
    ObjectNode meta = root.putObject("__metadata__");
    meta.put("format", "pt");
    for (Map.Entry<String, String> m : metadata.entrySet()) {
      if (m.getKey().equals("format") && !m.getValue().equals("pt")) {
        throw new IllegalArgumentException("metadata format must be \"pt\", got " + m.getValue());
      }
      meta.put(m.getKey(), m.getValue());
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : ordered(tensors)) {
      Tensor t = e.getValue();
      if (e.getKey().equals("__metadata__")) {
        throw new IllegalArgumentException("\"__metadata__\" cannot be a tensor name");
      }
      if (!(t.device() instanceof Device.Cpu)) {
        throw new IllegalArgumentException(
            "tensor " + e.getKey() + " is on " + t.device() + "; copy it to the CPU first");
      }
      ObjectNode info = root.putObject(e.getKey());
      info.put("dtype", SafetensorsDType.of(t.dtype()).name());
      ArrayNode shape = info.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      info.putArray("data_offsets").add(offset).add(offset + t.byteSize());
      offset += t.byteSize();
    }
    byte[] json;
    try {
      json = SafetensorsHeader.JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int padded = (json.length + 7) & ~7;
    ByteBuffer b = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(json);
    while (b.hasRemaining()) {
      b.put((byte) ' ');
    }
    return b.array();
  }

  /** The order tensors take in a file: widest dtype first, then by name as UTF-8 bytes. */
  static List<Map.Entry<String, Tensor>> ordered(Map<String, Tensor> tensors) {
    List<Map.Entry<String, Tensor>> list = new ArrayList<>(tensors.entrySet());
    Comparator<Map.Entry<String, Tensor>> byDType =
        Comparator.comparing(e -> SafetensorsDType.of(e.getValue().dtype()));
    list.sort(
        byDType.thenComparing(
            (a, b) ->
                Arrays.compareUnsigned(
                    a.getKey().getBytes(StandardCharsets.UTF_8),
                    b.getKey().getBytes(StandardCharsets.UTF_8))));
    return list;
  }

  private static byte[] indexJson(long totalSize, Map<String, String> weightMap) {
    ObjectNode root = SafetensorsHeader.JSON.createObjectNode();
    root.putObject("metadata").put("total_size", totalSize);
    ObjectNode map = root.putObject("weight_map");
    weightMap.forEach(map::put);
    try {
      return (SafetensorsHeader.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root)
              + "\n")
          .getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeFully(FileChannel ch, MemorySegment data) throws IOException {
    for (long off = 0; off < data.byteSize(); off += CHUNK) {
      ByteBuffer buf = data.asSlice(off, Math.min(CHUNK, data.byteSize() - off)).asByteBuffer();
      AtomicFile.writeFully(ch, buf);
    }
  }

  private static void deleteStale(Path folder, String prefix, List<Path> written) {
    String shardPattern = java.util.regex.Pattern.quote(prefix) + "-\\d{5}-of-\\d{5}\\.safetensors";
    try (var files = Files.list(folder)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        boolean ours =
            n.equals(prefix + ".safetensors")
                || n.equals(prefix + ".safetensors.index.json")
                || n.matches(shardPattern);
        if (ours && !written.contains(p)) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new EngineException("cannot clean old weights in " + folder + ": " + e.getMessage(), e);
    }
  }
}
