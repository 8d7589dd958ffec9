package dev.entity.training.export;

import static dev.entity.training.export.TinyExportModels.BACKEND;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.core.EntityException;
import dev.entity.engine.format.gguf.GgmlType;
import dev.entity.engine.format.gguf.GgufReader;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.training.checksum.FileChecksums;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportRoundTripTest {

  @TempDir static Path shared;
  static Path base;
  static Path adapter;

  @BeforeAll
  static void models() {
    base = TinyExportModels.base(Architecture.LLAMA, shared.resolve("base"));
    adapter = TinyExportModels.adapter(base, shared.resolve("adapter"), false);
  }

  private static float[] logits(Decoder d) {
    Batch probe = AdapterMerge.probe(d.config().vocabSize(), 6);
    int[] rows = {0, 1, 2, 3, 4, 5};
    return d.logits(probe, rows);
  }

  @Test
  void mergedModelReloadedFromDiskGivesTheBasePlusAdapterLogits(@TempDir Path dir) {
    float[] withAdapter;
    float[] baseOnly;
    try (Decoder d = LoraAdapter.open(BACKEND, base, adapter, Decoder.Options.full())) {
      withAdapter = logits(d);
    }
    try (Decoder d = Decoder.load(BACKEND, base, Decoder.Options.full())) {
      baseOnly = logits(d);
    }
    AdapterMerge.Result r =
        AdapterMerge.merge(BACKEND, base, adapter, dir.resolve("merged"), DType.F32);
    assertThat(r.maxRelativeDifference()).isLessThan(AdapterMerge.TOLERANCE);
    try (Decoder merged = Decoder.load(BACKEND, r.folder(), Decoder.Options.full())) {
      float[] m = logits(merged);
      assertThat(AdapterMerge.relativeDifference(withAdapter, m)).isLessThan(1e-5);
    }
    // the adapter really changes the output, so the comparison above can fail
    assertThat(AdapterMerge.relativeDifference(withAdapter, baseOnly)).isGreaterThan(1e-3);
  }

  @Test
  void qloraAdapterIsMergedIntoTheNf4DequantizedBase(@TempDir Path dir) {
    Nf4Config nf4 = Nf4Config.of("float32", true);
    float[] qloraModel;
    try (Decoder d =
        LoraAdapter.open(
            BACKEND,
            base,
            adapter,
            Decoder.Options.qlora(LoraAdapter.readConfig(adapter, 0), nf4))) {
      qloraModel = logits(d);
    }
    AdapterMerge.Result r =
        AdapterMerge.merge(BACKEND, base, adapter, dir.resolve("merged"), DType.F32, nf4);
    float[] merged;
    try (Decoder d = Decoder.load(BACKEND, r.folder(), Decoder.Options.full())) {
      merged = logits(d);
    }
    float[] plain;
    try (Decoder d =
        Decoder.load(
            BACKEND,
            AdapterMerge.merge(BACKEND, base, adapter, dir.resolve("plain"), DType.F32).folder(),
            Decoder.Options.full())) {
      plain = logits(d);
    }
    // The merged model is the model the QLoRA run trained (up to BF16 rounding of the weights),
    // and nearer to it than a merge into the original, unquantized weights.
    double viaNf4 = AdapterMerge.relativeDifference(qloraModel, merged);
    assertThat(viaNf4).isLessThan(AdapterMerge.QLORA_TOLERANCE);
    assertThat(viaNf4).isLessThan(AdapterMerge.relativeDifference(qloraModel, plain));
  }

  @Test
  void hfFolderIsShardedCompleteAndChecksummed(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("hf");
    try (Decoder d = Decoder.load(BACKEND, base, Decoder.Options.full())) {
      HfModelExport.write(d, base, out, DType.F32, 20_000);
    }
    assertThat(out.resolve("model.safetensors.index.json")).isRegularFile();
    try (Stream<Path> s = Files.list(out)) {
      assertThat(
              s.filter(
                      p ->
                          p.getFileName()
                              .toString()
                              .matches("model-\\d{5}-of-\\d{5}\\.safetensors"))
                  .count())
          .isGreaterThan(1);
    }
    for (String f :
        List.of("config.json", "tokenizer.json", "tokenizer_config.json", "README.md")) {
      if (!f.equals("README.md")) {
        assertThat(out.resolve(f)).isRegularFile();
      }
    }
    JsonNode g = new ObjectMapper().readTree(out.resolve("generation_config.json").toFile());
    Tokenizer tok = Tokenizer.load(base);
    List<Integer> eos = new ArrayList<>();
    g.get("eos_token_id").forEach(n -> eos.add(n.asInt()));
    int[] expected = ChatTemplate.fromTokenizer(tok, null).endOfTurnIds(tok);
    assertThat(eos).containsAll(Arrays.stream(expected).boxed().toList());
    assertThat(eos).contains(tok.tokenToId("<|im_end|>").getAsInt());
    try (Decoder back = Decoder.load(BACKEND, out, Decoder.Options.full());
        Decoder orig = Decoder.load(BACKEND, base, Decoder.Options.full())) {
      assertThat(logits(back)).isEqualTo(logits(orig));
    }
    FileChecksums.verifyManifest(out);
    Files.write(
        out.resolve("tokenizer.json"), new byte[] {'x'}, java.nio.file.StandardOpenOption.APPEND);
    assertThatThrownBy(() -> FileChecksums.verifyManifest(out))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("tokenizer.json");
  }

  @Test
  void bf16FolderReloadsCloseToTheF32Model(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("bf16");
    float[] f32;
    try (Decoder d = Decoder.load(BACKEND, base, Decoder.Options.full())) {
      f32 = logits(d);
      HfModelExport.write(d, base, out, DType.BF16, HfModelExport.DEFAULT_SHARD_BYTES);
    }
    assertThat(Files.readString(out.resolve("config.json")))
        .contains("\"torch_dtype\" : \"bfloat16\"");
    try (Decoder back = Decoder.load(BACKEND, out, Decoder.Options.full())) {
      double diff = AdapterMerge.relativeDifference(f32, logits(back));
      assertThat(diff).isGreaterThan(0).isLessThan(0.02);
    }
  }

  @Test
  void adapterExportCopiesPeftFilesAndChecksThemOnTheBase(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("adapter-out");
    AdapterExport.export(BACKEND, adapter, base, out);
    JsonNode cfg = new ObjectMapper().readTree(out.resolve(LoraAdapter.CONFIG).toFile());
    assertThat(cfg.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(cfg.get("task_type").asText()).isEqualTo("CAUSAL_LM");
    assertThat(cfg.get("lora_alpha").isIntegralNumber()).isTrue();
    assertThat(cfg.get("r").asInt()).isEqualTo(4);
    assertThat(cfg.has("target_modules") && cfg.has("bias") && cfg.has("use_rslora")).isTrue();
    assertThat(
            Files.mismatch(out.resolve(LoraAdapter.WEIGHTS), adapter.resolve(LoraAdapter.WEIGHTS)))
        .isEqualTo(-1);
    FileChecksums.verifyManifest(out);
  }

  @Test
  void hostileAdapterFoldersAreRefusedWithTheFileNamed(@TempDir Path dir) throws Exception {
    List<String> configs =
        List.of(
            "",
            "{",
            "[]",
            "{\"peft_type\": \"LORA\"}",
            "{\"peft_type\": \"PREFIX_TUNING\", \"r\": 4}",
            "{\"peft_type\": \"LORA\", \"r\": \"four\", \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}",
            "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"nope\"]}",
            "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 8, \"target_modules\": \"all-linear\"}");
    int i = 0;
    for (String json : configs) {
      Path bad = Files.createDirectories(dir.resolve("bad" + i++));
      Files.copy(adapter.resolve(LoraAdapter.WEIGHTS), bad.resolve(LoraAdapter.WEIGHTS));
      Files.writeString(bad.resolve(LoraAdapter.CONFIG), json);
      Path out = dir.resolve("out" + i);
      assertThatThrownBy(() -> AdapterExport.export(BACKEND, bad, base, out))
          .as(json)
          .isInstanceOf(EntityException.class)
          .hasMessageContaining(bad.toString());
      assertThat(out).doesNotExist();
    }
    Path noWeights = Files.createDirectories(dir.resolve("noweights"));
    Files.copy(adapter.resolve(LoraAdapter.CONFIG), noWeights.resolve(LoraAdapter.CONFIG));
    assertThatThrownBy(() -> AdapterExport.export(BACKEND, noWeights, base, dir.resolve("o")))
        .hasMessageContaining(LoraAdapter.WEIGHTS);
    Path truncated = Files.createDirectories(dir.resolve("truncated"));
    Files.copy(adapter.resolve(LoraAdapter.CONFIG), truncated.resolve(LoraAdapter.CONFIG));
    byte[] w = Files.readAllBytes(adapter.resolve(LoraAdapter.WEIGHTS));
    Files.write(truncated.resolve(LoraAdapter.WEIGHTS), Arrays.copyOf(w, w.length / 2));
    assertThatThrownBy(
            () -> AdapterMerge.merge(BACKEND, base, truncated, dir.resolve("m"), DType.F32))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("truncated");
    assertThat(dir.resolve("m")).doesNotExist();
  }

  @Test
  void ggufModelAndAdapterAreReadBackTensorByTensor(@TempDir Path dir) throws Exception {
    GgufFileExport.Result model =
        GgufFileExport.model(base, dir.resolve("m.gguf"), GgmlType.Q8_0, "tiny");
    try (GgufReader r = GgufReader.open(model.file())) {
      assertThat(model.tensors()).isEqualTo(r.tensors().size()).isGreaterThan(5);
      assertThat(r.tensors()).anyMatch(t -> t.type() == GgmlType.Q8_0);
    }
    assertThat(model.sha256()).isEqualTo(FileChecksums.sha256(model.file()));
    GgufFileExport.Result lora = GgufFileExport.adapter(adapter, base, dir.resolve("lora.gguf"));
    assertThat(lora.tensors()).isGreaterThan(0);

    Path broken = dir.resolve("broken.gguf");
    byte[] bytes = Files.readAllBytes(model.file());
    Files.write(broken, Arrays.copyOf(bytes, bytes.length - 100));
    assertThatThrownBy(() -> GgufFileExport.verify(broken, GgmlType.Q8_0))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("broken.gguf");
    assertThat(broken).doesNotExist();
    assertThatThrownBy(() -> GgufFileExport.parseType("q3_k")).hasMessageContaining("q8_0");
  }
}
