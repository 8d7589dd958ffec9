// Convention: everything on disk is little-endian (TFRecord lengths and CRCs, protobuf fixed64/32),
// and the protobuf messages are encoded by hand — only the few fields TensorBoard's scalar view
// reads, each with its number from tensorflow/core/util/event.proto and summary.proto.
package dev.entity.training.train.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes a TensorBoard event file: a sequence of TFRecords, each {@code uint64 length, uint32
 * masked CRC32C of the length, data, uint32 masked CRC32C of the data}, whose data is a serialized
 * {@code Event}. The first event carries {@code file_version = "brain.Event:2"}; each later one a
 * {@code Summary} of scalar values ({@code simple_value}) at one step. Every event is flushed to
 * the operating system as soon as it is written, so a killed process loses at most the event being
 * written.
 */
public final class TensorBoardEventWriter implements AutoCloseable {

  /** The version string TensorBoard expects in the first event of a file. */
  public static final String FILE_VERSION = "brain.Event:2";

  private static final int MASK_DELTA = 0xa282ead8;

  // Protobuf tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited,
  // 5 fixed32).
  private static final int EVENT_WALL_TIME = (1 << 3) | 1;
  private static final int EVENT_STEP = (2 << 3);
  private static final int EVENT_FILE_VERSION = (3 << 3) | 2;
  private static final int EVENT_SUMMARY = (5 << 3) | 2;
  private static final int SUMMARY_VALUE = (1 << 3) | 2;
  private static final int VALUE_TAG = (1 << 3) | 2;
  private static final int VALUE_SIMPLE_VALUE = (2 << 3) | 5;

  private final Path file;
  private final OutputStream out;

  private TensorBoardEventWriter(Path file, OutputStream out) {
    this.file = file;
    this.out = out;
  }

  /**
   * Creates {@code events.out.tfevents.<epoch seconds>.<host>} in {@code folder} (made if missing)
   * and writes the file-version event.
   */
  public static TensorBoardEventWriter create(Path folder, double wallTimeSeconds, String host)
      throws IOException {
    Files.createDirectories(folder);
    // A second writer in the same second (a quick resume) gets ".1", ".2"...: never one file
    // with two file-version events.
    String name = fileName(wallTimeSeconds, host);
    Path file = folder.resolve(name);
    OutputStream out = null;
    for (int n = 1; out == null; n++) {
      try {
        out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (n > 1000) {
          throw e;
        }
        file = folder.resolve(name + "." + n);
      }
    }
    TensorBoardEventWriter writer = new TensorBoardEventWriter(file, out);
    try {
      writer.writeRecord(fileVersionEvent(wallTimeSeconds));
    } catch (IOException e) {
      writer.close();
      throw e;
    }
    return writer;
  }

  /** The file name TensorBoard looks for; characters outside {@code [A-Za-z0-9._-]} become '_'. */
  public static String fileName(double wallTimeSeconds, String host) {
    String safeHost = host == null || host.isBlank() ? "localhost" : host;
    return "events.out.tfevents."
        + (long) Math.floor(wallTimeSeconds)
        + "."
        + safeHost.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** The file being written. */
  public Path file() {
    return file;
  }

  /**
   * Writes one event holding every entry of {@code scalars} (tag to value) at {@code step}, then
   * flushes. Non-finite values are written as they are (TensorBoard shows them as NaN/inf).
   */
  public void writeScalars(long step, double wallTimeSeconds, Map<String, Double> scalars)
      throws IOException {
    writeRecord(scalarEvent(step, wallTimeSeconds, scalars));
  }

  /** Frames {@code data} as one TFRecord and flushes it. */
  void writeRecord(byte[] data) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(data.length);
    header.putInt(maskedCrc32c(header.array(), 0, 8));
    ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    footer.putInt(maskedCrc32c(data, 0, data.length));
    // One write per record, so a record is never split across two flushes.
    byte[] record = new byte[12 + data.length + 4];
    System.arraycopy(header.array(), 0, record, 0, 12);
    System.arraycopy(data, 0, record, 12, data.length);
    System.arraycopy(footer.array(), 0, record, 12 + data.length, 4);
    out.write(record);
    out.flush();
  }

  /**
   * TFRecord's masked CRC32C: {@code ((crc >>> 15) | (crc << 17)) + 0xa282ead8}, so that a CRC
   * stored inside CRC-checked data does not weaken the check.
   */
  public static int maskedCrc32c(byte[] data, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(data, offset, length);
    int value = (int) crc.getValue();
    return ((value >>> 15) | (value << 17)) + MASK_DELTA;
  }

  /** {@code Event{wall_time, step: 0, file_version}}. */
  static byte[] fileVersionEvent(double wallTimeSeconds) {
    ByteArrayOutputStream event = new ByteArrayOutputStream();
    writeTag(event, EVENT_WALL_TIME);
    writeFixed64(event, Double.doubleToLongBits(wallTimeSeconds));
    writeTag(event, EVENT_FILE_VERSION);
    writeBytes(event, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
    return event.toByteArray();
  }

  /** {@code Event{wall_time, step, summary{value{tag, simple_value}...}}}. */
  static byte[] scalarEvent(long step, double wallTimeSeconds, Map<String, Double> scalars) {
    ByteArrayOutputStream summary = new ByteArrayOutputStream();
    scalars.forEach(
        (tag, value) -> {
          ByteArrayOutputStream v = new ByteArrayOutputStream();
          writeTag(v, VALUE_TAG);
          writeBytes(v, tag.getBytes(StandardCharsets.UTF_8));
          writeTag(v, VALUE_SIMPLE_VALUE);
          writeFixed32(v, Float.floatToRawIntBits(value.floatValue()));
          writeTag(summary, SUMMARY_VALUE);
          writeBytes(summary, v.toByteArray());
        });
    ByteArrayOutputStream event = new ByteArrayOutputStream();
    writeTag(event, EVENT_WALL_TIME);
    writeFixed64(event, Double.doubleToLongBits(wallTimeSeconds));
    writeTag(event, EVENT_STEP);
    writeVarint(event, step);
    writeTag(event, EVENT_SUMMARY);
    writeBytes(event, summary.toByteArray());
    return event.toByteArray();
  }

  private static void writeTag(ByteArrayOutputStream out, int tag) {
    writeVarint(out, tag);
  }

  /** Base-128 varint, low group first; a negative int64 takes ten bytes, as protobuf does. */
  private static void writeVarint(ByteArrayOutputStream out, long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
  }

  private static void writeFixed64(ByteArrayOutputStream out, long value) {
    for (int i = 0; i < 8; i++) {
      out.write((int) (value >>> (8 * i)));
    }
  }

  private static void writeFixed32(ByteArrayOutputStream out, int value) {
    for (int i = 0; i < 4; i++) {
      out.write(value >>> (8 * i));
    }
  }

  private static void writeBytes(ByteArrayOutputStream out, byte[] bytes) {
    writeVarint(out, bytes.length);
    out.writeBytes(bytes);
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
