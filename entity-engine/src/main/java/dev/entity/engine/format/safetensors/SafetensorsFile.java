package dev.entity.engine.format.safetensors;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.SequencedSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One memory-mapped {@code .safetensors} file: an 8-byte little-endian header length, that many
 * bytes of UTF-8 JSON, then the data section the header's offsets point into. The whole file is
 * mapped read-only into a shared arena owned by this object (or by the caller, with {@link
 * #open(Path, Arena)}); tensors are views on it, so nothing is copied until a conversion is asked
 * for. Every malformed file is an {@link EngineException} that names the file.
 */
public final class SafetensorsFile implements TensorSource {

  private final Path file;
  private final Arena arena;
  private final boolean ownsArena;
  private final MemorySegment data; // the data section, read-only
  private final Map<String, TensorEntry> entries;
  private final Map<String, String> metadata;
  private final Map<String, Tensor> converted = new ConcurrentHashMap<>();

  private SafetensorsFile(
      Path file, Arena arena, boolean ownsArena, MemorySegment data, SafetensorsHeader header) {
    this.file = file;
    this.arena = arena;
    this.ownsArena = ownsArena;
    this.data = data;
    Map<String, TensorEntry> m = new LinkedHashMap<>();
    for (TensorEntry e : header.entries()) {
      m.put(e.name(), e);
    }
    this.entries = Collections.unmodifiableMap(m);
    this.metadata = header.metadata();
  }

  /** Maps {@code file} into a new shared arena that {@link #close} releases. */
  public static SafetensorsFile open(Path file) {
    Arena arena = Arena.ofShared();
    try {
      return open(file, arena, true);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /** Maps {@code file} into {@code arena}, which the caller owns and closes. */
  public static SafetensorsFile open(Path file, Arena arena) {
    return open(file, arena, false);
  }

  private static SafetensorsFile open(Path file, Arena arena, boolean ownsArena) {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new EngineException("safetensors views need a little-endian host");
    }
    MemorySegment mapped;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw SafetensorsHeader.fail(
            file, "the file has " + size + " bytes, fewer than the 8-byte header length");
      }
      mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
    } catch (NoSuchFileException e) {
      throw new EngineException("safetensors file " + file + " does not exist");
    } catch (IOException e) {
      throw new EngineException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
    }
    long size = mapped.byteSize();
    long headerLength =
        mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    if (headerLength < 0 || headerLength > SafetensorsHeader.MAX_HEADER_BYTES) {
      throw SafetensorsHeader.fail(
          file,
          "the header length "
              + Long.toUnsignedString(headerLength)
              + " is absurd (more than "
              + SafetensorsHeader.MAX_HEADER_BYTES
              + " bytes); this is not a safetensors file or it is corrupt");
    }
    if (headerLength > size - 8) {
      throw SafetensorsHeader.fail(
          file,
          "the header length "
              + headerLength
              + " is larger than the "
              + (size - 8)
              + " bytes after it (the file is truncated or not safetensors)");
    }
    byte[] headerBytes = mapped.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
    MemorySegment data = mapped.asSlice(8 + headerLength).asReadOnly();
    SafetensorsHeader header = SafetensorsHeader.parse(headerBytes, data.byteSize(), file);
    return new SafetensorsFile(file, arena, ownsArena, data, header);
  }

  public Path file() {
    return file;
  }

  /** All entries by name, in header order. */
  public Map<String, TensorEntry> entries() {
    return entries;
  }

  @Override
  public SequencedSet<String> names() {
    return Collections.unmodifiableSequencedSet(new LinkedHashSet<>(entries.keySet()));
  }

  @Override
  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  @Override
  public TensorEntry entry(String name) {
    TensorEntry e = entries.get(name);
    if (e == null) {
      throw new EngineException(
          "safetensors file "
              + file
              + " has no tensor \""
              + name
              + "\" ("
              + entries.size()
              + " tensors)");
    }
    return e;
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public MemorySegment storedBytes(String name) {
    TensorEntry e = entry(name);
    return data.asSlice(e.begin(), e.byteSize());
  }

  @Override
  public Tensor tensor(String name) {
    TensorEntry e = entry(name);
    if (e.dtype().viewable()) {
      return new Tensor(e.dtype().engineType(), e.shape(), storedBytes(name), Device.CPU);
    }
    return converted.computeIfAbsent(name, n -> convertedCopy(e));
  }

  private Tensor convertedCopy(TensorEntry e) {
    DType target = e.dtype().engineType();
    MemorySegment dst = arena.allocate(e.elementCount() * target.bytes(), 64);
    String what = "tensor \"" + e.name() + "\" (" + e.dtype() + ") in " + file;
    if (target == DType.F32) {
      StoredConversion.toF32(e.dtype(), storedBytes(e.name()), dst, e.elementCount());
    } else {
      StoredConversion.toI32(e.dtype(), storedBytes(e.name()), dst, e.elementCount(), what);
    }
    return new Tensor(target, e.shape(), dst, Device.CPU);
  }

  @Override
  public void close() {
    if (ownsArena) {
      arena.close();
    }
  }
}
