// Convention: the quickstart owns model/ in its run folder. The tiny model there is made again only
// when its README.txt (the spec and the corpus's SHA-256, written last) differs from what this run
// would write, and a folder holding files the quickstart did not write is never overwritten.
package dev.entity.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.core.EntityException;
import dev.entity.core.PluginRegistry;
import dev.entity.core.resource.Storage;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.ModelConfig;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.template.ChatMessage;
import dev.entity.training.checksum.FileChecksums;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.TokenizedDataset;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code entity-train quickstart}: the main job on built-in defaults, in minutes on a laptop CPU:
 * the project's {@code configs/quickstart.yaml} on {@code data/sample.jsonl} and a tiny llama made
 * on the spot ({@link TinyModel}: random weights, a BPE tokenizer learned from the dataset, the
 * ChatML template) in {@code model/} of the run folder, reused by later runs.
 */
@Command(
    name = "quickstart",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Run all six stages on built-in defaults: sample data, a tiny model made on the spot.",
    description = {
      "Makes a tiny llama (2 layers, hidden 256, 512-token vocabulary, random weights, a BPE"
          + " tokenizer learned from the dataset, ChatML template) in model/ of the run folder"
          + " (default runs/quickstart), or reuses the one there, then runs"
          + " configs/quickstart.yaml on data/sample.jsonl (100 alpaca records):",
      "  input  load, validate and split the dataset; write the split to dataset/",
      "  parse  check the LoRA config against the model, estimate memory, auto-adjust",
      "  do     train a LoRA adapter for 40 steps: final-model/, checkpoints, metrics, report",
      "  review perplexity, BLEU, ROUGE and sample answers against the base model: PASS/FAIL",
      "  output export/: the adapter, the merged model, a Q8_0 GGUF, an Ollama Modelfile",
      "About a minute on 2 CPU cores. Everything written stays inside the run folder; the"
          + " loss trend and where each file is are printed at the end.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train quickstart",
      "  entity-train quickstart --output /tmp/qs --dataset my-data.jsonl",
      "  entity-train quickstart --model models/smollm2-135m lora_r=8",
      "  entity-train quickstart max_steps=5 training_config.max_seq_length=256"
    })
final class QuickstartCommand implements Callable<Integer> {

  /**
   * The quickstart's model: small enough that a few dozen LoRA steps on the sample data take well
   * under two minutes on 2 cores, wide enough (hidden 256 over a 512-token vocabulary) that LoRA on
   * random weights can still move the loss visibly.
   */
  static final TinyModel.Spec MODEL =
      new TinyModel.Spec(Architecture.LLAMA, 512, 256, 2, 42, 0.05f);

  /** The file that says which spec and corpus made the folder; written last. */
  static final String STAMP = "README.txt";

  private static final String STAMP_TITLE = "Tiny model written by `entity-train quickstart`";

  @ParentCommand Main main;

  @Spec CommandSpec spec;

  @Option(
      names = "--output",
      paramLabel = "DIR",
      description = "Run folder (default: ${DEFAULT-VALUE}).",
      defaultValue = "runs/quickstart")
  Path output;

  @Option(
      names = "--dataset",
      paramLabel = "PATH",
      description =
          "Dataset file instead of the project's data/sample.jsonl (the tiny model's tokenizer"
              + " is learned from it).")
  Path dataset;

  @Option(
      names = "--model",
      paramLabel = "DIR",
      description = "A model folder to use instead of making the tiny model.")
  Path model;

  @Parameters(
      paramLabel = "KEY=VALUE",
      arity = "0..*",
      description = "Config overrides, as for train, e.g. max_steps=10 or lora_r=8.")
  List<String> overrides = new ArrayList<>();

  /**
   * The model folder the quickstart used.
   *
   * @param folder the folder
   * @param config its config.json
   * @param reused whether it was there already (else made in this run)
   * @param seconds how long making it took (0 when reused)
   */
  record TinyModelFolder(Path folder, ModelConfig config, boolean reused, double seconds) {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Path base = Path.of("").toAbsolutePath();
    Path project = ProjectFolder.find();
    Path data = (dataset != null ? dataset : project.resolve("data/sample.jsonl")).toAbsolutePath();
    Path folder = output.toAbsolutePath().normalize();
    out.println(
        "entity-train quickstart: sample data and a tiny model, in "
            + PlanReport.relative(base, folder.toString()));
    Path modelFolder;
    if (model != null) {
      modelFolder = model.toAbsolutePath().normalize();
      out.println("Model: " + PlanReport.relative(base, modelFolder.toString()) + " (--model)");
    } else {
      TinyModelFolder tiny = ensureTinyModel(folder.resolve("model"), MODEL, data);
      modelFolder = tiny.folder();
      out.println(describe(tiny, base, data));
    }
    out.println();
    out.flush();
    long started = System.currentTimeMillis();
    TrainingJob job = new TrainingJob(PluginRegistry.discover(), System::getenv, main.input, out);
    int code =
        job.run(
            new TrainingJob.Request(
                project.resolve(ProjectFolder.MARKER),
                List.of(data.toString()),
                modelFolder.toString(),
                folder,
                null,
                false,
                overrides));
    out.println();
    out.print(runFolderReport(folder, base, started));
    out.println();
    out.println("Next:");
    out.println(
        "  ./entity-train train --config configs/quickstart.yaml --output "
            + output
            + " --model "
            + PlanReport.relative(base, modelFolder.toString())
            + " max_steps=80");
    Path merged = folder.resolve("export/merged");
    if (Files.isRegularFile(merged.resolve("config.json"))) {
      out.println("  ./entity-train chat --model " + PlanReport.relative(base, merged.toString()));
    }
    out.println("  ./entity-train estimate-memory --shape smollm2-135m --method lora");
    out.println("  ./entity-train --help");
    return code;
  }

  /**
   * What the run folder holds after a run, and how the loss went (from metrics.jsonl); of the
   * checkpoints, only those written since {@code startedMillis} (earlier runs' stay on disk).
   */
  static String runFolderReport(Path folder, Path base, long startedMillis) {
    StringBuilder s = new StringBuilder();
    lossTrend(folder.resolve("metrics.jsonl")).ifPresent(line -> s.append(line).append('\n'));
    s.append("In ").append(PlanReport.relative(base, folder.toString())).append(":\n");
    for (String[] entry : RUN_FOLDER_ENTRIES) {
      List<String> present =
          Stream.of(entry[0].split(" "))
              .filter(name -> Files.exists(folder.resolve(name)))
              .map(name -> Files.isDirectory(folder.resolve(name)) ? name + "/" : name)
              .toList();
      if (!present.isEmpty()) {
        s.append(String.format(Locale.ROOT, "  %-38s %s%n", String.join(" ", present), entry[1]));
      }
    }
    try (Stream<Path> entries = Files.list(folder)) {
      List<String> checkpoints =
          entries
              .filter(p -> p.getFileName().toString().startsWith("checkpoint-"))
              .filter(p -> modifiedMillis(p) >= startedMillis)
              .map(p -> p.getFileName().toString())
              .sorted(
                  Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder()))
              .toList();
      if (!checkpoints.isEmpty()) {
        s.append(
            String.format(
                Locale.ROOT,
                "  %-38s %s%n",
                String.join("/ ", checkpoints) + "/",
                "this run's checkpoints (train ... --resume latest goes on from the newest)"));
      }
    } catch (IOException e) {
      // a folder that cannot be listed has no checkpoints to show
    }
    return s.toString();
  }

  private static long modifiedMillis(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return Long.MIN_VALUE;
    }
  }

  /** Run folder entries worth pointing at, with what they are. */
  private static final String[][] RUN_FOLDER_ENTRIES = {
    {"model", "the tiny base model (random weights)"},
    {"dataset", "the split: train.jsonl, validation.jsonl"},
    {"final-model", "the trained LoRA adapter (PEFT layout) with the tokenizer and trainer state"},
    {"export", "adapter/ (PEFT), merged/ (HF folder), gguf/ (llama.cpp), Modelfile (Ollama)"},
    {"report.md report.html loss.png", "the run report and the loss curve"},
    {"metrics.jsonl metrics.csv tensorboard", "every logged metric"},
    {"events.jsonl", "every event of the run"}
  };

  /** "Training loss 6.43 (step 5) -> 5.66 (step 40); validation ..." from metrics.jsonl. */
  static Optional<String> lossTrend(Path metrics) {
    if (!Files.isRegularFile(metrics)) {
      return Optional.empty();
    }
    List<double[]> train = new ArrayList<>();
    List<double[]> eval = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (Stream<String> lines = Files.lines(metrics, StandardCharsets.UTF_8)) {
      for (String line : (Iterable<String>) lines::iterator) {
        JsonNode record;
        try {
          record = json.readTree(line);
        } catch (IOException e) {
          continue; // a line cut by a crash; the report says what it can
        }
        String kind = record.path("kind").asText();
        if (kind.equals("train") && record.path("loss").isNumber()) {
          train.add(new double[] {record.path("step").asDouble(), record.path("loss").asDouble()});
        } else if (kind.equals("eval") && record.path("eval_loss").isNumber()) {
          eval.add(
              new double[] {record.path("step").asDouble(), record.path("eval_loss").asDouble()});
        }
      }
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
    if (train.isEmpty()) {
      return Optional.empty();
    }
    StringBuilder s = new StringBuilder("Training loss ").append(trend(train, false));
    if (!eval.isEmpty()) {
      s.append("; validation loss ").append(trend(eval, true));
    }
    return Optional.of(s.toString());
  }

  private static String trend(List<double[]> points, boolean perplexity) {
    double[] first = points.getFirst();
    double[] last = points.getLast();
    String from = String.format(Locale.ROOT, "%.2f (step %d)", first[1], (long) first[0]);
    String to = String.format(Locale.ROOT, "%.2f (step %d)", last[1], (long) last[0]);
    String text = points.size() == 1 ? to : from + " -> " + to;
    if (perplexity) {
      text +=
          points.size() == 1
              ? String.format(Locale.ROOT, ", perplexity %.1f", Math.exp(last[1]))
              : String.format(
                  Locale.ROOT, ", perplexity %.1f -> %.1f", Math.exp(first[1]), Math.exp(last[1]));
    }
    return text;
  }

  private static String describe(TinyModelFolder tiny, Path base, Path data) {
    ModelConfig c = tiny.config();
    return String.format(
        Locale.ROOT,
        "Model: %s, a tiny %s (%d layers, hidden %d, vocabulary %,d, %,d parameters, random"
            + " weights; tokenizer learned from %s, ChatML template), %s%n"
            + "It has learned nothing yet: its loss starts near ln(vocabulary) = %.2f.",
        PlanReport.relative(base, tiny.folder().toString()),
        c.architecture().name().toLowerCase(Locale.ROOT),
        c.numLayers(),
        c.hiddenSize(),
        c.vocabSize(),
        c.parameterCount(),
        PlanReport.relative(base, data.toString()),
        tiny.reused()
            ? "reused (made by an earlier quickstart from the same spec and data)"
            : String.format(Locale.ROOT, "made in %.1f s", tiny.seconds()),
        Math.log(c.vocabSize()));
  }

  /**
   * Makes the tiny model {@code spec} in {@code dir} with a tokenizer learned from the records of
   * {@code corpus}, unless the folder already holds exactly that model.
   *
   * @throws EntityException when the corpus cannot be read, or {@code dir} holds files that a
   *     quickstart did not write
   */
  static TinyModelFolder ensureTinyModel(Path dir, TinyModel.Spec spec, Path corpus) {
    String stamp = stamp(spec, corpus);
    Path stampFile = dir.resolve(STAMP);
    if (matches(dir, stampFile, stamp)) {
      return new TinyModelFolder(dir, ModelConfig.load(dir), true, 0);
    }
    refuseForeignFolder(dir, stampFile);
    List<Conversation> conversations =
        DatasetLoader.load(DatasetOptions.of(corpus).withValidationSplit(0).withShuffle(false))
            .all();
    List<List<ChatMessage>> texts = new ArrayList<>(conversations.size());
    conversations.forEach(c -> texts.add(TokenizedDataset.chatMessages(c)));
    long start = System.nanoTime();
    try {
      Files.deleteIfExists(stampFile);
      TinyModel.Result result;
      try (CpuBackend backend = new CpuBackend(1)) {
        result = TinyModel.write(backend, spec, texts, dir, true);
      }
      Storage.writeAtomically(
          stampFile, stream -> stream.write(stamp.getBytes(StandardCharsets.UTF_8)));
      return new TinyModelFolder(dir, result.config(), false, (System.nanoTime() - start) / 1e9);
    } catch (IOException | EngineException e) {
      throw new EntityException(
          "cannot write the tiny model into " + dir + ": " + e.getMessage(), e);
    }
  }

  private static boolean matches(Path dir, Path stampFile, String stamp) {
    try {
      if (!Files.isRegularFile(stampFile)
          || !Files.readString(stampFile, StandardCharsets.UTF_8).equals(stamp)) {
        return false;
      }
    } catch (IOException e) {
      return false;
    }
    return TinyModel.FILES.stream().allMatch(name -> Files.isRegularFile(dir.resolve(name)));
  }

  /** A folder is ours when it is empty, missing, or has a quickstart's README.txt. */
  private static void refuseForeignFolder(Path dir, Path stampFile) {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      if (entries.findAny().isEmpty()) {
        return;
      }
      if (Files.isRegularFile(stampFile)
          && Files.readString(stampFile, StandardCharsets.UTF_8)
              .contains("entity-train quickstart")) {
        return;
      }
    } catch (IOException e) {
      throw new EntityException("cannot read the model folder " + dir + ": " + e.getMessage(), e);
    }
    throw new EntityException(
        dir
            + " holds files the quickstart did not write; choose another run folder (--output)"
            + " or use that model with --model "
            + dir);
  }

  /** What the stamp file says for a spec and a corpus (the corpus by its SHA-256). */
  static String stamp(TinyModel.Spec spec, Path corpus) {
    return String.format(
        Locale.ROOT,
        "%s: random weights, a BPE tokenizer learned from the dataset, the ChatML template.%n"
            + "The quickstart makes it again when the spec or the dataset changes; delete this"
            + " folder to force that.%n%n"
            + "architecture: %s%nvocabulary: %d%nhidden: %d%nlayers: %d%nseed: %d%nstd: %s%n"
            + "dataset sha256: %s%n",
        STAMP_TITLE,
        spec.architecture().name().toLowerCase(Locale.ROOT),
        spec.vocabSize(),
        spec.hiddenSize(),
        spec.numLayers(),
        spec.seed(),
        Float.toString(spec.std()),
        sha256(corpus));
  }

  private static String sha256(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new EntityException(
          "the dataset "
              + file
              + (Files.exists(file) ? " is not a file" : " does not exist")
              + "; give a dataset file with --dataset");
    }
    return FileChecksums.sha256(file);
  }
}
