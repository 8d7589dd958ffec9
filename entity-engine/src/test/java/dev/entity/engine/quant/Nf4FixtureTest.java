package dev.entity.engine.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.model.SharedCpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * NF4 with double quantization against the bitsandbytes reference algorithm
 * (scripts/reference/make_nf4_fixtures.py): packed codes, absmax, 8-bit absmax codes, scales and
 * offset byte for byte, dequantized values bit for bit, and the CPU kernels against the host
 * reference.
 */
class Nf4FixtureTest {

  private static final Backend backend = SharedCpuBackend.get();
  private static SafetensorsFile fixture;

  @BeforeAll
  static void open() throws URISyntaxException {
    Path dir = Path.of(Nf4FixtureTest.class.getResource("/fixtures/nf4").toURI());
    fixture = SafetensorsFile.open(dir.resolve("nf4.safetensors"));
  }

  @AfterAll
  static void close() {
    fixture.close();
  }

  static float[] floats(String name) {
    return fixture.tensor(name).data().toArray(ValueLayout.JAVA_FLOAT);
  }

  static byte[] bytes(String name) {
    return fixture.tensor(name).data().toArray(ValueLayout.JAVA_BYTE);
  }

  static int[] bits(float[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Float.floatToRawIntBits(v[i]);
    }
    return out;
  }

  @Test
  void tablesAreBitsandbytesTables() {
    assertThat(bits(DynamicMap.values())).containsExactly(bits(floats("dynamic_map")));
    assertThat(bits(Nf4.codebook())).containsExactly(bits(floats("nf4_code")));
    assertThat(DynamicMap.value(0)).isEqualTo(-0.99296874f);
    assertThat(DynamicMap.value(255)).isEqualTo(1f);
  }

  @ParameterizedTest
  @ValueSource(strings = {"normal", "wide", "bf16", "edge"})
  void quantizedBytesMatchTheReference(String c) {
    float[] input = floats(c + ".input");
    Nf4Weights plain = Nf4Weights.quantize(input, false);
    assertThat(plain.packed()).containsExactly(bytes(c + ".packed"));
    assertThat(bits(plain.absmax())).containsExactly(bits(floats(c + ".absmax")));
    assertThat(bits(plain.dequantize())).containsExactly(bits(floats(c + ".dequant_plain_f32")));

    Nf4Weights dq = Nf4Weights.quantize(input, true);
    assertThat(dq.doubleQuant()).isTrue();
    assertThat(dq.packed()).containsExactly(bytes(c + ".packed"));
    assertThat(dq.absmaxCodes()).containsExactly(bytes(c + ".absmax_codes"));
    assertThat(bits(dq.absmax())).containsExactly(bits(floats(c + ".absmax_scales")));
    assertThat(Float.floatToRawIntBits(dq.offset()))
        .isEqualTo(Float.floatToRawIntBits(floats(c + ".offset")[0]));
    assertThat(bits(dq.dequantize())).containsExactly(bits(floats(c + ".dequant_f32")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"normal", "wide", "edge"})
  void cpuKernelsEqualTheReference(String c) {
    float[] input = floats(c + ".input");
    Nf4Weights dq = Nf4Weights.quantize(input, true);
    try (Arena arena = Arena.ofShared()) {
      Nf4Tensor t =
          new Nf4Tensor(
              new long[] {input.length},
              host(arena, DType.U8, dq.packed().length, MemorySegment.ofArray(dq.packed())),
              host(arena, DType.F32, dq.absmax().length, MemorySegment.ofArray(dq.absmax())),
              host(
                  arena,
                  DType.U8,
                  dq.absmaxCodes().length,
                  MemorySegment.ofArray(dq.absmaxCodes())),
              host(arena, DType.F32, 1, MemorySegment.ofArray(new float[] {dq.offset()})));
      Tensor absScratch = backend.allocate(DType.F32, dq.absmaxCodes().length + 7);
      Tensor f32 = backend.allocate(DType.F32, input.length);
      Tensor bf16 = backend.allocate(DType.BF16, input.length);
      try {
        t.dequantize(backend, f32, absScratch);
        t.dequantize(backend, bf16, absScratch);
        assertThat(bits(f32.data().toArray(ValueLayout.JAVA_FLOAT)))
            .containsExactly(bits(floats(c + ".dequant_f32")));
        assertThat(bf16.data().toArray(ValueLayout.JAVA_BYTE))
            .containsExactly(bytes(c + ".dequant_bf16_bits"));
        Tensor f16 = backend.allocate(DType.F16, input.length);
        t.dequantize(backend, f16, absScratch);
        float[] ref = floats(c + ".dequant_f32");
        short[] halves = f16.data().toArray(ValueLayout.JAVA_SHORT);
        for (int i = 0; i < ref.length; i++) {
          assertThat(halves[i]).as("f16 %d", i).isEqualTo(Float.floatToFloat16(ref[i]));
        }
        backend.free(f16);
      } finally {
        backend.free(absScratch);
        backend.free(f32);
        backend.free(bf16);
      }
    }
  }

  static Tensor host(Arena arena, DType dtype, long count, MemorySegment src) {
    MemorySegment seg = arena.allocate(count * dtype.bytes(), 64);
    seg.copyFrom(src);
    return new Tensor(dtype, new long[] {count}, seg, Device.CPU);
  }

  @Test
  void roundTripErrorIsBoundedByHalfTheWidestCodeGap() {
    SplittableRandom rng = new SplittableRandom(7);
    float[] x = new float[64 * 512];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (gaussian(rng) * 0.02);
    }
    float[] codes = Nf4.codebook();
    double widestHalfGap = 0;
    for (int i = 1; i < codes.length; i++) {
      widestHalfGap = Math.max(widestHalfGap, (codes[i] - codes[i - 1]) / 2.0);
    }
    for (boolean doubleQuant : new boolean[] {false, true}) {
      Nf4Weights q = Nf4Weights.quantize(x, doubleQuant);
      float[] y = q.dequantize();
      float[] absmax = Nf4Weights.quantize(x, false).absmax();
      double sq = 0;
      double ref = 0;
      for (int i = 0; i < x.length; i++) {
        double err = Math.abs(y[i] - x[i]);
        // the 8-bit absmax code adds at most about 1% of the absmax (the dynamic map's step near 1)
        double bound = absmax[i / Nf4.BLOCK] * (widestHalfGap + (doubleQuant ? 0.01 : 1e-6));
        assertThat(err).as("value %d", i).isLessThanOrEqualTo(bound);
        sq += err * err;
        ref += (double) x[i] * x[i];
      }
      double relRms = Math.sqrt(sq / ref);
      System.out.printf(
          "NF4 round trip (double quant %s): relative RMS error %.4f%n", doubleQuant, relRms);
      assertThat(relRms).isBetween(0.02, 0.15); // 4 bits: about 10% RMS on normal weights
      // about 4.127 bits per value with double quantization, 4.5 without
      double bitsPerValue = q.bytes() * 8.0 / x.length;
      assertThat(bitsPerValue)
          .isCloseTo(doubleQuant ? 4.127 : 4.5, org.assertj.core.api.Assertions.within(0.01));
    }
  }

  @Test
  void codesAreTheNearestTableValue() {
    float[] codes = Nf4.codebook();
    SplittableRandom rng = new SplittableRandom(3);
    for (int k = 0; k < 100_000; k++) {
      float x = (float) (rng.nextDouble() * 2 - 1);
      int c = Nf4.code(x);
      for (float v : codes) {
        assertThat(Math.abs(x - codes[c])).isLessThanOrEqualTo(Math.abs(x - v) + 1e-7f);
      }
      int d = DynamicMap.code(x);
      assertThat(Math.abs(x - DynamicMap.value(d)))
          .isLessThanOrEqualTo(Math.abs(x - DynamicMap.value(Math.max(0, d - 1))) + 1e-7f)
          .isLessThanOrEqualTo(Math.abs(x - DynamicMap.value(Math.min(255, d + 1))) + 1e-7f);
    }
    assertThat(Nf4.code(0f)).isEqualTo(7);
    assertThat(Nf4.code(Float.NaN)).isZero();
    assertThat(Nf4.code(1f)).isEqualTo(15);
    assertThat(Nf4.code(-1f)).isZero();
  }

  @Test
  void badSizesAndConfigsAreRefused() {
    assertThatThrownBy(() -> Nf4.quantize(new byte[2], new float[1], new float[5]))
        .hasMessageContaining("5 values need 3 packed bytes and 1 absmax");
    assertThatThrownBy(() -> Nf4Config.of("int8", true))
        .hasMessageContaining("bnb_4bit_compute_dtype: 'int8'");
    assertThat(Nf4Config.of("bfloat16", false)).isEqualTo(new Nf4Config(DType.BF16, false));
    assertThatThrownBy(() -> new Nf4Config(DType.I32, true)).hasMessageContaining("float32");
    try (Arena arena = Arena.ofShared()) {
      Tensor u8 = host(arena, DType.U8, 4, MemorySegment.ofArray(new byte[4]));
      Tensor f32 = host(arena, DType.F32, 1, MemorySegment.ofArray(new float[1]));
      assertThatThrownBy(() -> new Nf4Tensor(new long[] {2, 5}, u8, f32, null, null))
          .hasMessageContaining("do not fit 10");
      Nf4Tensor ok = new Nf4Tensor(new long[] {2, 4}, u8, f32, null, null);
      Tensor out = host(arena, DType.F32, 9, MemorySegment.ofArray(new float[9]));
      assertThatThrownBy(() -> backend.nf4Dequantize(out, u8, f32))
          .hasMessageContaining("packed NF4 codes must have 5 elements");
      assertThatThrownBy(() -> ok.dequantize(backend, new Nf4Tensor.Scratch(f32, f32)))
          .hasMessageContaining("cannot hold 8");
    }
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
