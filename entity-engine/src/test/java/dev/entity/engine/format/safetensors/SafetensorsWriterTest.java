package dev.entity.engine.format.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

  @TempDir Path dir;
  private final Arena arena = Arena.ofShared();

  @AfterEach
  void close() {
    arena.close();
  }

  private Tensor tensor(DType dtype, long[] shape, SplittableRandom rnd) {
    long bytes = Tensor.elementCount(shape) * dtype.bytes();
    MemorySegment s = arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
    for (long i = 0; i < bytes; i++) {
      s.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
    }
    return new Tensor(dtype, shape, s, Device.CPU);
  }

  private Tensor f32(long[] shape, float... values) {
    MemorySegment s = arena.allocate(values.length * 4L, 64);
    MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length);
    return new Tensor(DType.F32, shape, s, Device.CPU);
  }

  private Tensor shorts(DType dtype, short... values) {
    MemorySegment s = arena.allocate(values.length * 2L, 64);
    MemorySegment.copy(values, 0, s, ValueLayout.JAVA_SHORT, 0, values.length);
    return new Tensor(dtype, new long[] {values.length}, s, Device.CPU);
  }

  /** The same tensors the generator script gave Python's safetensors (see layout.json). */
  @Test
  void writesTheSameBytesAsPythonSafetensors() throws IOException {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("s.scalar", f32(new long[0], 1.5f));
    t.put("b.f32", f32(new long[] {2, 3}, 0f, 0.5f, 1f, 1.5f, 2f, 2.5f));
    short[] bf = new short[5];
    for (int i = 0; i < 5; i++) {
      bf[i] = StoredConversion.f32ToBf16(i - 2);
    }
    t.put("a.bf16", shorts(DType.BF16, bf));
    MemorySegment ints = arena.allocate(12);
    for (int i = 0; i < 3; i++) {
      ints.setAtIndex(ValueLayout.JAVA_INT, i, -7 * i);
    }
    t.put("c.i32", new Tensor(DType.I32, new long[] {3}, ints, Device.CPU));
    MemorySegment u8 = arena.allocate(7);
    for (int i = 0; i < 7; i++) {
      u8.set(ValueLayout.JAVA_BYTE, i, (byte) (3 * i));
    }
    t.put("d.u8", new Tensor(DType.U8, new long[] {7}, u8, Device.CPU));
    t.put(
        "e.f16",
        shorts(
            DType.F16,
            Float.floatToFloat16(0f),
            Float.floatToFloat16(0.25f),
            Float.floatToFloat16(0.5f)));
    t.put("z.empty", new Tensor(DType.F32, new long[] {0, 4}, arena.allocate(0), Device.CPU));
    Path ours = dir.resolve("ours.safetensors");
    SafetensorsWriter.write(ours, t, Map.of());
    Path python =
        HfFixturesTest.fixtures().resolve("safetensors-layout/python_written.safetensors");
    assertThat(Files.readAllBytes(ours)).isEqualTo(Files.readAllBytes(python));
  }

  @Test
  void layoutFollowsTheFormatRules() throws IOException {
    SplittableRandom rnd = new SplittableRandom(7);
    Map<String, Tensor> t = new LinkedHashMap<>();
    DType[] types = DType.values();
    for (int i = 0; i < 20; i++) {
      DType d = types[rnd.nextInt(types.length)];
      t.put(
          "t" + rnd.nextInt(1000) + "é" + i,
          tensor(d, new long[] {rnd.nextInt(4), 1 + rnd.nextInt(5)}, rnd));
    }
    Path f = dir.resolve("layout.safetensors");
    SafetensorsWriter.write(f, t, Map.of("step", "12"));
    byte[] bytes = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertThat(n % 8).isZero();
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertThat(header).startsWith("{");
    assertThat(header.stripTrailing()).endsWith("}");
    assertThat(header.length() - header.stripTrailing().length()).isLessThan(8);
    assertThat(header.substring(header.stripTrailing().length())).matches(" *");
    JsonNode root = new ObjectMapper().readTree(header);
    assertThat(root.fieldNames().next()).isEqualTo("__metadata__");
    assertThat(root.get("__metadata__").get("format").textValue()).isEqualTo("pt");
    assertThat(root.get("__metadata__").get("step").textValue()).isEqualTo("12");
    long expectedBegin = 0;
    int previousWidth = Integer.MAX_VALUE;
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (name.equals("__metadata__")) {
        continue;
      }
      names.add(name);
      JsonNode info = root.get(name);
      DType d = DType.valueOf(info.get("dtype").textValue());
      long begin = info.get("data_offsets").get(0).longValue();
      long end = info.get("data_offsets").get(1).longValue();
      assertThat(begin).as("no gap before " + name).isEqualTo(expectedBegin);
      assertThat(end - begin).isEqualTo(t.get(name).byteSize());
      assertThat((8 + n + begin) % d.bytes()).as("alignment of " + name).isZero();
      assertThat(d.bytes()).isLessThanOrEqualTo(previousWidth);
      previousWidth = d.bytes();
      assertThat(
              MemorySegment.ofArray(bytes)
                  .asSlice(8 + n + begin, end - begin)
                  .mismatch(t.get(name).data()))
          .isEqualTo(-1);
      expectedBegin = end;
    }
    assertThat(8 + n + expectedBegin)
        .as("data ends at the end of the file")
        .isEqualTo(bytes.length);
    assertThat(names).hasSameElementsAs(t.keySet());
  }

  @Test
  void roundTripsThroughTheReader() {
    SplittableRandom rnd = new SplittableRandom(3);
    Map<String, Tensor> t = new LinkedHashMap<>();
    for (DType d : DType.values()) {
      t.put("x." + d, tensor(d, new long[] {3, 5}, rnd));
    }
    Path f = dir.resolve("rt.safetensors");
    SafetensorsWriter.write(f, t, Map.of("k", "v"));
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertThat(st.metadata()).containsEntry("format", "pt").containsEntry("k", "v");
      for (Map.Entry<String, Tensor> e : t.entrySet()) {
        Tensor back = st.tensor(e.getKey());
        assertThat(back.dtype()).isEqualTo(e.getValue().dtype());
        assertThat(back.shape()).containsExactly(e.getValue().shape());
        assertThat(back.data().mismatch(e.getValue().data())).isEqualTo(-1);
      }
    }
  }

  @Test
  void shardsLikeSavePretrained() throws IOException {
    SplittableRandom rnd = new SplittableRandom(5);
    LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
    for (int i = 0; i < 6; i++) {
      t.put("layer." + i + ".weight", tensor(DType.F32, new long[] {10, 10}, rnd)); // 400 bytes
    }
    t.put("huge", tensor(DType.BF16, new long[] {1000}, rnd)); // 2000 bytes, over the limit
    List<Path> files = SafetensorsWriter.writeFolder(dir, "model", t, Map.of(), 1000);
    assertThat(files.stream().map(p -> p.getFileName().toString()))
        .containsExactly(
            "model-00001-of-00004.safetensors",
            "model-00002-of-00004.safetensors",
            "model-00003-of-00004.safetensors",
            "model-00004-of-00004.safetensors",
            "model.safetensors.index.json");
    JsonNode index =
        new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
    assertThat(index.at("/metadata/total_size").longValue()).isEqualTo(6 * 400 + 2000);
    assertThat(index.get("weight_map").get("layer.2.weight").textValue())
        .isEqualTo("model-00002-of-00004.safetensors");
    assertThat(index.get("weight_map").get("huge").textValue())
        .isEqualTo("model-00004-of-00004.safetensors");
    try (SafetensorsFolder folder = SafetensorsFolder.open(dir)) {
      assertThat(folder.shards()).hasSize(4);
      assertThat(folder.names()).hasSameElementsAs(t.keySet());
      for (Map.Entry<String, Tensor> e : t.entrySet()) {
        assertThat(folder.tensor(e.getKey()).data().mismatch(e.getValue().data())).isEqualTo(-1);
      }
    }
    try (var listing = Files.list(dir)) {
      assertThat(listing.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
    }

    // Saving again small enough for one file replaces the shards and the index.
    LinkedHashMap<String, Tensor> small = new LinkedHashMap<>();
    small.put("only", tensor(DType.F32, new long[] {2}, rnd));
    assertThat(SafetensorsWriter.writeFolder(dir, "model", small, Map.of(), 1000))
        .containsExactly(dir.resolve("model.safetensors"));
    try (var listing = Files.list(dir)) {
      assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("model.safetensors");
    }
    try (SafetensorsFolder folder = SafetensorsFolder.open(dir)) {
      assertThat(folder.names()).containsExactly("only");
    }

    // And sharding again removes the single file.
    SafetensorsWriter.writeFolder(dir, "model", t, Map.of(), 1000);
    assertThat(Files.exists(dir.resolve("model.safetensors"))).isFalse();
  }

  @Test
  void aFailedWriteLeavesTheOldFileIntact() throws IOException {
    Path f = dir.resolve("keep.safetensors");
    SafetensorsWriter.write(f, Map.of("a", f32(new long[] {1}, 1f)), Map.of());
    byte[] before = Files.readAllBytes(f);
    Tensor dead;
    try (Arena gone = Arena.ofConfined()) {
      dead = new Tensor(DType.F32, new long[] {4}, gone.allocate(16), Device.CPU);
    }
    Tensor closed = dead;
    assertThatThrownBy(() -> SafetensorsWriter.write(f, Map.of("a", closed), Map.of()))
        .isInstanceOf(IllegalStateException.class);
    assertThat(Files.readAllBytes(f)).isEqualTo(before);
    try (var listing = Files.list(dir)) {
      assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("keep.safetensors");
    }
  }

  @Test
  void refusesWhatCannotBeWritten() {
    Tensor gpu = new Tensor(DType.F32, new long[] {1}, arena.allocate(4), new Device.Cuda(0));
    assertThatThrownBy(() -> SafetensorsWriter.write(dir.resolve("g"), Map.of("w", gpu), Map.of()))
        .hasMessageContaining("cuda:0");
    Tensor ok = f32(new long[] {1}, 1f);
    assertThatThrownBy(
            () -> SafetensorsWriter.write(dir.resolve("m"), Map.of("__metadata__", ok), Map.of()))
        .hasMessageContaining("__metadata__");
    assertThatThrownBy(
            () ->
                SafetensorsWriter.write(dir.resolve("f"), Map.of("w", ok), Map.of("format", "np")))
        .hasMessageContaining("pt");
    assertThat(SafetensorsWriter.shardName("adapter_model", 2, 12))
        .isEqualTo("adapter_model-00002-of-00012.safetensors");
  }
}
