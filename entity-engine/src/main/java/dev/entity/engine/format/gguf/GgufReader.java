// Convention: every read is bounds-checked against the mapped file before it happens, so a
// truncated or hostile file is an EngineException naming the file and the byte offset, never an
// IndexOutOfBoundsException or an allocation sized by an untrusted count.
package dev.entity.engine.format.gguf;

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
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped GGUF file (version 2 or 3): metadata, tensor infos, and the tensors' bytes as
 * read-only views, with {@link #readF32} dequantizing the types the engine supports. Malformed
 * files — bad magic or version, truncation, absurd counts or lengths, unknown value or tensor
 * types, offsets outside the file — are refused with an {@link EngineException} naming the file.
 */
public final class GgufReader implements AutoCloseable {

  private static final int MAX_DIMS = 4;
  private static final int MAX_DEPTH = 4;
  private static final ValueLayout.OfInt U32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort U16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final Path file;
  private final Arena arena;
  private final MemorySegment map;
  private final int version;
  private final Map<String, GgufValue> metadata;
  private final Map<String, GgufTensorInfo> tensors;
  private final long alignment;
  private final long dataOffset;
  private long pos;

  private GgufReader(Path file, Arena arena, MemorySegment map) {
    this.file = file;
    this.arena = arena;
    this.map = map;
    int magic = u32();
    if (magic != GgufWriter.MAGIC) {
      throw error(0, "not a GGUF file (magic " + Integer.toHexString(magic) + ", want 'GGUF')");
    }
    version = u32();
    if (version != 2 && version != 3) {
      throw error(4, "GGUF version " + version + " is not supported (2 or 3)");
    }
    long tensorCount = count(u64(), 24, "tensor count");
    long kvCount = count(u64(), 13, "metadata count");
    Map<String, GgufValue> kv = new LinkedHashMap<>();
    for (long i = 0; i < kvCount; i++) {
      long at = pos;
      String key = string();
      GgufValueType type = valueType(u32());
      if (kv.put(key, value(type, 0)) != null) {
        throw error(at, "metadata key \"" + key + "\" appears twice");
      }
    }
    metadata = Collections.unmodifiableMap(kv);
    alignment = alignmentOf(kv);
    Map<String, GgufTensorInfo> infos = new LinkedHashMap<>();
    for (long i = 0; i < tensorCount; i++) {
      long at = pos;
      String name = string();
      long dims = Integer.toUnsignedLong(u32());
      if (dims < 1 || dims > MAX_DIMS) {
        throw error(at, "tensor \"" + name + "\" has " + dims + " dimensions (1 to 4 allowed)");
      }
      long[] shape = new long[(int) dims];
      long elements = 1;
      for (int d = 0; d < dims; d++) {
        long n = u64();
        if (n < 0) {
          throw error(at, "tensor \"" + name + "\" has a negative dimension");
        }
        shape[(int) dims - 1 - d] = n;
        try {
          elements = Math.multiplyExact(elements, n);
        } catch (ArithmeticException e) {
          throw error(at, "tensor \"" + name + "\" has an absurd element count");
        }
      }
      int typeId = u32();
      GgmlType type =
          GgmlType.ofId(Integer.toUnsignedLong(typeId))
              .orElseThrow(
                  () -> error(at, "tensor \"" + name + "\" has unknown type id " + typeId));
      long rowBytes = type.byteSize(shape[shape.length - 1]);
      if (rowBytes < 0) {
        throw error(at, "tensor \"" + name + "\": rows are not whole " + type + " blocks");
      }
      long bytes;
      try {
        bytes = type.byteSize(elements);
      } catch (ArithmeticException e) {
        throw error(at, "tensor \"" + name + "\" has an absurd size");
      }
      long offset = u64();
      if (offset < 0 || offset % alignment != 0) {
        throw error(at, "tensor \"" + name + "\" has offset " + offset + ", not aligned");
      }
      if (infos.put(name, new GgufTensorInfo(name, type, shape, offset, bytes)) != null) {
        throw error(at, "tensor \"" + name + "\" appears twice");
      }
    }
    tensors = Collections.unmodifiableMap(infos);
    dataOffset = pos + GgufWriter.padding(pos, (int) alignment);
    long dataSize = map.byteSize() - dataOffset;
    for (GgufTensorInfo t : infos.values()) {
      if (dataSize < 0 || t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
        throw error(
            dataOffset,
            "tensor \""
                + t.name()
                + "\" lies outside the file ("
                + t.offset()
                + " + "
                + t.byteSize()
                + " bytes, data section has "
                + Math.max(0, dataSize)
                + "); the file is truncated");
      }
    }
  }

  /** Maps and parses {@code file}. */
  public static GgufReader open(Path file) {
    Arena arena = Arena.ofShared();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      return new GgufReader(file, arena, map);
    } catch (IOException e) {
      arena.close();
      throw new EngineException("cannot read GGUF file " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  public Path file() {
    return file;
  }

  public int version() {
    return version;
  }

  /** Metadata in file order. */
  public Map<String, GgufValue> metadata() {
    return metadata;
  }

  /** A metadata value; an {@link EngineException} names the file and key if it is missing. */
  public GgufValue value(String key) {
    GgufValue v = metadata.get(key);
    if (v == null) {
      throw new EngineException(file + ": GGUF metadata has no \"" + key + "\"");
    }
    return v;
  }

  /** Tensor infos in file order. */
  public List<GgufTensorInfo> tensors() {
    return List.copyOf(tensors.values());
  }

  /** The info of tensor {@code name}; an {@link EngineException} if there is none. */
  public GgufTensorInfo tensor(String name) {
    GgufTensorInfo t = tensors.get(name);
    if (t == null) {
      throw new EngineException(file + ": no tensor \"" + name + "\"");
    }
    return t;
  }

  /** Whether the file holds a tensor called {@code name}. */
  public boolean hasTensor(String name) {
    return tensors.containsKey(name);
  }

  public long alignment() {
    return alignment;
  }

  /** Byte offset of the data section in the file. */
  public long dataOffset() {
    return dataOffset;
  }

  /** The stored bytes of tensor {@code name}, read-only, valid until {@link #close}. */
  public MemorySegment bytes(String name) {
    GgufTensorInfo t = tensor(name);
    return map.asSlice(dataOffset + t.offset(), t.byteSize());
  }

  /** Tensor {@code name} dequantized to a fresh F32 tensor in {@code into}. */
  public Tensor readF32(String name, Arena into) {
    GgufTensorInfo t = tensor(name);
    if (!t.type().isSupported()) {
      throw new EngineException(
          file
              + ": tensor \""
              + name
              + "\" is "
              + t.type()
              + "; the engine reads F32, F16, BF16, Q8_0, Q4_0 and Q5_1");
    }
    MemorySegment dst = into.allocate(t.elementCount() * 4, 64);
    GgufTensorCodec.decode(t.type(), bytes(name), 0, dst, 0, t.elementCount());
    return new Tensor(DType.F32, t.shape(), dst, Device.CPU);
  }

  @Override
  public void close() {
    arena.close();
  }

  // ---------------------------------------------------------------- parsing

  private GgufValue value(GgufValueType type, int depth) {
    return switch (type) {
      case ARRAY -> {
        long at = pos;
        if (depth >= MAX_DEPTH) {
          throw error(at, "arrays nested deeper than " + MAX_DEPTH);
        }
        GgufValueType element = valueType(u32());
        int minBytes =
            element.bytes() > 0 ? element.bytes() : element == GgufValueType.ARRAY ? 12 : 8;
        long n = count(u64(), minBytes, "array length");
        List<Object> items = new ArrayList<>((int) Math.min(n, 1 << 16));
        for (long i = 0; i < n; i++) {
          items.add(element == GgufValueType.ARRAY ? value(element, depth + 1) : scalar(element));
        }
        yield GgufValue.array(element, items);
      }
      default -> new GgufValue(type, null, scalar(type));
    };
  }

  private Object scalar(GgufValueType type) {
    return switch (type) {
      case UINT8 -> (long) (u8() & 0xFF);
      case INT8 -> (long) u8();
      case UINT16 -> (long) (u16() & 0xFFFF);
      case INT16 -> (long) u16();
      case UINT32 -> Integer.toUnsignedLong(u32());
      case INT32 -> (long) u32();
      case UINT64, INT64 -> u64();
      case FLOAT32 -> (double) Float.intBitsToFloat(u32());
      case FLOAT64 -> Double.longBitsToDouble(u64());
      case BOOL -> {
        long at = pos;
        byte b = u8();
        if (b != 0 && b != 1) {
          throw error(at, "bool value " + b + " is neither 0 nor 1");
        }
        yield b == 1;
      }
      case STRING -> string();
      case ARRAY -> throw new IllegalStateException("arrays are read by value()");
    };
  }

  private GgufValueType valueType(int id) {
    return GgufValueType.ofId(Integer.toUnsignedLong(id))
        .orElseThrow(() -> error(pos - 4, "unknown metadata value type " + id));
  }

  private long alignmentOf(Map<String, GgufValue> kv) {
    GgufValue a = kv.get("general.alignment");
    if (a == null) {
      return GgufWriter.DEFAULT_ALIGNMENT;
    }
    if (a.type() != GgufValueType.UINT32 || Long.bitCount(a.asLong()) != 1) {
      throw error(0, "general.alignment must be a UINT32 power of two, got " + a);
    }
    return a.asLong();
  }

  /** An untrusted count, checked against what the rest of the file could hold. */
  private long count(long n, int minBytesEach, String what) {
    long remaining = map.byteSize() - pos;
    if (n < 0 || n > remaining / minBytesEach) {
      throw error(pos - 8, what + " " + Long.toUnsignedString(n) + " is more than the file holds");
    }
    return n;
  }

  private String string() {
    long at = pos;
    long len = u64();
    if (len < 0 || len > map.byteSize() - pos) {
      throw error(at, "string length " + Long.toUnsignedString(len) + " runs past the end");
    }
    byte[] b = map.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
    pos += len;
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw error(at, "string is not valid UTF-8");
    }
  }

  private byte u8() {
    need(1);
    return map.get(ValueLayout.JAVA_BYTE, pos++);
  }

  private short u16() {
    need(2);
    short v = map.get(U16, pos);
    pos += 2;
    return v;
  }

  private int u32() {
    need(4);
    int v = map.get(U32, pos);
    pos += 4;
    return v;
  }

  private long u64() {
    need(8);
    long v = map.get(U64, pos);
    pos += 8;
    return v;
  }

  private void need(long n) {
    if (pos + n > map.byteSize()) {
      throw error(pos, "unexpected end of file (truncated?)");
    }
  }

  private EngineException error(long at, String what) {
    return new EngineException(file + ": invalid GGUF at byte " + at + ": " + what);
  }
}
