package dev.entity.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.engine.EngineException;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.engine.template.TrainingExample;
import dev.entity.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** make-tiny-model's folders load back whole and are deterministic. */
class TinyModelTest {

  static final List<List<ChatMessage>> CORPUS = corpus();

  static List<List<ChatMessage>> corpus() {
    List<List<ChatMessage>> out = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      out.add(
          List.of(
              ChatMessage.user("What is the weather like in town number " + i + "?"),
              ChatMessage.assistant("The weather in town " + i + " is sunny and warm today.")));
    }
    return out;
  }

  static TinyModel.Spec spec(Architecture arch, long seed) {
    return new TinyModel.Spec(arch, 300, 32, 1, seed, TinyModel.Spec.DEFAULT_STD);
  }

  @ParameterizedTest
  @EnumSource(Architecture.class)
  void theFolderLoadsBackWithTokenizerTemplateAndWeights(Architecture arch, @TempDir Path dir)
      throws IOException {
    TinyModel.Result r = TinyModel.write(SharedCpuBackend.get(), spec(arch, 1), CORPUS, dir, false);
    for (String f : TinyModel.FILES) {
      assertThat(dir.resolve(f)).isRegularFile();
    }
    ModelConfig loaded = ModelConfig.load(dir);
    assertThat(loaded).isEqualTo(r.config());
    assertThat(loaded.architecture()).isEqualTo(arch);
    assertThat(loaded.hiddenSize()).isEqualTo(32);
    Tokenizer tok = Tokenizer.load(dir);
    assertThat(loaded.vocabSize()).isEqualTo(tok.vocabSize()).isGreaterThan(256);
    assertThat(loaded.eosTokenIds()).containsExactly(tok.eosId().getAsInt());
    ChatTemplate template = ChatTemplate.fromTokenizer(tok, null);
    List<ChatMessage> chat = CORPUS.getFirst();
    TrainingExample e = template.encodeForTraining(chat, tok, LabelPolicy.ASSISTANT_ONLY);
    assertThat(e.labelCount()).isPositive();
    assertThat(tok.decode(e.ids(), false)).contains("sunny and warm");
    int[] endOfTurn = template.endOfTurnIds(tok);
    JsonNode gen = new ObjectMapper().readTree(dir.resolve("generation_config.json").toFile());
    List<Integer> genEos = new ArrayList<>();
    gen.get("eos_token_id").forEach(n -> genEos.add(n.asInt()));
    assertThat(genEos)
        .containsExactlyElementsOf(java.util.Arrays.stream(endOfTurn).boxed().toList());
    assertThat(gen.get("pad_token_id").asInt()).isEqualTo(tok.padId().getAsInt());
    if (arch != Architecture.GPT2) {
      assertThat(template.family()).contains(dev.entity.engine.template.ChatTemplateFamily.CHATML);
      assertThat(genEos).contains(tok.tokenToId("<|im_end|>").getAsInt());
    }
    try (Decoder d = Decoder.load(SharedCpuBackend.get(), dir, Decoder.Options.full())) {
      int[] ids = e.ids();
      int n = Math.min(ids.length, 16);
      Batch b =
          Batch.fromHuggingFace(
              new int[][] {java.util.Arrays.copyOf(ids, n)},
              new int[][] {filled(n, 1)},
              new int[][] {java.util.Arrays.copyOf(ids, n)});
      float loss = d.loss(b);
      // random weights: close to uniform over the vocabulary, but not exactly
      assertThat((double) loss)
          .isBetween(Math.log(loaded.vocabSize()) - 1.5, Math.log(loaded.vocabSize()) + 1.5);
      float[] logits = d.logits(b, new int[] {n - 1});
      float max = Float.NEGATIVE_INFINITY;
      float second = Float.NEGATIVE_INFINITY;
      for (float v : logits) {
        if (v > max) {
          second = max;
          max = v;
        } else if (v > second) {
          second = v;
        }
      }
      assertThat(max - second).as("greedy decoding is not a near-tie").isGreaterThan(1e-3f);
    }
  }

  static int[] filled(int n, int v) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  @Test
  void theSameSeedGivesTheSameBytesAnotherSeedOtherWeights(@TempDir Path dir) throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    Path c = dir.resolve("c");
    TinyModel.write(SharedCpuBackend.get(), spec(Architecture.QWEN2, 7), CORPUS, a, false);
    TinyModel.write(SharedCpuBackend.get(), spec(Architecture.QWEN2, 7), CORPUS, b, false);
    TinyModel.write(SharedCpuBackend.get(), spec(Architecture.QWEN2, 8), CORPUS, c, false);
    for (String f : TinyModel.FILES) {
      assertThat(Files.readAllBytes(b.resolve(f)))
          .as(f)
          .isEqualTo(Files.readAllBytes(a.resolve(f)));
    }
    assertThat(Files.readAllBytes(c.resolve("model.safetensors")))
        .isNotEqualTo(Files.readAllBytes(a.resolve("model.safetensors")));
    assertThat(Files.readAllBytes(c.resolve("tokenizer.json")))
        .isEqualTo(Files.readAllBytes(a.resolve("tokenizer.json")));
  }

  @Test
  void aNonEmptyFolderIsRefusedWithoutForce(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("notes.txt"), "keep me");
    Files.writeString(dir.resolve("model-00001-of-00002.safetensors"), "stale");
    assertThatThrownBy(
            () ->
                TinyModel.write(
                    SharedCpuBackend.get(), spec(Architecture.LLAMA, 1), CORPUS, dir, false))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("not empty")
        .hasMessageContaining("--force");
    assertThat(dir.resolve("config.json")).doesNotExist();
    TinyModel.write(SharedCpuBackend.get(), spec(Architecture.LLAMA, 1), CORPUS, dir, true);
    assertThat(dir.resolve("notes.txt")).hasContent("keep me");
    assertThat(dir.resolve("model-00001-of-00002.safetensors")).doesNotExist();
    assertThat(ModelConfig.load(dir).architecture()).isEqualTo(Architecture.LLAMA);
  }

  @Test
  void aFileInPlaceOfTheFolderOrABadShapeIsRefused(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("f"), "x");
    assertThatThrownBy(
            () ->
                TinyModel.write(
                    SharedCpuBackend.get(), spec(Architecture.GPT2, 1), CORPUS, file, true))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("is a file");
    assertThatThrownBy(() -> new TinyModel.Spec(Architecture.GPT2, 512, 40, 2, 1, 0.05f))
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("multiple of 16");
    assertThatThrownBy(() -> new TinyModel.Spec(Architecture.GPT2, 512, 64, 0, 1, 0.05f))
        .isInstanceOf(EngineException.class);
    assertThatThrownBy(() -> new TinyModel.Spec(Architecture.GPT2, 512, 64, 2, 1, 0f))
        .isInstanceOf(EngineException.class);
  }
}
