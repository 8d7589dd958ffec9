// Convention: everything written is a pure function of the spec and the corpus: the BPE trainer
// breaks ties by id, weights come from Decoder.initializeRandom (seeded per tensor name), and the
// JSON files are written with a fixed key order — the same inputs give byte-identical folders.
package dev.entity.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tokenizer.BpeTrainer;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.engine.tokenizer.TrainedBpe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Makes a complete, small Hugging Face model folder with random weights, for the quickstart, tests
 * and demos: {@code config.json}, {@code model.safetensors}, {@code tokenizer.json} and {@code
 * tokenizer_config.json} (a byte-level BPE learned from a corpus, with a chat template and its
 * special tokens) and {@code generation_config.json} (every end-of-turn id as {@code
 * eos_token_id}).
 *
 * <p>Per architecture: llama and qwen2 use ChatML ({@code <|endoftext|>} pad, {@code <|im_start|>},
 * {@code <|im_end|>} EOS; llama also names {@code <|endoftext|>} its BOS, as SmolLM2 does; qwen2
 * has none, as Qwen2.5); gpt2 keeps GPT-2's single {@code <|endoftext|>} as BOS, EOS and pad and
 * uses the alpaca template, which needs no added tokens (the labeller trains an EOS after each
 * response). Shapes: head width 16, llama/qwen2 with half as many key/value heads (GQA), SwiGLU
 * width 3 × hidden, GPT-2 MLP 4 × hidden; qwen2 and gpt2 tie embeddings, llama does not. Weights
 * are normal(0, {@link Spec#std}) with norms 1 and biases 0; the default 0.05 (not Hugging Face's
 * 0.02) gives logits spread enough that greedy decoding is not a near-tie.
 */
public final class TinyModel {

  /** Files a folder made here holds. */
  public static final List<String> FILES =
      List.of(
          "config.json",
          "model.safetensors",
          "tokenizer.json",
          "tokenizer_config.json",
          "generation_config.json");

  /**
   * What to make.
   *
   * @param architecture llama, qwen2 or gpt2
   * @param vocabSize target vocabulary size (special tokens and the 256 bytes included); the
   *     learned vocabulary may stop short when the corpus has no more pairs seen twice, and
   *     config.json gets the size actually learned
   * @param hiddenSize model width, a multiple of 16
   * @param numLayers decoder blocks
   * @param seed seed of the weights
   * @param std standard deviation of the random matrices and embeddings
   */
  public record Spec(
      Architecture architecture,
      int vocabSize,
      int hiddenSize,
      int numLayers,
      long seed,
      float std) {

    public static final int DEFAULT_VOCAB = 512;
    public static final int DEFAULT_HIDDEN = 64;
    public static final int DEFAULT_LAYERS = 2;
    public static final long DEFAULT_SEED = 42;
    public static final float DEFAULT_STD = 0.05f;

    public Spec {
      if (hiddenSize < 16 || hiddenSize % 16 != 0) {
        throw new EngineException(
            "hidden size must be a positive multiple of 16 (heads are 16 wide), got " + hiddenSize);
      }
      if (numLayers < 1) {
        throw new EngineException("a model needs at least 1 layer, got " + numLayers);
      }
      if (!(std > 0) || std > 1) {
        throw new EngineException("weight std must be in (0, 1], got " + std);
      }
    }

    /** The defaults: vocabulary 512, hidden 64, 2 layers, seed 42, std 0.05. */
    public static Spec of(Architecture architecture) {
      return new Spec(
          architecture, DEFAULT_VOCAB, DEFAULT_HIDDEN, DEFAULT_LAYERS, DEFAULT_SEED, DEFAULT_STD);
    }
  }

  /** What was written: the folder, the model's config and the tokenizer read back. */
  public record Result(Path folder, ModelConfig config, Tokenizer tokenizer) {}

  private record Specials(
      List<String> tokens, String bos, String eos, String pad, String template) {}

  private TinyModel() {}

  private static Specials specials(Architecture arch) {
    List<String> chatml = BpeTrainer.Config.CHATML_SPECIALS;
    return switch (arch) {
      case LLAMA -> new Specials(chatml, "<|endoftext|>", "<|im_end|>", "<|endoftext|>", "chatml");
      case QWEN2 -> new Specials(chatml, null, "<|im_end|>", "<|endoftext|>", "chatml");
      case GPT2 ->
          new Specials(
              List.of("<|endoftext|>"),
              "<|endoftext|>",
              "<|endoftext|>",
              "<|endoftext|>",
              "alpaca");
    };
  }

  /**
   * Writes the folder. The BPE corpus is each conversation rendered with the model's chat template
   * (special tokens are cut out before learning merges), so the template's own words get tokens.
   *
   * @param force overwrite a folder that is not empty (files of an earlier model there are
   *     replaced, other safetensors files deleted)
   * @throws EngineException when the folder is not empty and {@code force} is false, or cannot be
   *     written
   */
  public static Result write(
      Backend backend, Spec spec, List<List<ChatMessage>> corpus, Path folder, boolean force) {
    prepareFolder(folder, force);
    Specials sp = specials(spec.architecture());
    String templateSource = ChatTemplate.builtInSource(sp.template());
    ChatTemplate template = ChatTemplate.of(sp.template(), templateSource, sp.bos(), sp.eos());
    List<String> texts = new ArrayList<>(corpus.size());
    for (List<ChatMessage> conversation : corpus) {
      texts.add(template.render(conversation, false));
    }
    TrainedBpe bpe =
        new BpeTrainer(new BpeTrainer.Config(spec.vocabSize(), 2, sp.tokens())).train(texts);
    bpe.writeTo(folder, sp.bos(), sp.eos(), sp.pad(), templateSource);
    Tokenizer tokenizer = Tokenizer.load(folder);
    ModelConfig config = config(spec, bpe.vocabSize(), tokenizer);
    try {
      config.write(folder.resolve("config.json"));
      writeGenerationConfig(folder, tokenizer, ChatTemplate.fromTokenizer(tokenizer, null));
    } catch (IOException e) {
      throw new EngineException("cannot write into " + folder + ": " + e.getMessage(), e);
    }
    try (Decoder d = new Decoder(backend, config, Decoder.Options.full());
        Arena arena = Arena.ofConfined()) {
      d.initializeRandom(spec.seed(), spec.std());
      SafetensorsWriter.write(
          folder.resolve("model.safetensors"), HfCheckpoint.baseTensors(d, arena), Map.of());
    }
    return new Result(folder, config, tokenizer);
  }

  /** The model's config for a spec and its tokenizer (vocabulary size as learned). */
  static ModelConfig config(Spec spec, int vocabSize, Tokenizer tokenizer) {
    int c = spec.hiddenSize();
    int heads = c / 16;
    Architecture arch = spec.architecture();
    boolean gpt2 = arch == Architecture.GPT2;
    int kvHeads = gpt2 || heads % 2 != 0 ? heads : heads / 2;
    Integer bos = tokenizer.bosId().isPresent() ? tokenizer.bosId().getAsInt() : null;
    List<Integer> eos = List.of(tokenizer.eosId().orElseThrow());
    return new ModelConfig(
        arch,
        arch.modelTypes().getFirst(),
        vocabSize,
        c,
        spec.numLayers(),
        heads,
        kvHeads,
        16,
        gpt2 ? 4 * c : 3 * c,
        1024,
        arch == Architecture.QWEN2 ? 1e-6 : 1e-5,
        arch == Architecture.QWEN2 ? 1_000_000.0 : 10_000.0,
        null,
        arch != Architecture.LLAMA,
        arch != Architecture.LLAMA,
        gpt2,
        gpt2,
        gpt2 ? "gelu_new" : "silu",
        bos,
        eos,
        "float32",
        null);
  }

  private static void writeGenerationConfig(Path folder, Tokenizer tokenizer, ChatTemplate template)
      throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode g = json.createObjectNode();
    tokenizer.bosId().ifPresent(id -> g.put("bos_token_id", id));
    ArrayNode eos = g.putArray("eos_token_id");
    for (int id : template.endOfTurnIds(tokenizer)) {
      eos.add(id);
    }
    tokenizer.padId().ifPresent(id -> g.put("pad_token_id", id));
    json.writeValue(folder.resolve("generation_config.json").toFile(), g);
  }

  private static void prepareFolder(Path folder, boolean force) {
    try {
      if (Files.exists(folder) && !Files.isDirectory(folder)) {
        throw new EngineException(folder + " is a file, not a folder; choose another --out");
      }
      Files.createDirectories(folder);
      List<Path> present;
      try (Stream<Path> s = Files.list(folder)) {
        present = s.sorted().toList();
      }
      if (present.isEmpty()) {
        return;
      }
      if (!force) {
        throw new EngineException(
            folder
                + " is not empty ("
                + present.size()
                + " entries, e.g. "
                + present.getFirst().getFileName()
                + "); choose an empty or new folder, or pass --force to overwrite the model there");
      }
      for (Path p : present) {
        String name = p.getFileName().toString();
        if (Files.isRegularFile(p)
            && (FILES.contains(name)
                || name.endsWith(".safetensors")
                || name.equals("model.safetensors.index.json"))) {
          Files.delete(p);
        }
      }
    } catch (IOException e) {
      throw new EngineException("cannot prepare " + folder + ": " + e.getMessage(), e);
    }
  }
}
