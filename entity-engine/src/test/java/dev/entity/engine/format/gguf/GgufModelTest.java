package dev.entity.engine.format.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tiny models of each family exported by {@link GgufExport} and loaded back by {@link GgufModel}:
 * the config, the tokenizer and the logits at every position match the Hugging Face folder (F32:
 * 1e-5; Q8_0: the folder with the same quantization error, 1e-5, and the original within 2% of the
 * logit range); hostile files are refused naming the file and what is wrong.
 */
class GgufModelTest {

  static final String TEXT = "The quick brown fox jumps over the lazy dog. 東京 🙂 12345";

  @TempDir static Path dir;
  static CpuBackend backend;
  static final Map<Architecture, ModelConfig> CONFIGS = new HashMap<>();

  @BeforeAll
  static void models() {
    backend = new CpuBackend(1);
    for (Architecture a : Architecture.values()) {
      CONFIGS.put(a, TinyHfModels.write(backend, a, folder(a), 5));
    }
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  static Path folder(Architecture a) {
    return dir.resolve(a.name().toLowerCase());
  }

  static Path export(Architecture a, GgmlType type) {
    Path out = dir.resolve(a.name().toLowerCase() + "-" + type + ".gguf");
    if (!Files.exists(out)) {
      GgufExport.model(folder(a), out, GgufExport.Options.of(type));
    }
    return out;
  }

  static int[] ids(Tokenizer t) {
    return t.encode(TEXT, false);
  }

  static float[] logits(Decoder d, int[] ids) {
    int n = ids.length;
    Batch b = Batch.fromHuggingFace(new int[][] {ids}, new int[][] {ones(n)}, new int[][] {ids});
    return d.logits(b, IntStream.range(0, n).toArray());
  }

  static int[] ones(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, 1);
    return a;
  }

  static double maxDiff(float[] a, float[] b) {
    assertThat(a).hasSameSizeAs(b);
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    return worst;
  }

  static double range(float[] a) {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (float v : a) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return hi - lo;
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void f32ExportLoadsBackWithTheSameConfigTokensAndLogits(Architecture a) {
    ModelConfig hfConfig = CONFIGS.get(a);
    Tokenizer hfTokenizer = Tokenizer.load(folder(a));
    try (GgufModel g = GgufModel.open(export(a, GgmlType.F32))) {
      ModelConfig c = g.config();
      assertThat(c.architecture()).isEqualTo(hfConfig.architecture());
      assertThat(c.vocabSize()).isEqualTo(hfConfig.vocabSize());
      assertThat(c.layerLinears()).isEqualTo(hfConfig.layerLinears());
      assertThat(c.numKvHeads()).isEqualTo(hfConfig.numKvHeads());
      assertThat(c.maxPositions()).isEqualTo(hfConfig.maxPositions());
      assertThat(c.normEps())
          .isCloseTo(hfConfig.normEps(), org.assertj.core.data.Offset.offset(1e-9));
      assertThat(c.tieWordEmbeddings()).isEqualTo(hfConfig.tieWordEmbeddings());
      assertThat(c.ropeScaling() != null).isEqualTo(hfConfig.ropeScaling() != null);
      if (a != Architecture.GPT2) {
        assertThat(c.ropeTheta()).isEqualTo(hfConfig.ropeTheta());
        assertThat(
                dev.entity.engine.layer.Rope.inverseFrequencies(
                    c.headDim(), c.ropeTheta(), c.ropeScaling()))
            .usingElementComparator((x, y) -> Math.abs(x - y) <= 1e-6f * Math.abs(y) ? 0 : 1)
            .containsExactly(
                dev.entity.engine.layer.Rope.inverseFrequencies(
                    hfConfig.headDim(), hfConfig.ropeTheta(), hfConfig.ropeScaling()));
      }
      int[] ids = ids(hfTokenizer);
      assertThat(g.tokenizer().encode(TEXT, false)).containsExactly(ids);
      assertThat(g.tokenizer().chatTemplate()).isEqualTo(hfTokenizer.chatTemplate());
      assertThat(g.stopIds()).contains(hfTokenizer.eosId().getAsInt());
      try (Decoder hf = Decoder.load(backend, folder(a), Decoder.Options.full());
          Decoder loaded = g.load(backend, Decoder.Options.full())) {
        double diff = maxDiff(logits(loaded, ids), logits(hf, ids));
        System.out.printf("%s F32 GGUF vs folder: max |logit diff| %.2e%n", a, diff);
        assertThat(diff).isLessThanOrEqualTo(1e-5);
      }
    }
  }

  @Test
  void q8_0LogitsAreTheDequantizedFoldersAndCloseToTheOriginal() throws IOException {
    Architecture a = Architecture.LLAMA;
    Path dequantized = dir.resolve("llama-q8-dequantized");
    TinyHfModels.writeDequantized(CONFIGS.get(a), folder(a), GgmlType.Q8_0, dequantized);
    int[] ids = ids(Tokenizer.load(folder(a)));
    try (GgufModel g = GgufModel.open(export(a, GgmlType.Q8_0));
        Decoder loaded = g.load(backend, Decoder.Options.full());
        Decoder same = Decoder.load(backend, dequantized, Decoder.Options.full());
        Decoder original = Decoder.load(backend, folder(a), Decoder.Options.full())) {
      float[] got = logits(loaded, ids);
      assertThat(maxDiff(got, logits(same, ids))).isLessThanOrEqualTo(1e-5);
      float[] want = logits(original, ids);
      double diff = maxDiff(got, want);
      System.out.printf(
          "Q8_0 GGUF vs F32 folder: max |logit diff| %.3e = %.2f%% of the logit range%n",
          diff, 100 * diff / range(want));
      assertThat(diff).isGreaterThan(0).isLessThanOrEqualTo(0.02 * range(want));
    }
  }

  /**
   * Each type, dequantized into BF16 storage, computes what the Hugging Face folder holding the
   * same quantized-then-dequantized weights computes in BF16 storage.
   */
  @ParameterizedTest
  @EnumSource(
      value = GgmlType.class,
      names = {"F16", "BF16", "Q4_0", "Q5_1"})
  void everyExportTypeLoadsIntoBf16StorageToo(GgmlType type) throws IOException {
    Architecture a = Architecture.QWEN2;
    Path dequantized = dir.resolve("qwen2-dequantized-" + type);
    TinyHfModels.writeDequantized(CONFIGS.get(a), folder(a), type, dequantized);
    int[] ids = ids(Tokenizer.load(folder(a)));
    Decoder.Options bf16 =
        Decoder.Options.lora(
                new dev.entity.engine.lora.LoraConfig(
                    1, 1, 0, List.of(dev.entity.engine.lora.LoraConfig.ALL_LINEAR), false, 0))
            .withFrozenDType(DType.BF16);
    try (GgufModel g = GgufModel.open(export(a, type));
        Decoder loaded = g.load(backend, bf16);
        Decoder same = Decoder.load(backend, dequantized, bf16)) {
      loaded.setAdaptersDisabled(true);
      same.setAdaptersDisabled(true);
      assertThat(loaded.store().param("model.layers.0.mlp.up_proj.weight").dtype())
          .isEqualTo(DType.BF16);
      assertThat(maxDiff(logits(loaded, ids), logits(same, ids))).isLessThanOrEqualTo(1e-5);
    }
  }

  @Test
  void chatModelOpensAGgufFileAndGeneratesAsTheFolderDoes() {
    Architecture a = Architecture.LLAMA;
    var options = dev.entity.engine.generate.GenerationOptions.greedy(12);
    var messages = List.of(dev.entity.engine.template.ChatMessage.user("Hello world!"));
    try (var hf = dev.entity.engine.generate.ChatModel.open(backend, folder(a), null, DType.F32);
        var gguf =
            dev.entity.engine.generate.ChatModel.open(
                backend, export(a, GgmlType.F32), null, DType.F32)) {
      assertThat(gguf.encodeChat(messages)).containsExactly(hf.encodeChat(messages));
      var want = hf.chat(messages, options, null);
      StringBuilder streamed = new StringBuilder();
      var got = gguf.chat(messages, options, streamed::append);
      assertThat(got.tokens()).containsExactly(want.tokens());
      assertThat(got.text()).isEqualTo(want.text()).isEqualTo(streamed.toString());
      assertThat(gguf.hasAdapter()).isFalse();
    }
  }

  @Test
  void aPeftAdapterAppliesToAGgufBaseAsToTheFolder() throws IOException {
    Architecture a = Architecture.QWEN2;
    Path adapter = dir.resolve("qwen2-adapter");
    TinyHfModels.writeAdapterAndMerged(
        CONFIGS.get(a), folder(a), adapter, dir.resolve("qwen2-merged"));
    var options = dev.entity.engine.generate.GenerationOptions.greedy(10);
    try (var hf =
            dev.entity.engine.generate.ChatModel.open(backend, folder(a), adapter, DType.F32);
        var gguf =
            dev.entity.engine.generate.ChatModel.open(
                backend, export(a, GgmlType.F32), adapter, DType.F32)) {
      assertThat(gguf.hasAdapter()).isTrue();
      var tuned = gguf.complete("The quick brown", options, null);
      assertThat(tuned.tokens())
          .containsExactly(hf.complete("The quick brown", options, null).tokens());
      gguf.useAdapter(false);
      hf.useAdapter(false);
      var base = gguf.complete("The quick brown", options, null);
      assertThat(base.tokens())
          .containsExactly(hf.complete("The quick brown", options, null).tokens());
      assertThat(base.tokens()).isNotEqualTo(tuned.tokens());
    }
    Path notAnAdapter = Files.createDirectories(dir.resolve("empty-adapter"));
    assertThatThrownBy(
            () ->
                dev.entity.engine.generate.ChatModel.open(
                    backend, export(a, GgmlType.F32), notAnAdapter, DType.F32))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("adapter_config.json");
  }

  // ---------------------------------------------------------------- hostile files

  /** A copy of {@code src} with its metadata changed by {@code edit}. */
  static Path rewritten(Path src, String name, Consumer<Map<String, GgufValue>> edit) {
    Path out = dir.resolve(name + ".gguf");
    try (GgufReader r = GgufReader.open(src)) {
      Map<String, GgufValue> meta = new java.util.LinkedHashMap<>(r.metadata());
      edit.accept(meta);
      GgufWriter w = new GgufWriter();
      meta.forEach(w::put);
      for (GgufTensorInfo t : r.tensors()) {
        byte[] bytes = r.bytes(t.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        w.addTensor(
            t.name(),
            t.type(),
            t.shape(),
            sink -> sink.write(java.lang.foreign.MemorySegment.ofArray(bytes)));
      }
      w.write(out);
    }
    return out;
  }

  static void refused(Path file, String... parts) {
    assertThatThrownBy(
            () -> {
              try (GgufModel g = GgufModel.open(file)) {
                g.load(backend, Decoder.Options.full()).close();
              }
            })
        .isInstanceOf(EngineException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContainingAll(parts);
  }

  @Test
  void hostileFilesAreRefusedNamingTheFileAndKey() throws IOException {
    Path good = export(Architecture.LLAMA, GgmlType.F32);
    refused(
        rewritten(good, "no-arch", m -> m.remove("general.architecture")), "general.architecture");
    refused(
        rewritten(good, "bert", m -> m.put("general.architecture", GgufValue.string("bert"))),
        "\"bert\"",
        "llama, qwen2, gpt2");
    refused(
        rewritten(good, "no-width", m -> m.remove("llama.embedding_length")),
        "llama.embedding_length");
    refused(
        rewritten(good, "zero-heads", m -> m.put("llama.attention.head_count", GgufValue.u32(0))),
        "llama.attention.head_count");
    refused(
        rewritten(good, "float-blocks", m -> m.put("llama.block_count", GgufValue.f32(2))),
        "llama.block_count");
    refused(
        rewritten(good, "more-blocks", m -> m.put("llama.block_count", GgufValue.u32(3))),
        "blk.2.");
    refused(
        rewritten(good, "wider", m -> m.put("llama.feed_forward_length", GgufValue.u32(128))),
        "ffn_gate",
        "shape");
    refused(
        rewritten(good, "fewer-blocks", m -> m.put("llama.block_count", GgufValue.u32(1))),
        "blk.1.");
    refused(
        rewritten(good, "adapter", m -> m.put("general.type", GgufValue.string("adapter"))),
        "adapter");
    refused(
        rewritten(good, "no-tokenizer", m -> m.remove("tokenizer.ggml.model")),
        "tokenizer.ggml.model");

    Path truncated = dir.resolve("truncated.gguf");
    Files.copy(good, truncated);
    try (FileChannel ch = FileChannel.open(truncated, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 100);
    }
    refused(truncated, "truncated");
    Path header = dir.resolve("header.gguf");
    Files.write(header, java.util.Arrays.copyOf(Files.readAllBytes(good), 200));
    refused(header, "invalid GGUF");
  }

  @Test
  void isGgufFileLooksAtTheNameOrTheMagic() throws IOException {
    Path gguf = export(Architecture.GPT2, GgmlType.F32);
    Path renamed = dir.resolve("model.bin");
    Files.copy(gguf, renamed);
    assertThat(GgufModel.isGgufFile(gguf)).isTrue();
    assertThat(GgufModel.isGgufFile(renamed)).isTrue();
    assertThat(GgufModel.isGgufFile(folder(Architecture.GPT2))).isFalse();
    assertThat(GgufModel.isGgufFile(folder(Architecture.GPT2).resolve("config.json"))).isFalse();
  }
}
