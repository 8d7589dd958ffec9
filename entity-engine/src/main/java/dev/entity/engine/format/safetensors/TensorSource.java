package dev.entity.engine.format.safetensors;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.SequencedSet;

/**
 * Named tensors read from safetensors: one file ({@link SafetensorsFile}) or a model folder whose
 * tensors may be spread over shards ({@link SafetensorsFolder}). Tensors returned by {@link
 * #tensor} are read-only views on memory-mapped files, valid until {@link #close}; the {@code
 * readF32} methods copy into memory the caller owns, converting to the compute type.
 */
public sealed interface TensorSource extends AutoCloseable
    permits SafetensorsFile, SafetensorsFolder {

  /** Tensor names, in header (or index) order. */
  SequencedSet<String> names();

  default boolean contains(String name) {
    return names().contains(name);
  }

  /**
   * Where and how {@code name} is stored; an {@link EngineException} if there is no such tensor.
   */
  TensorEntry entry(String name);

  /** The {@code __metadata__} of the file (for a sharded folder, of the first shard). */
  Map<String, String> metadata();

  /**
   * The tensor {@code name} as the engine sees it: F32, BF16, F16, I32 and U8 (and BOOL, as U8) are
   * read-only views on the mapped file; I64, I16 and I8 are converted copies in I32, F64 a
   * converted copy in F32, made once and kept until {@link #close}.
   */
  Tensor tensor(String name);

  /**
   * Copies {@code name} into {@code dst}, an F32 CPU tensor of the same shape, converting from
   * whatever dtype the file stores (exactly for BF16 and F16). This is how weights are loaded into
   * a slot of a flat parameter segment.
   */
  default void readF32(String name, Tensor dst) {
    TensorEntry e = entry(name);
    if (dst.dtype() != DType.F32 || !(dst.device() instanceof Device.Cpu)) {
      throw new IllegalArgumentException("destination of " + name + " must be an F32 CPU tensor");
    }
    if (!Arrays.equals(dst.shape(), e.shape())) {
      throw new EngineException(
          "tensor \""
              + name
              + "\" in "
              + e.file()
              + " has shape "
              + Arrays.toString(e.shape())
              + " but "
              + Arrays.toString(dst.shape())
              + " is expected; the file does not belong to this model config");
    }
    StoredConversion.toF32(e.dtype(), storedBytes(name), dst.data(), e.elementCount());
  }

  /** A fresh F32 copy of {@code name}, 64-byte aligned in {@code arena}. */
  default Tensor readF32(String name, Arena arena) {
    TensorEntry e = entry(name);
    Tensor dst =
        new Tensor(DType.F32, e.shape(), arena.allocate(e.elementCount() * 4, 64), Device.CPU);
    readF32(name, dst);
    return dst;
  }

  /** The raw stored bytes of {@code name} (little-endian, the file's dtype), read-only. */
  MemorySegment storedBytes(String name);

  /** Unmaps the files; views handed out before become invalid. */
  @Override
  void close();
}
