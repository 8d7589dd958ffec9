package dev.entity.engine.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quantizers against bytes made by the {@code gguf} package's numpy reference quantizers
 * (scripts/reference/make_gguf_fixtures.py), which are bit-exact with ggml's ref quantizers.
 */
class QuantFormatTest {

  static byte[] resource(String name) {
    try (InputStream in = QuantFormatTest.class.getResourceAsStream("/fixtures/gguf/" + name)) {
      return in.readAllBytes();
    } catch (IOException | NullPointerException e) {
      throw new AssertionError("missing fixture " + name, e);
    }
  }

  static float[] floats(String name) {
    byte[] b = resource(name);
    float[] f = new float[b.length / 4];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
    return f;
  }

  @ParameterizedTest
  @EnumSource(QuantFormat.class)
  void quantizesExactlyAsGgml(QuantFormat format) {
    float[] input = floats("quant_input.f32");
    byte[] expected = resource("quant_" + format.name().toLowerCase() + ".bin");
    byte[] actual = format.quantize(input);
    assertThat(actual).hasSize(expected.length);
    for (int b = 0; b < expected.length / format.bytesPerBlock(); b++) {
      int from = b * format.bytesPerBlock();
      int to = from + format.bytesPerBlock();
      assertThat(java.util.Arrays.copyOfRange(actual, from, to))
          .as("%s block %d", format, b)
          .containsExactly(java.util.Arrays.copyOfRange(expected, from, to));
    }
  }

  @ParameterizedTest
  @EnumSource(QuantFormat.class)
  void dequantizesExactlyAsGgml(QuantFormat format) {
    String n = format.name().toLowerCase();
    float[] expected = floats("dequant_" + n + ".f32");
    float[] actual = format.dequantize(resource("quant_" + n + ".bin"));
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Float.floatToIntBits(actual[i]))
          .as("%s value %d (%s vs %s)", format, i, actual[i], expected[i])
          .isEqualTo(Float.floatToIntBits(expected[i]));
    }
  }

  @ParameterizedTest
  @EnumSource(QuantFormat.class)
  void roundTripErrorIsWithinHalfAStep(QuantFormat format) {
    Random rnd = new Random(11);
    float[] x = new float[32 * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y = format.dequantize(format.quantize(x));
    for (int b = 0; b < 64; b++) {
      float min = Float.MAX_VALUE;
      float max = -Float.MAX_VALUE;
      for (int j = 0; j < 32; j++) {
        min = Math.min(min, x[b * 32 + j]);
        max = Math.max(max, x[b * 32 + j]);
      }
      float amax = Math.max(-min, max);
      // half a step, plus the F16 rounding of the scale (and minimum) over the largest code;
      // Q4_0 clips the extreme opposite its scale's sign to code 15, one full step away
      float bound =
          switch (format) {
            case Q8_0 -> amax / 127 * 0.57f;
            case Q4_0 -> amax / 8 * 1.01f;
            case Q5_1 -> (max - min) / 31 * 0.52f + Math.abs(min) / 1024;
          };
      for (int j = 0; j < 32; j++) {
        assertThat(Math.abs(y[b * 32 + j] - x[b * 32 + j])).isLessThanOrEqualTo(bound);
      }
    }
  }

  @Test
  void describesItsBlocks() {
    assertThat(QuantFormat.Q8_0.byteSize(64)).isEqualTo(68);
    assertThat(QuantFormat.Q4_0.byteSize(32)).isEqualTo(18);
    assertThat(QuantFormat.Q5_1.byteSize(96)).isEqualTo(72);
    assertThatThrownBy(() -> QuantFormat.Q8_0.byteSize(33)).hasMessageContaining("multiple of 32");
    assertThatThrownBy(() -> QuantFormat.Q4_0.dequantize(new byte[17]))
        .hasMessageContaining("whole number of blocks");
  }

  @Test
  void roundsHalfAwayFromZeroLikeRoundf() {
    assertThat(QuantFormat.roundHalfAwayToInt(2.5f)).isEqualTo(3);
    assertThat(QuantFormat.roundHalfAwayToInt(-2.5f)).isEqualTo(-3);
    assertThat(QuantFormat.roundHalfAwayToInt(0.49999997f)).isEqualTo(0);
    assertThat(QuantFormat.roundHalfAwayToInt(-0.5f)).isEqualTo(-1);
    assertThat(QuantFormat.roundHalfAwayToInt(-126.49999f)).isEqualTo(-126);
    assertThat(QuantFormat.roundHalfAwayToInt(8388609f)).isEqualTo(8388609);
  }
}
