package dev.entity.engine.format.gguf;

import dev.entity.engine.format.safetensors.StoredConversion;
import dev.entity.engine.quant.QuantFormat;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * F32 values to and from the bytes of a GGUF tensor type: F32 copied, F16 rounded to nearest even
 * ({@link Float#floatToFloat16}), BF16 as ggml's {@code ggml_compute_fp32_to_bf16} (nearest even,
 * NaN kept quiet), the block types through {@link QuantFormat}. F32 values are native-order.
 */
final class GgufTensorCodec {

  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat NATIVE = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private GgufTensorCodec() {}

  static void encode(
      GgmlType type,
      MemorySegment src,
      long srcOffset,
      MemorySegment dst,
      long dstOffset,
      long count) {
    switch (type) {
      case F32 -> MemorySegment.copy(src, NATIVE, srcOffset, dst, F32, dstOffset, count);
      case F16 -> {
        for (long i = 0; i < count; i++) {
          float v = src.get(NATIVE, srcOffset + 4 * i);
          dst.set(I16, dstOffset + 2 * i, Float.floatToFloat16(v));
        }
      }
      case BF16 -> {
        for (long i = 0; i < count; i++) {
          float v = src.get(NATIVE, srcOffset + 4 * i);
          dst.set(I16, dstOffset + 2 * i, StoredConversion.f32ToBf16(v));
        }
      }
      default -> quant(type).quantize(src, srcOffset, dst, dstOffset, count);
    }
  }

  static void decode(
      GgmlType type,
      MemorySegment src,
      long srcOffset,
      MemorySegment dst,
      long dstOffset,
      long count) {
    switch (type) {
      case F32 -> MemorySegment.copy(src, F32, srcOffset, dst, NATIVE, dstOffset, count);
      case F16 -> {
        for (long i = 0; i < count; i++) {
          dst.set(NATIVE, dstOffset + 4 * i, Float.float16ToFloat(src.get(I16, srcOffset + 2 * i)));
        }
      }
      case BF16 -> {
        for (long i = 0; i < count; i++) {
          float v = StoredConversion.bf16ToF32(src.get(I16, srcOffset + 2 * i));
          dst.set(NATIVE, dstOffset + 4 * i, v);
        }
      }
      default -> quant(type).dequantize(src, srcOffset, dst, dstOffset, count);
    }
  }

  private static QuantFormat quant(GgmlType type) {
    return type.quantFormat()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "tensor type "
                        + type
                        + " is not supported (F32, F16, BF16, Q8_0, Q4_0, Q5_1)"));
  }
}
