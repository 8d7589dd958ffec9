// Convention: shapes in this API are row-major like Tensor's (outermost first); the file stores
// them reversed, as ggml's ne[] (ne[0] = the contiguous row length). Tensor data is produced
// lazily at write time, one tensor after another, so a model is never held in memory twice.
package dev.entity.engine.format.gguf;

import dev.entity.engine.EngineException;
import dev.entity.engine.format.AtomicFile;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF version 3 file: header, metadata key/values, tensor infos, padding to the alignment
 * ({@code general.alignment}, 32 by default), then each tensor's bytes at an aligned offset. Add
 * metadata with {@link #put} and tensors with {@link #addTensor}, then {@link #write}: the file
 * goes to a temporary name next to the target, is fsynced and renamed over it, so a crash never
 * leaves half a file under the real name.
 */
public final class GgufWriter {

  /** The alignment GGUF uses when {@code general.alignment} is absent. */
  public static final int DEFAULT_ALIGNMENT = 32;

  static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
  static final int VERSION = 3;
  private static final int CHUNK_ELEMENTS = 1 << 18;

  /** Where a tensor's bytes go, in order; the writer counts them. */
  @FunctionalInterface
  public interface ByteSink {
    void write(MemorySegment bytes) throws IOException;
  }

  /** Produces one tensor's bytes (exactly its size) when the file is written. */
  @FunctionalInterface
  public interface TensorData {
    void writeTo(ByteSink sink) throws IOException;
  }

  private record Pending(
      String name, GgmlType type, long[] shape, long byteSize, TensorData data) {}

  private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
  private final Map<String, Pending> tensors = new LinkedHashMap<>();

  /** Sets a metadata key (insertion order is file order; setting again replaces the value). */
  public GgufWriter put(String key, GgufValue value) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("metadata key must not be empty");
    }
    metadata.put(key, value);
    return this;
  }

  /** The metadata set so far. */
  public Map<String, GgufValue> metadata() {
    return java.util.Collections.unmodifiableMap(metadata);
  }

  /**
   * Adds a tensor whose bytes {@code data} produces at write time.
   *
   * @param shape row-major shape; the last dimension must be a whole number of blocks of {@code
   *     type}
   */
  public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorData data) {
    if (tensors.containsKey(name)) {
      throw new IllegalArgumentException("tensor " + name + " added twice");
    }
    if (shape.length < 1 || shape.length > 4) {
      throw new IllegalArgumentException(name + ": GGUF tensors have 1 to 4 dimensions");
    }
    if (type.byteSize(shape[shape.length - 1]) < 0) {
      throw new IllegalArgumentException(
          name
              + ": rows of "
              + shape[shape.length - 1]
              + " values are not whole "
              + type
              + " blocks of "
              + type.blockSize());
    }
    long bytes = type.byteSize(Tensor.elementCount(shape));
    tensors.put(name, new Pending(name, type, shape.clone(), bytes, data));
    return this;
  }

  /**
   * Adds an F32 host tensor, converted to {@code type} chunk by chunk while the file is written; it
   * must stay valid until then.
   */
  public GgufWriter addTensor(String name, GgmlType type, Tensor f32) {
    if (f32.dtype() != DType.F32 || !(f32.device() instanceof Device.Cpu)) {
      throw new IllegalArgumentException(name + ": expected an F32 CPU tensor, got " + f32);
    }
    return addTensor(name, type, f32.shape(), encoded(f32.data(), type, f32.dim(-1)));
  }

  /** Bytes of {@code f32} values (native order) converted to {@code type}, in chunks of rows. */
  public static TensorData encoded(MemorySegment f32, GgmlType type, long rowLength) {
    return sink -> {
      long count = f32.byteSize() / 4;
      long rows = count / rowLength;
      long rowsPerChunk = Math.max(1, CHUNK_ELEMENTS / rowLength);
      long chunkBytes = type.byteSize(rowsPerChunk * rowLength);
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment buf = arena.allocate(chunkBytes, 64);
        for (long r = 0; r < rows; r += rowsPerChunk) {
          long n = Math.min(rowsPerChunk, rows - r) * rowLength;
          GgufTensorCodec.encode(type, f32, r * rowLength * 4, buf, 0, n);
          sink.write(buf.asSlice(0, type.byteSize(n)));
        }
      }
    };
  }

  /** Writes the file (atomically); an {@link EngineException} names it if that fails. */
  public void write(Path file) {
    int alignment = alignment();
    byte[] header = header(alignment);
    AtomicFile.write(
        file,
        ch -> {
          writeFully(ch, ByteBuffer.wrap(header));
          long written = 0;
          for (Pending p : tensors.values()) {
            long[] count = {0};
            p.data()
                .writeTo(
                    bytes -> {
                      count[0] += bytes.byteSize();
                      if (count[0] > p.byteSize()) {
                        throw new IllegalStateException(
                            p.name() + ": data is longer than its " + p.byteSize() + " bytes");
                      }
                      writeFully(ch, bytes.asByteBuffer());
                    });
            if (count[0] != p.byteSize()) {
              throw new IllegalStateException(
                  p.name() + ": wrote " + count[0] + " bytes, expected " + p.byteSize());
            }
            written += p.byteSize();
            long pad = padding(written, alignment);
            writeFully(ch, ByteBuffer.allocate((int) pad));
            written += pad;
          }
        });
  }

  private int alignment() {
    GgufValue a = metadata.get("general.alignment");
    if (a == null) {
      return DEFAULT_ALIGNMENT;
    }
    if (a.type() != GgufValueType.UINT32 || Long.bitCount(a.asLong()) != 1) {
      throw new IllegalArgumentException("general.alignment must be a UINT32 power of two");
    }
    return a.asInt();
  }

  private byte[] header(int alignment) {
    LittleEndianBytes out = new LittleEndianBytes();
    out.u32(MAGIC);
    out.u32(VERSION);
    out.u64(tensors.size());
    out.u64(metadata.size());
    for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
      out.string(e.getKey());
      out.u32(e.getValue().type().id());
      value(out, e.getValue());
    }
    long offset = 0;
    for (Pending p : tensors.values()) {
      out.string(p.name());
      out.u32(p.shape().length);
      for (int i = p.shape().length - 1; i >= 0; i--) {
        out.u64(p.shape()[i]);
      }
      out.u32(p.type().id());
      out.u64(offset);
      offset += p.byteSize() + padding(p.byteSize(), alignment);
    }
    out.zeros(padding(out.size(), alignment));
    return out.toByteArray();
  }

  private static void value(LittleEndianBytes out, GgufValue v) {
    if (v.type() == GgufValueType.ARRAY) {
      out.u32(v.elementType().id());
      List<?> list = v.asList();
      out.u64(list.size());
      for (Object o : list) {
        if (v.elementType() == GgufValueType.ARRAY) {
          value(out, (GgufValue) o);
        } else {
          scalar(out, v.elementType(), o);
        }
      }
    } else {
      scalar(out, v.type(), v.value());
    }
  }

  private static void scalar(LittleEndianBytes out, GgufValueType type, Object o) {
    switch (type) {
      case UINT8, INT8 -> out.u8(((Long) o).intValue());
      case UINT16, INT16 -> out.u16(((Long) o).intValue());
      case UINT32, INT32 -> out.u32(((Long) o).intValue());
      case UINT64, INT64 -> out.u64((Long) o);
      case FLOAT32 -> out.u32(Float.floatToRawIntBits(((Double) o).floatValue()));
      case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) o));
      case BOOL -> out.u8((Boolean) o ? 1 : 0);
      case STRING -> out.string((String) o);
      case ARRAY -> throw new IllegalArgumentException("nested array without its element type");
    }
  }

  static long padding(long size, int alignment) {
    return (alignment - size % alignment) % alignment;
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    AtomicFile.writeFully(ch, buf);
  }

  /** A growable little-endian byte buffer for the header. */
  private static final class LittleEndianBytes extends ByteArrayOutputStream {
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    void u8(int v) {
      write(v);
    }

    void u16(int v) {
      scratch.clear();
      write(scratch.putShort((short) v).array(), 0, 2);
    }

    void u32(int v) {
      scratch.clear();
      write(scratch.putInt(v).array(), 0, 4);
    }

    void u64(long v) {
      scratch.clear();
      write(scratch.putLong(v).array(), 0, 8);
    }

    void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      u64(b.length);
      write(b, 0, b.length);
    }

    void zeros(long n) {
      write(new byte[(int) n], 0, (int) n);
    }
  }

  /** Names of the tensors added so far, in file order. */
  public List<String> tensorNames() {
    return new ArrayList<>(tensors.keySet());
  }

  @Override
  public String toString() {
    return "GgufWriter[" + metadata.size() + " keys, " + tensors.size() + " tensors]";
  }
}
