package dev.entity.engine.format.safetensors;

import static dev.entity.engine.format.safetensors.RawSafetensors.concat;
import static dev.entity.engine.format.safetensors.RawSafetensors.floats;
import static dev.entity.engine.format.safetensors.RawSafetensors.longs;
import static dev.entity.engine.format.safetensors.RawSafetensors.shorts;
import static dev.entity.engine.format.safetensors.RawSafetensors.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

  @TempDir Path dir;

  private static float f32(Tensor t, long i) {
    return t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
  }

  private static int i32(Tensor t, long i) {
    return t.data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
  }

  @Test
  void readsEveryDtypeAsViewOrConvertedCopy() {
    String header =
        """
        {"__metadata__":{"format":"pt","note":"x"},
         "w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},
         "i64":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},
         "f64":{"dtype":"F64","shape":[1],"data_offsets":[32,40]},
         "h":{"dtype":"F16","shape":[2],"data_offsets":[40,44]},
         "b":{"dtype":"BF16","shape":[2],"data_offsets":[44,48]},
         "i16":{"dtype":"I16","shape":[1],"data_offsets":[48,50]},
         "u8":{"dtype":"U8","shape":[1],"data_offsets":[50,51]},
         "flag":{"dtype":"BOOL","shape":[1],"data_offsets":[51,52]},
         "i8":{"dtype":"I8","shape":[1],"data_offsets":[52,53]},
         "empty":{"dtype":"F32","shape":[0,3],"data_offsets":[53,53]},
         "scalar":{"dtype":"I32","shape":[],"data_offsets":[53,57]}}
        """;
    byte[] data =
        concat(
            floats(1f, -2f, 3.5f, 4f),
            longs(7, -9),
            longs(Double.doubleToRawLongBits(0.25)),
            shorts(0x3C00, 0xC000), // F16 1.0, -2.0
            shorts(0x3F80, 0x4040), // BF16 1.0, 3.0
            shorts(-5),
            new byte[] {(byte) 200, 1, (byte) -3},
            new byte[] {42, 0, 0, 0});
    Path f = write(dir.resolve("all.safetensors"), header, data);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertThat(st.names())
          .containsExactly(
              "w", "i64", "f64", "h", "b", "i16", "u8", "flag", "i8", "empty", "scalar");
      assertThat(st.metadata()).containsEntry("format", "pt").containsEntry("note", "x");
      Tensor w = st.tensor("w");
      assertThat(w.dtype()).isEqualTo(DType.F32);
      assertThat(w.shape()).containsExactly(2, 2);
      assertThat(f32(w, 2)).isEqualTo(3.5f);
      assertThat(w.data().isReadOnly()).isTrue();
      Tensor i64 = st.tensor("i64");
      assertThat(i64.dtype()).isEqualTo(DType.I32);
      assertThat(i32(i64, 0)).isEqualTo(7);
      assertThat(i32(i64, 1)).isEqualTo(-9);
      assertThat(st.tensor("i64")).isSameAs(i64);
      assertThat(f32(st.tensor("f64"), 0)).isEqualTo(0.25f);
      assertThat(st.tensor("h").dtype()).isEqualTo(DType.F16);
      assertThat(st.tensor("b").dtype()).isEqualTo(DType.BF16);
      assertThat(i32(st.tensor("i16"), 0)).isEqualTo(-5);
      assertThat(st.tensor("u8").data().get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 200);
      assertThat(st.tensor("flag").dtype()).isEqualTo(DType.U8);
      assertThat(i32(st.tensor("i8"), 0)).isEqualTo(-3);
      assertThat(st.tensor("empty").elementCount()).isZero();
      assertThat(st.tensor("scalar").rank()).isZero();
      assertThat(i32(st.tensor("scalar"), 0)).isEqualTo(42);
      try (Arena arena = Arena.ofConfined()) {
        Tensor h = st.readF32("h", arena);
        assertThat(f32(h, 0)).isEqualTo(1f);
        assertThat(f32(h, 1)).isEqualTo(-2f);
        Tensor b = st.readF32("b", arena);
        assertThat(f32(b, 1)).isEqualTo(3f);
        assertThat(f32(st.readF32("u8", arena), 0)).isEqualTo(200f);
        assertThat(f32(st.readF32("i64", arena), 1)).isEqualTo(-9f);
        assertThat(b.data().address() % 64).isZero();
      }
      assertThat(st.entry("w").file()).isEqualTo(f);
      assertThatThrownBy(() -> st.tensor("nope"))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("no tensor \"nope\"");
    }
  }

  @Test
  void readF32RefusesAnotherShape() {
    Path f =
        write(
            dir.resolve("a.safetensors"),
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            floats(1, 2));
    try (SafetensorsFile st = SafetensorsFile.open(f);
        Arena arena = Arena.ofConfined()) {
      Tensor dst =
          new Tensor(DType.F32, new long[] {3}, arena.allocate(12), st.tensor("w").device());
      assertThatThrownBy(() -> st.readF32("w", dst))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("[2]")
          .hasMessageContaining("[3]");
    }
  }

  @Test
  void i64OutOfI32RangeIsRefused() {
    Path f =
        write(
            dir.resolve("big.safetensors"),
            "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
            longs(1L << 40));
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertThatThrownBy(() -> st.tensor("ids"))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("ids")
          .hasMessageContaining("does not fit");
    }
  }

  @Test
  void gapsAndTrailingBytesAreTolerated() {
    Path f =
        write(
            dir.resolve("gap.safetensors"),
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            floats(9, 5, 7));
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertThat(f32(st.tensor("a"), 0)).isEqualTo(5f);
    }
  }
}
