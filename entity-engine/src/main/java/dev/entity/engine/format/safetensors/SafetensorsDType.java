package dev.entity.engine.format.safetensors;

import dev.entity.engine.tensor.DType;
import java.util.Optional;

/**
 * The element types a safetensors header may name, with their size in bytes and the engine dtype a
 * tensor of that type is exposed as. F32, BF16, F16, I32 and U8 are viewed in place; BOOL is viewed
 * as U8 (same one-byte layout); I64, I16 and I8 are copied into I32 and F64 into F32 when read,
 * because the engine computes in those types. Any other name is refused with the list of supported
 * ones.
 */
public enum SafetensorsDType {
  // Declared in the order the reference implementation sorts tensors in a file (largest first, ties
  // by its own enum order), so files we write match files Python writes, byte for byte.
  I64(8, DType.I32, false),
  F64(8, DType.F32, false),
  F32(4, DType.F32, true),
  I32(4, DType.I32, true),
  BF16(2, DType.BF16, true),
  F16(2, DType.F16, true),
  I16(2, DType.I32, false),
  I8(1, DType.I32, false),
  U8(1, DType.U8, true),
  BOOL(1, DType.U8, true);

  private final int bytes;
  private final DType engineType;
  private final boolean viewable;

  SafetensorsDType(int bytes, DType engineType, boolean viewable) {
    this.bytes = bytes;
    this.engineType = engineType;
    this.viewable = viewable;
  }

  /** Bytes per element in the file. */
  public int bytes() {
    return bytes;
  }

  /** The engine dtype a tensor of this type is exposed as by {@link TensorSource#tensor}. */
  public DType engineType() {
    return engineType;
  }

  /** True when the file's bytes are exposed as they are, without a converted copy. */
  public boolean viewable() {
    return viewable;
  }

  /** The header name of an engine dtype (every engine dtype has one). */
  public static SafetensorsDType of(DType dtype) {
    return switch (dtype) {
      case F32 -> F32;
      case BF16 -> BF16;
      case F16 -> F16;
      case I32 -> I32;
      case U8 -> U8;
    };
  }

  /** The dtype named {@code name} in a header, if it is one we read. */
  public static Optional<SafetensorsDType> parse(String name) {
    for (SafetensorsDType t : values()) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
