package dev.entity.training.data;

// Bytes are decoded as strict UTF-8 by us (never by Jackson's auto-detection), so a Latin-1 or
// UTF-16 file fails with its line number instead of being silently misread. JSONL lines are
// assembled as bytes and refused as soon as one passes the limit, before it is held in memory.

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.entity.core.EntityException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads JSON Lines files (one record per line, blank lines skipped) as a stream, and JSON files
 * holding one array of records. A UTF-8 byte-order mark is accepted; UTF-16/UTF-32 files and
 * invalid UTF-8 are refused with the file and line. An unparsable JSONL line is reported to the
 * sink as a bad record (so {@code skipInvalid} can skip it); an unparsable JSON array ends the
 * read.
 */
final class JsonRecordReader {

  private final long maxLineBytes;
  private final ObjectMapper mapper;

  JsonRecordReader(long maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
    int maxString = (int) Math.min(Integer.MAX_VALUE, Math.max(maxLineBytes, 1_000_000));
    this.mapper =
        JsonMapper.builder(
                com.fasterxml.jackson.core.JsonFactory.builder()
                    .streamReadConstraints(
                        StreamReadConstraints.builder().maxStringLength(maxString).build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
  }

  /** True when the file's first non-blank character (after a BOM) opens a JSON array. */
  static boolean startsWithArray(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(4096);
      int i = hasUtf8Bom(head, head.length) ? 3 : 0;
      while (i < head.length && Character.isWhitespace(head[i])) {
        i++;
      }
      return i < head.length && head[i] == '[';
    }
  }

  void readLines(Path file, String name, RecordSink sink) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] chunk = new byte[1 << 16];
      byte[] line = new byte[1024];
      int lineLength = 0;
      long lineNumber = 1;
      boolean first = true;
      int n;
      while ((n = in.read(chunk)) > 0) {
        int from = 0;
        if (first) {
          refuseWideEncodings(chunk, n, name);
          first = false;
        }
        for (int i = 0; i < n; i++) {
          if (chunk[i] != '\n') {
            continue;
          }
          line = append(line, lineLength, chunk, from, i - from, name, lineNumber);
          lineLength += i - from;
          if (!handleLine(line, lineLength, name, lineNumber, sink)) {
            return;
          }
          lineNumber++;
          lineLength = 0;
          from = i + 1;
        }
        line = append(line, lineLength, chunk, from, n - from, name, lineNumber);
        lineLength += n - from;
      }
      if (lineLength > 0) {
        handleLine(line, lineLength, name, lineNumber, sink);
      }
    }
  }

  private byte[] append(
      byte[] line, int length, byte[] src, int from, int count, String name, long lineNumber) {
    if ((long) length + count > maxLineBytes) {
      throw new EntityException(
          name
              + ":"
              + lineNumber
              + ": line is longer than "
              + humanBytes(maxLineBytes)
              + "; one record per line is expected. Split the record, or check that the file really"
              + " is JSON Lines (a single huge line often means a JSON array or a binary file)");
    }
    if (length + count > line.length) {
      line =
          Arrays.copyOf(
              line,
              (int)
                  Math.min(
                      Math.max((long) line.length * 2, length + count), Integer.MAX_VALUE - 8));
    }
    System.arraycopy(src, from, line, length, count);
    return line;
  }

  private boolean handleLine(
      byte[] bytes, int length, String name, long lineNumber, RecordSink sink) throws IOException {
    int start = lineNumber == 1 && hasUtf8Bom(bytes, length) ? 3 : 0;
    int end = length > start && bytes[length - 1] == '\r' ? length - 1 : length;
    String text = decodeUtf8(bytes, start, end - start, name, lineNumber);
    if (text.isBlank()) {
      return true;
    }
    try (JsonParser parser = mapper.createParser(text)) {
      JsonNode node = mapper.readTree(parser);
      if (parser.nextToken() != null) {
        return sink.unparsable(
            new RecordProblem(
                name + ":" + lineNumber + ":" + parser.currentTokenLocation().getColumnNr(),
                "",
                "more than one JSON value on this line; put each record on its own line"));
      }
      return sink.record(new SourceRecord(name, lineNumber, false, node));
    } catch (JsonProcessingException e) {
      long column = e.getLocation() == null ? 0 : e.getLocation().getColumnNr();
      return sink.unparsable(
          new RecordProblem(
              name + ":" + lineNumber + (column > 0 ? ":" + column : ""),
              "",
              "invalid JSON: "
                  + plainMessage(e)
                  + (plainMessage(e).contains("end-of-input")
                      ? "; each record must fit on one line (for pretty-printed JSON, wrap the"
                          + " records in a JSON array [ ... ] instead)"
                      : "; each line must be one complete JSON object")));
    }
  }

  void readArray(Path file, String name, RecordSink sink) throws IOException {
    long size = Files.size(file);
    if (size > Integer.MAX_VALUE - 64) {
      throw new EntityException(
          name
              + ": a JSON array file larger than 2 GiB cannot be read; convert it to JSON Lines (.jsonl)");
    }
    byte[] bytes = Files.readAllBytes(file);
    refuseWideEncodings(bytes, bytes.length, name);
    int start = hasUtf8Bom(bytes, bytes.length) ? 3 : 0;
    String text = decodeUtf8(bytes, start, bytes.length - start, name, 0);
    try (JsonParser parser = mapper.createParser(text)) {
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        throw new EntityException(name + ":1: expected a JSON array of records");
      }
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        if (parser.currentToken() == null) {
          throw new EntityException(
              name + ": the JSON array is not closed; the file looks truncated (missing ']')");
        }
        long line = parser.currentTokenLocation().getLineNr();
        JsonNode node = mapper.readTree(parser);
        if (!sink.record(new SourceRecord(name, line, false, node))) {
          return;
        }
      }
      if (parser.nextToken() != null) {
        throw new EntityException(
            name
                + ":"
                + parser.currentTokenLocation().getLineNr()
                + ":"
                + parser.currentTokenLocation().getColumnNr()
                + ": unexpected content after the closing ']' of the JSON array");
      }
    } catch (JsonProcessingException e) {
      var at = e.getLocation();
      throw new EntityException(
          name
              + (at == null ? "" : ":" + at.getLineNr() + ":" + at.getColumnNr())
              + ": invalid JSON: "
              + plainMessage(e)
              + "; fix the file (it may be truncated) or validate it with a JSON linter");
    }
  }

  /**
   * Decodes strict UTF-8. {@code lineNumber} 0 means the bytes are a whole file, and the line is
   * found by counting newlines before the bad byte.
   */
  private static String decodeUtf8(
      byte[] bytes, int offset, int length, String name, long lineNumber) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
    CharBuffer out = CharBuffer.allocate(length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int bad = in.position();
      long line = lineNumber;
      int lineStart = offset;
      if (lineNumber == 0) {
        line = 1;
        for (int i = offset; i < bad; i++) {
          if (bytes[i] == '\n') {
            line++;
            lineStart = i + 1;
          }
        }
      }
      throw new EntityException(
          String.format(
              "%s:%d: not valid UTF-8 (byte 0x%02X at byte %d of the line); dataset files must be"
                  + " UTF-8. Convert the file, e.g. iconv -f latin1 -t utf-8 in.jsonl > out.jsonl",
              name, line, bytes[bad] & 0xFF, bad - lineStart + 1));
    }
    return out.flip().toString();
  }

  /** Jackson's message without its internal source and setting names. */
  static String plainMessage(JsonProcessingException e) {
    return e.getOriginalMessage()
        .replaceAll(
            "\\(start marker at \\[Source: [^;]*; line: (\\d+), column: (\\d+)\\]\\)",
            "(opened at line $1, column $2)")
        .replaceAll(", from `[^`]*`", "");
  }

  private static void refuseWideEncodings(byte[] head, int length, String name) {
    boolean utf16 =
        length >= 2
            && ((head[0] == (byte) 0xFE && head[1] == (byte) 0xFF)
                || (head[0] == (byte) 0xFF && head[1] == (byte) 0xFE));
    boolean wideZeros = length >= 2 && (head[0] == 0 || head[1] == 0);
    if (utf16 || wideZeros) {
      throw new EntityException(
          name
              + ":1: the file is UTF-16 or UTF-32 encoded"
              + (utf16 ? " (it starts with a UTF-16 byte-order mark)" : " (it contains zero bytes)")
              + "; dataset files must be UTF-8. Convert it, e.g. iconv -f utf-16 -t utf-8 in > out");
    }
  }

  private static boolean hasUtf8Bom(byte[] b, int length) {
    return length >= 3 && b[0] == (byte) 0xEF && b[1] == (byte) 0xBB && b[2] == (byte) 0xBF;
  }

  static String humanBytes(long bytes) {
    if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
      return (bytes >> 10) + " KiB";
    }
    return bytes + " bytes";
  }
}
