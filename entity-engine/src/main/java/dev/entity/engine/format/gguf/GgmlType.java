// Convention: ids and block sizes are ggml's (ggml.h, ggml_type_traits); types the engine cannot
// encode are still listed, so the reader can lay out and skip any file llama.cpp writes.
package dev.entity.engine.format.gguf;

import dev.entity.engine.quant.QuantFormat;
import java.util.Arrays;
import java.util.Optional;

/**
 * The tensor element types a GGUF file may use, with ggml's numeric id, the values per block and
 * the bytes per block (1 and the element size for plain types). The engine writes and dequantizes
 * F32, F16, BF16, Q8_0, Q4_0 and Q5_1 ({@link #isSupported}); other types are laid out but refused
 * when their values are asked for.
 */
public enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q4_1(3, 32, 20),
  Q5_0(6, 32, 22),
  Q5_1(7, 32, 24),
  Q8_0(8, 32, 34),
  Q8_1(9, 32, 36),
  Q2_K(10, 256, 84),
  Q3_K(11, 256, 110),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  Q8_K(15, 256, 292),
  IQ2_XXS(16, 256, 66),
  IQ2_XS(17, 256, 74),
  IQ3_XXS(18, 256, 98),
  IQ1_S(19, 256, 50),
  IQ4_NL(20, 32, 18),
  IQ3_S(21, 256, 110),
  IQ2_S(22, 256, 82),
  IQ4_XS(23, 256, 136),
  I8(24, 1, 1),
  I16(25, 1, 2),
  I32(26, 1, 4),
  I64(27, 1, 8),
  F64(28, 1, 8),
  IQ1_M(29, 256, 56),
  BF16(30, 1, 2),
  TQ1_0(34, 256, 54),
  TQ2_0(35, 256, 66),
  MXFP4(39, 32, 17);

  private final int id;
  private final int blockSize;
  private final int bytesPerBlock;

  GgmlType(int id, int blockSize, int bytesPerBlock) {
    this.id = id;
    this.blockSize = blockSize;
    this.bytesPerBlock = bytesPerBlock;
  }

  /** The id stored in a tensor info. */
  public int id() {
    return id;
  }

  /** Values per block (1 for plain types). */
  public int blockSize() {
    return blockSize;
  }

  /** Bytes per block. */
  public int bytesPerBlock() {
    return bytesPerBlock;
  }

  /** The type with a stored id, if ggml defines it. */
  public static Optional<GgmlType> ofId(long id) {
    return Arrays.stream(values()).filter(t -> t.id == id).findFirst();
  }

  /** Whether the engine can write and dequantize this type. */
  public boolean isSupported() {
    return this == F32 || this == F16 || this == BF16 || quantFormat().isPresent();
  }

  /** The block format of a quantized type the engine implements. */
  public Optional<QuantFormat> quantFormat() {
    return switch (this) {
      case Q8_0 -> Optional.of(QuantFormat.Q8_0);
      case Q4_0 -> Optional.of(QuantFormat.Q4_0);
      case Q5_1 -> Optional.of(QuantFormat.Q5_1);
      default -> Optional.empty();
    };
  }

  /** Bytes that {@code count} values take; -1 if {@code count} is not a whole number of blocks. */
  public long byteSize(long count) {
    if (count % blockSize != 0) {
      return -1;
    }
    return Math.multiplyExact(count / blockSize, (long) bytesPerBlock);
  }

  /**
   * The llama.cpp {@code general.file_type} of a model whose matrices are mostly of this type
   * (LLAMA_FTYPE_ALL_F32 = 0, MOSTLY_F16 = 1, ...).
   */
  public int fileType() {
    return switch (this) {
      case F32 -> 0;
      case F16 -> 1;
      case Q4_0 -> 2;
      case Q8_0 -> 7;
      case Q5_1 -> 9;
      case BF16 -> 32;
      default -> throw new IllegalArgumentException("no file type for " + this);
    };
  }
}
