package dev.entity.engine.format.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StoredConversionTest {

  /** Reference binary16 decoding written out from the IEEE 754 definition. */
  private static float f16Reference(int h) {
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1F;
    int mant = h & 0x3FF;
    double v;
    if (exp == 0) {
      v = mant * Math.pow(2, -24);
    } else if (exp == 31) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else {
      v = (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }
    return (float) (sign == 1 ? -v : v);
  }

  @Test
  void everyF16BitPatternConvertsExactly() {
    for (int h = 0; h < 0x10000; h++) {
      float got = StoredConversion.f16ToF32((short) h);
      float want = f16Reference(h);
      if (Float.isNaN(want)) {
        assertThat(got).isNaN();
      } else {
        assertThat(Float.floatToRawIntBits(got))
            .as("F16 0x%04x", h)
            .isEqualTo(Float.floatToRawIntBits(want));
      }
    }
    assertThat(StoredConversion.f16ToF32((short) 0x0001)).isEqualTo(5.9604645e-8f); // subnormal
    assertThat(StoredConversion.f16ToF32((short) 0xFC00)).isEqualTo(Float.NEGATIVE_INFINITY);
  }

  @Test
  void bf16IsTheHighHalfAndRoundTripsWithNearestEven() {
    assertThat(StoredConversion.bf16ToF32((short) 0x3F80)).isEqualTo(1f);
    assertThat(StoredConversion.bf16ToF32((short) 0xFF80)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(StoredConversion.bf16ToF32((short) 0x7FC1)).isNaN();
    assertThat(StoredConversion.bf16ToF32((short) 0x0001)).isEqualTo(Float.intBitsToFloat(0x10000));
    for (int b = 0; b < 0x10000; b++) {
      float f = StoredConversion.bf16ToF32((short) b);
      if (!Float.isNaN(f)) {
        assertThat(StoredConversion.f32ToBf16(f)).isEqualTo((short) b);
      }
    }
    // Ties round to even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7.
    assertThat(StoredConversion.f32ToBf16(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
    assertThat(StoredConversion.f32ToBf16(1f + 0x1p-7f + 0x1p-8f)).isEqualTo((short) 0x3F82);
    assertThat(StoredConversion.f32ToBf16(Float.NaN) & 0x7FC0).isEqualTo(0x7FC0);
  }

  @Test
  void bulkConversionMatchesScalar() {
    int n = 1000;
    SplittableRandom rnd = new SplittableRandom(1);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment src = arena.allocate(n * 2L);
      MemorySegment dst = arena.allocate(n * 4L);
      ValueLayout.OfShort le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        src.setAtIndex(le, i, (short) rnd.nextInt(0x10000));
      }
      StoredConversion.toF32(SafetensorsDType.BF16, src, dst, n);
      for (int i = 0; i < n; i++) {
        assertThat(Float.floatToRawIntBits(dst.getAtIndex(ValueLayout.JAVA_FLOAT, i)))
            .isEqualTo(Float.floatToRawIntBits(StoredConversion.bf16ToF32(src.getAtIndex(le, i))));
      }
      StoredConversion.toF32(SafetensorsDType.F16, src, dst, n);
      for (int i = 0; i < n; i++) {
        float want = StoredConversion.f16ToF32(src.getAtIndex(le, i));
        float got = dst.getAtIndex(ValueLayout.JAVA_FLOAT, i);
        assertThat(Float.isNaN(got) ? Float.isNaN(want) : got == want).isTrue();
      }
    }
  }
}
