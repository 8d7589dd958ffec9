package dev.entity.training.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads back what the writer wrote with a decoder of its own (TFRecord framing, a bitwise CRC32C,
 * and a protobuf reader for the Event/Summary fields), never with the writer's code.
 */
class TensorBoardEventWriterTest {

  @TempDir Path dir;

  /**
   * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit, straight from its definition.
   */
  static int crc32c(byte[] data, int offset, int length) {
    int crc = 0xFFFFFFFF;
    for (int i = offset; i < offset + length; i++) {
      crc ^= data[i] & 0xFF;
      for (int bit = 0; bit < 8; bit++) {
        crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
      }
    }
    return ~crc;
  }

  static int mask(int crc) {
    return Integer.rotateRight(crc, 15) + 0xa282ead8;
  }

  @Test
  void maskedCrcMatchesKnownAnswers() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    // CRC32C("123456789") = 0xE3069283 (the published check value). Masked by hand:
    // 0xE3069283 >>> 15 = 0x0001C60D, 0xE3069283 << 17 = 0x25060000, or = 0x2507C60D,
    // + 0xA282EAD8 = 0xC78AB0E5 (mod 2^32).
    assertThat(crc32c(check, 0, check.length)).isEqualTo(0xE3069283);
    assertThat(TensorBoardEventWriter.maskedCrc32c(check, 0, check.length)).isEqualTo(0xC78AB0E5);
    // The CRC of nothing is 0, so its mask is the delta itself.
    assertThat(TensorBoardEventWriter.maskedCrc32c(new byte[0], 0, 0)).isEqualTo(0xa282ead8);
  }

  record Frame(byte[] data) {}

  /** Splits a TFRecord file into records, checking each length and both CRCs. */
  static List<Frame> frames(byte[] file) {
    List<Frame> frames = new ArrayList<>();
    ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    while (in.hasRemaining()) {
      assertThat(in.remaining()).as("room for a header").isGreaterThanOrEqualTo(12);
      int start = in.position();
      long length = in.getLong();
      int lengthCrc = in.getInt();
      assertThat(lengthCrc).as("length CRC").isEqualTo(mask(crc32c(file, start, 8)));
      assertThat(length).isBetween(0L, (long) in.remaining() - 4);
      byte[] data = new byte[(int) length];
      in.get(data);
      int dataCrc = in.getInt();
      assertThat(dataCrc).as("data CRC").isEqualTo(mask(crc32c(data, 0, data.length)));
      frames.add(new Frame(data));
    }
    return frames;
  }

  /** A protobuf field: number, wire type, and its varint/fixed value or bytes. */
  record Field(int number, int wireType, long value, byte[] bytes) {}

  static List<Field> fields(byte[] message) {
    List<Field> fields = new ArrayList<>();
    int[] pos = {0};
    while (pos[0] < message.length) {
      long key = varint(message, pos);
      int number = (int) (key >>> 3);
      int type = (int) (key & 7);
      switch (type) {
        case 0 -> fields.add(new Field(number, type, varint(message, pos), null));
        case 1 -> {
          long v = ByteBuffer.wrap(message, pos[0], 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
          pos[0] += 8;
          fields.add(new Field(number, type, v, null));
        }
        case 5 -> {
          long v = ByteBuffer.wrap(message, pos[0], 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
          pos[0] += 4;
          fields.add(new Field(number, type, v, null));
        }
        case 2 -> {
          int len = (int) varint(message, pos);
          byte[] b = java.util.Arrays.copyOfRange(message, pos[0], pos[0] + len);
          pos[0] += len;
          fields.add(new Field(number, type, 0, b));
        }
        default -> throw new AssertionError("unexpected wire type " + type);
      }
    }
    return fields;
  }

  static long varint(byte[] b, int[] pos) {
    long result = 0;
    for (int shift = 0; ; shift += 7) {
      int next = b[pos[0]++] & 0xFF;
      result |= (long) (next & 0x7F) << shift;
      if ((next & 0x80) == 0) {
        return result;
      }
    }
  }

  static Field field(List<Field> fields, int number) {
    return fields.stream().filter(f -> f.number() == number).findFirst().orElseThrow();
  }

  /** Tag to simple_value of every Summary.Value of an event. */
  static Map<String, Float> scalars(List<Field> event) {
    Map<String, Float> scalars = new LinkedHashMap<>();
    for (Field value : fields(field(event, 5).bytes())) {
      assertThat(value.number()).isEqualTo(1);
      List<Field> v = fields(value.bytes());
      assertThat(field(v, 2).wireType()).isEqualTo(5);
      scalars.put(
          new String(field(v, 1).bytes(), StandardCharsets.UTF_8),
          Float.intBitsToFloat((int) field(v, 2).value()));
    }
    return scalars;
  }

  @Test
  void writesFileVersionThenScalarEventsThatDecode() throws IOException {
    Path file;
    try (TensorBoardEventWriter writer =
        TensorBoardEventWriter.create(dir, 1_700_000_000.25, "my host/1")) {
      file = writer.file();
      writer.writeScalars(7, 1_700_000_001.5, Map.of("train/loss", 2.5));
      Map<String, Double> two = new LinkedHashMap<>();
      two.put("eval/loss", 1.75);
      two.put("eval/perplexity", Double.NaN);
      writer.writeScalars(300_000_000_000L, 1_700_000_002.0, two);
    }
    assertThat(file.getFileName().toString()).isEqualTo("events.out.tfevents.1700000000.my_host_1");

    List<Frame> frames = frames(Files.readAllBytes(file));
    assertThat(frames).hasSize(3);

    List<Field> first = fields(frames.get(0).data());
    assertThat(Double.longBitsToDouble(field(first, 1).value())).isEqualTo(1_700_000_000.25);
    assertThat(new String(field(first, 3).bytes(), StandardCharsets.UTF_8))
        .isEqualTo("brain.Event:2");

    List<Field> second = fields(frames.get(1).data());
    assertThat(Double.longBitsToDouble(field(second, 1).value())).isEqualTo(1_700_000_001.5);
    assertThat(field(second, 2).value()).isEqualTo(7);
    assertThat(scalars(second)).containsExactly(Map.entry("train/loss", 2.5f));

    List<Field> third = fields(frames.get(2).data());
    assertThat(field(third, 2).value()).isEqualTo(300_000_000_000L);
    Map<String, Float> s = scalars(third);
    assertThat(s.keySet()).containsExactly("eval/loss", "eval/perplexity");
    assertThat(s.get("eval/loss")).isEqualTo(1.75f);
    assertThat(s.get("eval/perplexity")).isNaN();
  }

  @Test
  void sinkTagsTrainAndEvalRecordsLikeHuggingFace() throws IOException {
    TensorBoardMetricsSink sink = new TensorBoardMetricsSink(dir.resolve("tb"), "host");
    Map<String, Double> train = new LinkedHashMap<>();
    train.put(MetricRecord.LOSS, 3.0);
    train.put(MetricRecord.LEARNING_RATE, 1e-4);
    sink.log(
        new MetricRecord(
            MetricRecord.Kind.TRAIN, 5, 10, 0.5, train, Instant.ofEpochSecond(1_700_000_000)));
    sink.log(
        new MetricRecord(
            MetricRecord.Kind.EVAL,
            5,
            10,
            0.5,
            Map.of(MetricRecord.EVAL_LOSS, 2.0),
            Instant.ofEpochSecond(1_700_000_001)));
    Path file = sink.file();
    sink.close();
    List<Frame> frames = frames(Files.readAllBytes(file));
    assertThat(frames).hasSize(3);
    assertThat(scalars(fields(frames.get(1).data())))
        .containsExactly(
            Map.entry("train/loss", 3.0f),
            Map.entry("train/learning_rate", 1e-4f),
            Map.entry("train/epoch", 0.5f));
    assertThat(scalars(fields(frames.get(2).data()))).containsExactly(Map.entry("eval/loss", 2.0f));
  }

  @Test
  void twoWritersInOneSecondGetTwoFiles() throws IOException {
    try (TensorBoardEventWriter a = TensorBoardEventWriter.create(dir, 5.0, "h");
        TensorBoardEventWriter b = TensorBoardEventWriter.create(dir, 5.9, "h")) {
      assertThat(a.file().getFileName().toString()).isEqualTo("events.out.tfevents.5.h");
      assertThat(b.file().getFileName().toString()).isEqualTo("events.out.tfevents.5.h.1");
      assertThat(frames(Files.readAllBytes(a.file()))).hasSize(1);
      assertThat(frames(Files.readAllBytes(b.file()))).hasSize(1);
    }
  }

  @Test
  void aKilledWriterLeavesOnlyWholeRecords() throws IOException {
    // Every record is written and flushed in one piece: the file after N records is exactly N
    // frames, whatever happens after.
    TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, 1.0, "h");
    writer.writeScalars(1, 2.0, Map.of("a", 1.0));
    byte[] onDisk = Files.readAllBytes(writer.file());
    assertThat(frames(onDisk)).hasSize(2);
    writer.close();
  }
}
