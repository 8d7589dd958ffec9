package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer against a file written by the {@code gguf} Python package (byte for byte), the reader
 * on that file, and write-then-read of every value and tensor type.
 */
class GgufRoundTripTest {

  @TempDir Path dir;

  static byte[] resource(String name) {
    try (InputStream in = GgufRoundTripTest.class.getResourceAsStream("/fixtures/gguf/" + name)) {
      return in.readAllBytes();
    } catch (IOException | NullPointerException e) {
      throw new AssertionError("missing fixture " + name, e);
    }
  }

  static Tensor matrix(Arena arena, float[] values, long... shape) {
    MemorySegment m = arena.allocate(values.length * 4L, 64);
    MemorySegment.copy(values, 0, m, ValueLayout.JAVA_FLOAT, 0, values.length);
    return new Tensor(DType.F32, shape, m, Device.CPU);
  }

  static float[] floats(byte[] b) {
    float[] f = new float[b.length / 4];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
    return f;
  }

  /** The metadata of the Python fixture, in its order. */
  static GgufWriter pythonFixtureMetadata() {
    return new GgufWriter()
        .put("general.architecture", GgufValue.string("llama"))
        .put("test.u8", GgufValue.u8(200))
        .put("test.i8", GgufValue.i8(-100))
        .put("test.u16", GgufValue.u16(60000))
        .put("test.i16", GgufValue.i16(-30000))
        .put("test.u32", GgufValue.u32(4_000_000_000L))
        .put("test.i32", GgufValue.i32(-2_000_000_000))
        .put("test.u64", GgufValue.u64(Long.MIN_VALUE + 5))
        .put("test.i64", GgufValue.i64(-(1L << 62)))
        .put("test.f32", GgufValue.f32(0.1f))
        .put("test.f64", GgufValue.f64(0.1))
        .put("test.bool", GgufValue.bool(true))
        .put("test.string", GgufValue.string("héllo ▁wörld"))
        .put("test.strings", GgufValue.strings(List.of("a", "", "b c")))
        .put("test.i32s", GgufValue.ints(GgufValueType.INT32, new long[] {1, -2, 3}))
        .put("test.f32s", GgufValue.f32s(new float[] {0.5f, -1.25f}));
  }

  @Test
  void writesTheSameBytesAsThePythonPackage() throws IOException {
    byte[] expected = resource("python_writer.gguf");
    float[] m = floats(resource("python_writer_matrix.f32"));
    Path out = dir.resolve("ours.gguf");
    try (Arena arena = Arena.ofConfined();
        GgufReader python = GgufReader.open(write(dir.resolve("python.gguf"), expected))) {
      Tensor t = matrix(arena, m, 3, 64);
      GgufWriter w = pythonFixtureMetadata();
      w.addTensor("t.f32", GgmlType.F32, t);
      w.addTensor("t.f16", GgmlType.F16, t);
      w.addTensor("t.bf16", GgmlType.BF16, t);
      w.addTensor("t.q8_0", GgmlType.Q8_0, t);
      w.addTensor("t.q4_0", GgmlType.Q4_0, t);
      w.addTensor("t.q5_1", GgmlType.Q5_1, t);
      w.addTensor("t.vector", GgmlType.F32, python.readF32("t.vector", arena));
      w.write(out);
    }
    assertThat(Files.readAllBytes(out)).isEqualTo(expected);
  }

  @Test
  void readsThePythonFile() throws IOException {
    Path file = write(dir.resolve("python.gguf"), resource("python_writer.gguf"));
    float[] m = floats(resource("python_writer_matrix.f32"));
    try (GgufReader r = GgufReader.open(file);
        Arena arena = Arena.ofConfined()) {
      assertThat(r.version()).isEqualTo(3);
      assertThat(r.metadata()).containsAllEntriesOf(pythonFixtureMetadata().metadata());
      assertThat(r.value("test.u64").asLong()).isEqualTo(Long.MIN_VALUE + 5);
      assertThat(r.value("test.strings").asStrings()).containsExactly("a", "", "b c");
      assertThat(r.tensors()).extracting(GgufTensorInfo::name).hasSize(7).contains("t.q5_1");
      GgufTensorInfo q = r.tensor("t.q8_0");
      assertThat(q.type()).isEqualTo(GgmlType.Q8_0);
      assertThat(q.shape()).containsExactly(3, 64);
      assertThat(q.byteSize()).isEqualTo(3 * 2 * 34);
      float[] f32 = r.readF32("t.f32", arena).data().toArray(ValueLayout.JAVA_FLOAT);
      assertThat(f32).containsExactly(m);
      float[] f16 = r.readF32("t.f16", arena).data().toArray(ValueLayout.JAVA_FLOAT);
      for (int i = 0; i < m.length; i++) {
        assertThat(f16[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(m[i])));
      }
      float[] q8 = r.readF32("t.q8_0", arena).data().toArray(ValueLayout.JAVA_FLOAT);
      assertThat(q8)
          .containsExactly(
              dev.entity.engine.quant.QuantFormat.Q8_0.dequantize(
                  dev.entity.engine.quant.QuantFormat.Q8_0.quantize(m)));
    }
  }

  @Test
  void everyTensorTypeRoundTrips() {
    Random rnd = new Random(5);
    float[] v = new float[4 * 96];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    Path file = dir.resolve("all.gguf");
    List<GgmlType> types =
        List.of(
            GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_1);
    try (Arena arena = Arena.ofConfined()) {
      Tensor t = matrix(arena, v, 2, 2, 96);
      GgufWriter w = new GgufWriter().put("general.alignment", GgufValue.u32(64));
      for (GgmlType type : types) {
        w.addTensor("t." + type, type, t);
      }
      w.write(file);
      try (GgufReader r = GgufReader.open(file)) {
        assertThat(r.alignment()).isEqualTo(64);
        assertThat(r.dataOffset() % 64).isZero();
        for (GgmlType type : types) {
          GgufTensorInfo info = r.tensor("t." + type);
          assertThat(info.shape()).containsExactly(2, 2, 96);
          assertThat(info.offset() % 64).isZero();
          float[] back = r.readF32("t." + type, arena).data().toArray(ValueLayout.JAVA_FLOAT);
          double tol =
              switch (type) {
                case F32 -> 0;
                case F16 -> 2e-3;
                case BF16 -> 2e-2;
                case Q8_0 -> 3e-2;
                default -> 0.5;
              };
          for (int i = 0; i < v.length; i++) {
            assertThat((double) back[i]).as("%s %d", type, i).isCloseTo(v[i], within(tol));
          }
          // the stored bytes are exactly the encoding of the values
          MemorySegment expected = arena.allocate(info.byteSize());
          GgufTensorCodec.encode(type, t.data(), 0, expected, 0, v.length);
          assertThat(r.bytes("t." + type).mismatch(expected)).isEqualTo(-1);
        }
      }
    }
  }

  @Test
  void everyValueTypeRoundTrips() {
    GgufWriter w = pythonFixtureMetadata();
    w.put("test.u8s", GgufValue.ints(GgufValueType.UINT8, new long[] {0, 255}));
    w.put("test.u64s", GgufValue.ints(GgufValueType.UINT64, new long[] {-1, 7}));
    w.put("test.bools", GgufValue.array(GgufValueType.BOOL, List.of(true, false)));
    w.put("test.f64s", GgufValue.array(GgufValueType.FLOAT64, List.of(1e300, -0.0)));
    w.put(
        "test.nested",
        GgufValue.array(
            GgufValueType.ARRAY,
            List.of(GgufValue.strings(List.of("x")), GgufValue.f32s(new float[] {2f}))));
    w.put("test.empty", GgufValue.strings(List.of()));
    Path file = dir.resolve("values.gguf");
    w.write(file);
    try (GgufReader r = GgufReader.open(file)) {
      assertThat(r.metadata()).isEqualTo(w.metadata());
      assertThat(r.tensors()).isEmpty();
      assertThat(r.value("test.nested").asList().get(0)).isEqualTo(GgufValue.strings(List.of("x")));
    }
  }

  @Test
  void replacesTheTargetAtomically() throws IOException {
    Path file = dir.resolve("x.gguf");
    Files.writeString(file, "old");
    new GgufWriter().put("a", GgufValue.bool(false)).write(file);
    try (GgufReader r = GgufReader.open(file)) {
      assertThat(r.value("a").asBoolean()).isFalse();
    }
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("x.gguf");
    }
  }

  private static org.assertj.core.data.Offset<Double> within(double tol) {
    return org.assertj.core.data.Offset.offset(tol);
  }

  static Path write(Path p, byte[] bytes) throws IOException {
    Files.write(p, bytes);
    return p;
  }
}
