// Convention: the default corpus is found, in order, under -Dentity.home, $ENTITY_HOME, the folders
// above the running jar (the launcher's repository root) and the folders above the working
// directory; the first data/sample.jsonl wins.
package dev.entity.training.cli;

import dev.entity.core.EntityException;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.template.ChatMessage;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.TokenizedDataset;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code entity-train make-tiny-model}: writes a small Hugging Face model folder with random
 * weights and a BPE tokenizer learned from a corpus (by default the repository's {@code
 * data/sample.jsonl}), for the quickstart, tests and trying the pipeline without a download. A thin
 * shell over {@link TinyModel}.
 */
@Command(
    name = "make-tiny-model",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    header = "Write a tiny random model folder with a tokenizer, for tests and demos.",
    description = {
      "Writes config.json, model.safetensors, tokenizer.json, tokenizer_config.json (with the"
          + " chat template) and generation_config.json. The same inputs give a byte-identical"
          + " folder. The model knows nothing (random weights); it is for trying the pipeline,"
          + " tests and demos without a download.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train make-tiny-model --arch llama --out models/tiny",
      "  entity-train make-tiny-model --arch llama --out runs/qs-model \\",
      "      --hidden 256 --layers 2 --vocab 512",
      "  entity-train make-tiny-model --arch gpt2 --out models/tiny-gpt2 \\",
      "      --corpus my-data.jsonl"
    })
public final class MakeTinyModelCommand implements Callable<Integer> {

  static final Map<String, Architecture> ARCHITECTURES =
      Map.of("llama", Architecture.LLAMA, "qwen2", Architecture.QWEN2, "gpt2", Architecture.GPT2);

  static final String SAMPLE = "data/sample.jsonl";

  @Option(
      names = "--arch",
      paramLabel = "NAME",
      required = true,
      description = "llama, qwen2 or gpt2 (llama and qwen2 use ChatML; gpt2 uses alpaca).")
  String arch;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "The folder to write.")
  Path out;

  @Option(
      names = "--corpus",
      paramLabel = "FILE",
      description =
          "A dataset file (any supported format) whose texts train the tokenizer; default: the"
              + " repository's "
              + SAMPLE
              + ".")
  Path corpus;

  @Option(
      names = "--vocab",
      paramLabel = "N",
      defaultValue = "" + TinyModel.Spec.DEFAULT_VOCAB,
      description = "Target vocabulary size (default ${DEFAULT-VALUE}).")
  int vocab;

  @Option(
      names = "--hidden",
      paramLabel = "N",
      defaultValue = "" + TinyModel.Spec.DEFAULT_HIDDEN,
      description = "Hidden size, a multiple of 16 (default ${DEFAULT-VALUE}).")
  int hidden;

  @Option(
      names = "--layers",
      paramLabel = "N",
      defaultValue = "" + TinyModel.Spec.DEFAULT_LAYERS,
      description = "Decoder layers (default ${DEFAULT-VALUE}).")
  int layers;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "" + TinyModel.Spec.DEFAULT_SEED,
      description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--std",
      paramLabel = "STD",
      defaultValue = "" + TinyModel.Spec.DEFAULT_STD,
      description = "Standard deviation of the random weights (default ${DEFAULT-VALUE}).")
  float std;

  @Option(names = "--force", description = "Overwrite the model in a folder that is not empty.")
  boolean force;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Architecture architecture = ARCHITECTURES.get(arch);
    if (architecture == null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--arch must be one of llama, qwen2, gpt2, not '" + arch + "'");
    }
    TinyModel.Spec modelSpec = new TinyModel.Spec(architecture, vocab, hidden, layers, seed, std);
    Path corpusFile = corpus != null ? corpus : defaultCorpus();
    List<Conversation> conversations =
        DatasetLoader.load(DatasetOptions.of(corpusFile).withValidationSplit(0).withShuffle(false))
            .all();
    List<List<ChatMessage>> texts = new ArrayList<>(conversations.size());
    for (Conversation c : conversations) {
      texts.add(TokenizedDataset.chatMessages(c));
    }
    long start = System.nanoTime();
    TinyModel.Result result;
    try (CpuBackend backend = new CpuBackend(1)) {
      result = TinyModel.write(backend, modelSpec, texts, out, force);
    }
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s: %s, %d layers, hidden %d, vocabulary %,d, %,d parameters, tokenizer from"
                + " %s (%,d records) in %.1f s%n",
            out,
            arch,
            result.config().numLayers(),
            result.config().hiddenSize(),
            result.config().vocabSize(),
            result.config().parameterCount(),
            corpusFile,
            conversations.size(),
            (System.nanoTime() - start) / 1e9);
    return 0;
  }

  /** The repository's sample data, for when no --corpus is given. */
  static Path defaultCorpus() {
    List<Path> roots = new ArrayList<>();
    Optional.ofNullable(System.getProperty("entity.home")).map(Path::of).ifPresent(roots::add);
    Optional.ofNullable(System.getenv("ENTITY_HOME")).map(Path::of).ifPresent(roots::add);
    jarFolder().ifPresent(p -> ancestors(p, roots));
    ancestors(Path.of("").toAbsolutePath(), roots);
    for (Path root : roots) {
      Path candidate = root.resolve(SAMPLE);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new EntityException(
        "cannot find "
            + SAMPLE
            + " (looked under -Dentity.home, $ENTITY_HOME, and the folders above the program and"
            + " the working directory); pass --corpus FILE");
  }

  private static Optional<Path> jarFolder() {
    try {
      var source = MakeTinyModelCommand.class.getProtectionDomain().getCodeSource();
      return source == null
          ? Optional.empty()
          : Optional.of(Path.of(source.getLocation().toURI()).toAbsolutePath());
    } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
      return Optional.empty();
    }
  }

  private static void ancestors(Path from, List<Path> into) {
    for (Path p = from; p != null; p = p.getParent()) {
      into.add(p);
    }
  }
}
