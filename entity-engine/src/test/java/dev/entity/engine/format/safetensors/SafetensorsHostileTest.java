package dev.entity.engine.format.safetensors;

import static dev.entity.engine.format.safetensors.RawSafetensors.floats;
import static dev.entity.engine.format.safetensors.RawSafetensors.write;
import static dev.entity.engine.format.safetensors.RawSafetensors.writeBytes;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Malformed and hostile files: each is a clear {@link EngineException} naming the file. */
class SafetensorsHostileTest {

  @TempDir Path dir;

  private void assertRefused(Path f, String... fragments) {
    var assertion =
        assertThatThrownBy(() -> SafetensorsFile.open(f).close())
            .isInstanceOf(EngineException.class)
            .hasMessageContaining(f.toString());
    for (String fragment : fragments) {
      assertion.hasMessageContaining(fragment);
    }
  }

  @Test
  void missingFile() {
    assertThatThrownBy(() -> SafetensorsFile.open(dir.resolve("none.safetensors")))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void shorterThanEightBytes() {
    assertRefused(writeBytes(dir.resolve("s"), new byte[] {1, 2, 3}), "3 bytes");
    assertRefused(writeBytes(dir.resolve("e"), new byte[0]), "0 bytes");
  }

  @Test
  void headerLengthLargerThanFile() {
    byte[] b = RawSafetensors.bytes("{}", new byte[0]);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
    assertRefused(writeBytes(dir.resolve("h"), b), "header length 1000", "truncated");
  }

  @Test
  void absurdHeaderLength() {
    byte[] b = RawSafetensors.bytes("{}", new byte[0]);
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 200_000_000L);
    assertRefused(writeBytes(dir.resolve("a"), b), "absurd");
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
    assertRefused(writeBytes(dir.resolve("n"), b), "absurd", "18446744073709551615");
  }

  @Test
  void headerNotUtf8() {
    byte[] b = RawSafetensors.bytes("{\"a\":1}", new byte[0]);
    b[10] = (byte) 0xFF;
    assertRefused(writeBytes(dir.resolve("u"), b), "UTF-8");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"a\": | not valid JSON",
        "[1,2] | not a JSON object",
        "\"str\" | not a JSON object",
        "{} {} | not valid JSON",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}} | Duplicate",
        "{\"a\":5} | not an object",
        "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}} | lacks one of dtype",
        "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}} | lacks one of dtype",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}} | lacks one of dtype",
        "{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}} | not a string",
        "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}} | unknown or unsupported dtype \"F8_E4M3\"",
        "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}} | unknown or unsupported dtype",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]}} | shape that is not an array",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}} | negative dimension",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}} | not an integer",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}} | not an integer in range",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}} | overflows",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}} | byte size overflows",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}} | [begin, end]",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}} | invalid data_offsets",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}} | invalid data_offsets",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}} | holds only 8 bytes",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}} | needs 8",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}} | overlap",
        "{\"__metadata__\":[1]} | __metadata__ must be an object",
        "{\"__metadata__\":{\"k\":1}} | is not a string",
      })
  void malformedHeader(String header, String expected) {
    assertRefused(
        write(dir.resolve("bad.safetensors"), header.strip(), floats(1, 2)), expected.strip());
  }

  @Test
  void truncatedData() {
    String header =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}";
    byte[] full = RawSafetensors.bytes(header, floats(1, 2, 3, 4, 5, 6, 7, 8));
    assertRefused(
        writeBytes(dir.resolve("t"), Arrays.copyOf(full, full.length - 5)), "\"b\"", "truncated");
  }

  @Test
  void deeplyNestedHeaderIsRefusedNotAStackOverflow() {
    String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    assertRefused(write(dir.resolve("deep"), deep, new byte[0]), "JSON");
  }
}
