package dev.entity.engine.format.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.entity.engine.EngineException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file: tensor entries in header order and
 * the string-to-string {@code __metadata__}. Validation follows the reference implementation except
 * that gaps between tensors and trailing bytes are tolerated (they are harmless); overlaps,
 * out-of-range offsets and sizes that do not match shape × dtype are refused.
 */
public record SafetensorsHeader(List<TensorEntry> entries, Map<String, String> metadata) {

  /** The largest header we read; the reference implementation refuses larger ones too. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  public SafetensorsHeader {
    entries = List.copyOf(entries);
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /**
   * Parses {@code headerBytes} (UTF-8 JSON) of {@code file}, whose data section holds {@code
   * dataBytes} bytes.
   */
  public static SafetensorsHeader parse(byte[] headerBytes, long dataBytes, Path file) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(headerBytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw fail(file, "the header is not valid UTF-8");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JacksonException e) {
      throw fail(file, "the header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw fail(file, "the header is not a JSON object");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<TensorEntry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String name = field.getKey();
      JsonNode node = field.getValue();
      if (name.equals("__metadata__")) {
        readMetadata(node, metadata, file);
      } else {
        entries.add(readEntry(name, node, dataBytes, file));
      }
    }
    checkNoOverlap(entries, file);
    return new SafetensorsHeader(entries, metadata);
  }

  private static void readMetadata(JsonNode node, Map<String, String> out, Path file) {
    if (!node.isObject()) {
      throw fail(file, "__metadata__ must be an object of string values");
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        throw fail(
            file, "__metadata__ value of \"" + e.getKey() + "\" is not a string: " + e.getValue());
      }
      out.put(e.getKey(), e.getValue().textValue());
    }
  }

  private static TensorEntry readEntry(String name, JsonNode node, long dataBytes, Path file) {
    String where = "tensor \"" + name + "\"";
    if (!node.isObject()) {
      throw fail(file, where + " is not an object with dtype, shape and data_offsets");
    }
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsetsNode = node.get("data_offsets");
    if (dtypeNode == null || shapeNode == null || offsetsNode == null) {
      throw fail(file, where + " lacks one of dtype, shape, data_offsets: " + abbreviate(node));
    }
    if (!dtypeNode.isTextual()) {
      throw fail(file, where + " has a dtype that is not a string: " + abbreviate(dtypeNode));
    }
    SafetensorsDType dtype =
        SafetensorsDType.parse(dtypeNode.textValue())
            .orElseThrow(
                () ->
                    fail(
                        file,
                        where
                            + " has unknown or unsupported dtype \""
                            + dtypeNode.textValue()
                            + "\"; supported: "
                            + Arrays.toString(SafetensorsDType.values())));
    if (!shapeNode.isArray()) {
      throw fail(file, where + " has a shape that is not an array");
    }
    long[] shape = new long[shapeNode.size()];
    long elements = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = integer(shapeNode.get(i), where + " shape[" + i + "]", file);
      if (shape[i] < 0) {
        throw fail(file, where + " has a negative dimension " + shape[i]);
      }
      try {
        elements = Math.multiplyExact(elements, shape[i]);
      } catch (ArithmeticException e) {
        throw fail(file, where + " has a shape whose element count overflows: " + shapeNode);
      }
    }
    long expected;
    try {
      expected = Math.multiplyExact(elements, dtype.bytes());
    } catch (ArithmeticException e) {
      throw fail(file, where + " has a shape whose byte size overflows: " + shapeNode);
    }
    if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
      throw fail(file, where + " data_offsets must be [begin, end]: " + abbreviate(offsetsNode));
    }
    long begin = integer(offsetsNode.get(0), where + " data_offsets[0]", file);
    long end = integer(offsetsNode.get(1), where + " data_offsets[1]", file);
    if (begin < 0 || end < begin) {
      throw fail(file, where + " has invalid data_offsets [" + begin + ", " + end + "]");
    }
    if (end > dataBytes) {
      throw fail(
          file,
          where
              + " ends at byte "
              + end
              + " of the data section, which holds only "
              + dataBytes
              + " bytes (the file is truncated or the offsets are wrong)");
    }
    if (end - begin != expected) {
      throw fail(
          file,
          where
              + " has "
              + (end - begin)
              + " bytes but shape "
              + Arrays.toString(shape)
              + " of "
              + dtype
              + " needs "
              + expected);
    }
    return new TensorEntry(name, dtype, shape, begin, end, file);
  }

  private static long integer(JsonNode n, String what, Path file) {
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
      throw fail(file, what + " is not an integer in range: " + (n == null ? "missing" : n));
    }
    return n.longValue();
  }

  private static void checkNoOverlap(List<TensorEntry> entries, Path file) {
    List<TensorEntry> sorted = new ArrayList<>();
    for (TensorEntry e : entries) {
      if (e.byteSize() > 0) { // empty tensors occupy no bytes and may sit anywhere
        sorted.add(e);
      }
    }
    sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
    for (int i = 1; i < sorted.size(); i++) {
      TensorEntry prev = sorted.get(i - 1);
      TensorEntry cur = sorted.get(i);
      if (cur.begin() < prev.end()) {
        throw fail(
            file,
            "tensors \""
                + prev.name()
                + "\" ["
                + prev.begin()
                + ", "
                + prev.end()
                + ") and \""
                + cur.name()
                + "\" ["
                + cur.begin()
                + ", "
                + cur.end()
                + ") overlap");
      }
    }
  }

  private static String abbreviate(JsonNode node) {
    String s = node.toString();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  static EngineException fail(Path file, String what) {
    return new EngineException(
        "safetensors file " + file + ": " + what + ". Re-export or re-download the file.");
  }
}
