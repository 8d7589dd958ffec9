// Convention: integers of every width are held as long (UINT64 as its two's-complement bits),
// FLOAT32/FLOAT64 as double, BOOL as Boolean, STRING as String, ARRAY as an immutable List of
// such values of one element type.
package dev.entity.engine.format.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value: its type, for arrays the element type, and the value. Made by the static
 * factories (which check ranges) or by the reader; read back with the typed accessors, which throw
 * {@link IllegalStateException} when the value is of another kind.
 *
 * @param type the value type
 * @param elementType the element type of an ARRAY, null otherwise
 * @param value the value, as the file convention above says
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

  public GgufValue {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    if ((type == GgufValueType.ARRAY) != (elementType != null)) {
      throw new IllegalArgumentException("only arrays have an element type");
    }
    if (type == GgufValueType.ARRAY) {
      value = List.copyOf((List<?>) value);
    }
  }

  public static GgufValue u8(int v) {
    return integer(GgufValueType.UINT8, v, 0, 0xFF);
  }

  public static GgufValue i8(int v) {
    return integer(GgufValueType.INT8, v, Byte.MIN_VALUE, Byte.MAX_VALUE);
  }

  public static GgufValue u16(int v) {
    return integer(GgufValueType.UINT16, v, 0, 0xFFFF);
  }

  public static GgufValue i16(int v) {
    return integer(GgufValueType.INT16, v, Short.MIN_VALUE, Short.MAX_VALUE);
  }

  public static GgufValue u32(long v) {
    return integer(GgufValueType.UINT32, v, 0, 0xFFFF_FFFFL);
  }

  public static GgufValue i32(long v) {
    return integer(GgufValueType.INT32, v, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  /** An unsigned 64-bit value given by its bits. */
  public static GgufValue u64(long bits) {
    return new GgufValue(GgufValueType.UINT64, null, bits);
  }

  public static GgufValue i64(long v) {
    return new GgufValue(GgufValueType.INT64, null, v);
  }

  public static GgufValue f32(float v) {
    return new GgufValue(GgufValueType.FLOAT32, null, (double) v);
  }

  public static GgufValue f64(double v) {
    return new GgufValue(GgufValueType.FLOAT64, null, v);
  }

  public static GgufValue bool(boolean v) {
    return new GgufValue(GgufValueType.BOOL, null, v);
  }

  public static GgufValue string(String v) {
    return new GgufValue(GgufValueType.STRING, null, v);
  }

  public static GgufValue strings(List<String> v) {
    return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, v);
  }

  public static GgufValue f32s(float[] v) {
    Double[] boxed = new Double[v.length];
    for (int i = 0; i < v.length; i++) {
      boxed[i] = (double) v[i];
    }
    return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, List.of(boxed));
  }

  /** An array of integers of type {@code elementType} (INT32, UINT8, ...). */
  public static GgufValue ints(GgufValueType elementType, long[] v) {
    Long[] boxed = new Long[v.length];
    for (int i = 0; i < v.length; i++) {
      boxed[i] = integer(elementType, v[i], Long.MIN_VALUE, Long.MAX_VALUE).asLong();
    }
    return new GgufValue(GgufValueType.ARRAY, elementType, List.of(boxed));
  }

  /** An array of already-made values of one element type (nested arrays included). */
  public static GgufValue array(GgufValueType elementType, List<?> values) {
    return new GgufValue(GgufValueType.ARRAY, elementType, values);
  }

  private static GgufValue integer(GgufValueType type, long v, long min, long max) {
    long lo = Math.max(min, minOf(type));
    long hi = Math.min(max, maxOf(type));
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(v + " does not fit " + type);
    }
    return new GgufValue(type, null, v);
  }

  private static long minOf(GgufValueType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      case INT64, UINT64 -> Long.MIN_VALUE;
      case UINT8, UINT16, UINT32 -> 0;
      default -> throw new IllegalArgumentException(t + " is not an integer type");
    };
  }

  private static long maxOf(GgufValueType t) {
    return switch (t) {
      case INT8 -> Byte.MAX_VALUE;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      case UINT8 -> 0xFF;
      case UINT16 -> 0xFFFF;
      case UINT32 -> 0xFFFF_FFFFL;
      case INT64, UINT64 -> Long.MAX_VALUE;
      default -> throw new IllegalArgumentException(t + " is not an integer type");
    };
  }

  /** Any integer value (UINT64 as its bits). */
  public long asLong() {
    if (!(value instanceof Long l)) {
      throw new IllegalStateException(type + " is not an integer");
    }
    return l;
  }

  /** An integer value that fits an int. */
  public int asInt() {
    return Math.toIntExact(asLong());
  }

  /** A FLOAT32 or FLOAT64 value. */
  public double asDouble() {
    if (!(value instanceof Double d)) {
      throw new IllegalStateException(type + " is not a float");
    }
    return d;
  }

  public boolean asBoolean() {
    if (!(value instanceof Boolean b)) {
      throw new IllegalStateException(type + " is not a bool");
    }
    return b;
  }

  public String asString() {
    if (!(value instanceof String s)) {
      throw new IllegalStateException(type + " is not a string");
    }
    return s;
  }

  /** The elements of an ARRAY. */
  public List<?> asList() {
    if (type != GgufValueType.ARRAY) {
      throw new IllegalStateException(type + " is not an array");
    }
    return (List<?>) value;
  }

  /** The elements of a STRING array. */
  public List<String> asStrings() {
    if (elementType != GgufValueType.STRING) {
      throw new IllegalStateException(type + " is not an array of strings");
    }
    return asList().stream().map(String.class::cast).toList();
  }

  @Override
  public String toString() {
    if (type == GgufValueType.ARRAY) {
      List<?> l = asList();
      return "[" + elementType + " × " + l.size() + "]";
    }
    return type + " " + value;
  }
}
