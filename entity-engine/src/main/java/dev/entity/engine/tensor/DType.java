package dev.entity.engine.tensor;

/**
 * Element types of dense tensors. Block-quantized formats (NF4, Q8_0, Q4_0, Q5_1) are not dtypes of
 * a dense tensor; they live in {@code dev.entity.engine.quant} as an enum with block size and bytes
 * per block.
 */
public enum DType {
  F32(4),
  BF16(2),
  F16(2),
  I32(4),
  U8(1);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** True for the floating-point types a matrix operand may have. */
  public boolean isFloat() {
    return this == F32 || this == BF16 || this == F16;
  }
}
