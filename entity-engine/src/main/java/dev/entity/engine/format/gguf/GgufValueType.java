package dev.entity.engine.format.gguf;

import java.util.Optional;

/** The metadata value types of GGUF, with the ids the file stores. */
public enum GgufValueType {
  UINT8(1),
  INT8(1),
  UINT16(2),
  INT16(2),
  UINT32(4),
  INT32(4),
  FLOAT32(4),
  BOOL(1),
  STRING(-1),
  ARRAY(-1),
  UINT64(8),
  INT64(8),
  FLOAT64(8);

  private final int bytes;

  GgufValueType(int bytes) {
    this.bytes = bytes;
  }

  /** The id in the file (the declaration order). */
  public int id() {
    return ordinal();
  }

  /** Bytes of one value, -1 for STRING and ARRAY (variable length). */
  public int bytes() {
    return bytes;
  }

  /** The type with a stored id. */
  public static Optional<GgufValueType> ofId(long id) {
    return id >= 0 && id < values().length ? Optional.of(values()[(int) id]) : Optional.empty();
  }
}
