package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed, truncated and hostile GGUF files are refused with a message naming the file. */
class GgufHostileTest {

  @TempDir Path dir;
  private byte[] good;

  @BeforeEach
  void writeGoodFile() throws IOException {
    Path file = dir.resolve("good.gguf");
    try (Arena arena = Arena.ofConfined()) {
      float[] v = new float[64];
      for (int i = 0; i < v.length; i++) {
        v[i] = i - 30;
      }
      new GgufWriter()
          .put("k", GgufValue.string("v"))
          .put("b", GgufValue.bool(true))
          .addTensor("w", GgmlType.Q8_0, GgufRoundTripTest.matrix(arena, v, 2, 32))
          .write(file);
    }
    good = Files.readAllBytes(file);
  }

  private Path file(byte[] bytes) throws IOException {
    Path p = dir.resolve("bad.gguf");
    Files.write(p, bytes);
    return p;
  }

  private void refused(byte[] bytes, String message) throws IOException {
    Path p = file(bytes);
    assertThatThrownBy(() -> GgufReader.open(p).close())
        .isInstanceOf(EngineException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining(message);
  }

  /** Offsets into the good file: 24 header bytes, then "k" (8+1+4+8+1), then "b" (8+1+4+1). */
  private static final int KEY_K = 24;

  private static final int KEY_B = KEY_K + 22;
  private static final int TENSOR = KEY_B + 14;

  private byte[] patched(int at, long value, int width) {
    byte[] b = good.clone();
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    switch (width) {
      case 1 -> buf.put(at, (byte) value);
      case 4 -> buf.putInt(at, (int) value);
      default -> buf.putLong(at, value);
    }
    return b;
  }

  @Test
  void theGoodFileReads() throws IOException {
    try (GgufReader r = GgufReader.open(file(good))) {
      assertThat(r.value("k").asString()).isEqualTo("v");
      assertThat(r.tensor("w").shape()).containsExactly(2, 32);
    }
  }

  @Test
  void everyTruncationIsRefused() throws IOException {
    long end;
    try (GgufReader r = GgufReader.open(file(good))) {
      end = r.dataOffset() + r.tensor("w").byteSize(); // the padding after the data is optional
    }
    assertThat(end).isLessThanOrEqualTo(good.length);
    for (int len = 0; len < end; len++) {
      byte[] cut = java.util.Arrays.copyOf(good, len);
      Path p = file(cut);
      assertThatThrownBy(() -> GgufReader.open(p).close())
          .as("truncated to %d bytes", len)
          .isInstanceOf(EngineException.class)
          .hasMessageContaining(p.toString());
    }
  }

  @Test
  void badMagicAndVersion() throws IOException {
    byte[] b = good.clone();
    b[0] = 'X';
    refused(b, "not a GGUF file");
    refused(patched(4, 1, 4), "version 1 is not supported");
    refused(patched(4, 99, 4), "version 99");
  }

  @Test
  void absurdCounts() throws IOException {
    refused(patched(8, Long.MAX_VALUE, 8), "tensor count");
    refused(patched(8, -1, 8), "tensor count");
    refused(patched(16, 1L << 40, 8), "metadata count");
  }

  @Test
  void absurdStringLength() throws IOException {
    refused(patched(KEY_K, Long.MAX_VALUE, 8), "string length");
    refused(patched(KEY_K, -8, 8), "string length");
  }

  @Test
  void unknownValueType() throws IOException {
    refused(patched(KEY_K + 9, 13, 4), "unknown metadata value type 13");
  }

  @Test
  void arrayLengthPastTheEnd() throws IOException {
    // turn key "k" into an array of UINT64 with an absurd length
    byte[] b = patched(KEY_K + 9, GgufValueType.ARRAY.id(), 4);
    ByteBuffer.wrap(b)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(KEY_K + 13, 10)
        .putLong(KEY_K + 17, 1L << 50);
    refused(b, "array length");
  }

  @Test
  void boolThatIsNotZeroOrOne() throws IOException {
    refused(patched(KEY_B + 13, 7, 1), "bool value 7");
  }

  @Test
  void invalidUtf8() throws IOException {
    refused(patched(KEY_K + 8, 0xFF, 1), "UTF-8");
  }

  @Test
  void duplicateKey() throws IOException {
    byte[] b = good.clone();
    b[KEY_B + 8] = 'k'; // key "b" becomes a second "k"
    refused(b, "appears twice");
  }

  @Test
  void badTensorInfos() throws IOException {
    int dims = TENSOR + 9;
    refused(patched(dims, 0, 4), "0 dimensions");
    refused(patched(dims, 5, 4), "5 dimensions");
    refused(patched(dims + 4, -3, 8), "negative dimension");
    refused(patched(dims + 4, 31, 8), "not whole Q8_0 blocks");
    refused(patched(dims + 4 + 8, 1L << 62, 8), "absurd");
    int type = dims + 4 + 16;
    refused(patched(type, 77, 4), "unknown type id 77");
    refused(patched(type, GgmlType.F32.id(), 4), "outside the file");
    refused(patched(type + 4, 32, 8), "outside the file");
    refused(patched(type + 4, 3, 8), "not aligned");
    refused(patched(type + 4, Long.MAX_VALUE & ~31L, 8), "outside the file");
  }

  @Test
  void badAlignment() throws IOException {
    Path p = dir.resolve("align.gguf");
    byte[] key = "general.alignment".getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(24 + 8 + key.length + 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(GgufWriter.MAGIC).putInt(3).putLong(0).putLong(1);
    b.putLong(key.length).put(key).putInt(GgufValueType.UINT32.id()).putInt(48);
    Files.write(p, b.array());
    assertThatThrownBy(() -> GgufReader.open(p))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("power of two");
  }

  @Test
  void unsupportedTensorTypeIsRefusedOnlyWhenRead() throws IOException {
    byte[] b = patched(TENSOR + 9 + 4 + 16, GgmlType.Q4_1.id(), 4);
    // Q4_1 blocks are 20 bytes: 2 rows × 20 = 40 bytes still fit the 68-byte data section
    try (GgufReader r = GgufReader.open(file(b));
        Arena arena = Arena.ofConfined()) {
      assertThat(r.tensor("w").type()).isEqualTo(GgmlType.Q4_1);
      assertThatThrownBy(() -> r.readF32("w", arena))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("Q4_1");
      assertThatThrownBy(() -> r.tensor("nope")).hasMessageContaining("no tensor \"nope\"");
      assertThatThrownBy(() -> r.value("nope")).hasMessageContaining("no \"nope\"");
      MemorySegment bytes = r.bytes("w");
      assertThat(bytes.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo(good[(int) r.dataOffset()]);
    }
  }

  @Test
  void missingFile() {
    assertThatThrownBy(() -> GgufReader.open(dir.resolve("absent.gguf")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("absent.gguf");
  }
}
