package dev.entity.training.cli;

import dev.entity.core.EntityException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.training.export.ExportFormat;
import dev.entity.training.export.ExportRequest;
import dev.entity.training.export.HfModelExport;
import dev.entity.training.export.ModelCard;
import dev.entity.training.export.ModelExport;
import dev.entity.training.hub.HubSettings;
import dev.entity.training.hub.HubUploader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code entity-train export}: the model_export plugin's work from the command line. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Export a trained model: Hugging Face, PEFT adapter, merged, GGUF, Ollama.",
    description = {
      "Exports a full model folder (--model) or a LoRA adapter with its base (--adapter"
          + " --base) in the formats of --format: huggingface (or safetensors), adapter, gguf,"
          + " ollama. A LoRA adapter is merged into its base for huggingface/gguf/ollama unless"
          + " --no-merge (then Ollama gets FROM base GGUF + ADAPTER). Every file is verified"
          + " after writing; each folder gets a model card and a SHA256SUMS manifest.",
      "",
      "The Ollama Modelfile's TEMPLATE comes from the model's chat template family and is"
          + " checked to render exactly the training prompt; stop parameters are its"
          + " end-of-turn strings. When `ollama` is on the PATH the model is created and asked"
          + " a question; otherwise the commands are printed.",
      ""
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  entity-train export --adapter runs/r1/final-model --base models/smollm2-135m \\",
      "      --out export --format adapter,huggingface,gguf,ollama --quantization q8_0",
      "  entity-train export --model runs/r2/final-model --out export --format gguf \\",
      "      --quantization q4_0",
      "  entity-train export --adapter A --base B --out export --format huggingface \\",
      "      --push --repo me/my-model --private --license apache-2.0"
    })
final class ExportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", paramLabel = "DIR", description = "A full model folder to export.")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR", description = "A PEFT adapter folder to export.")
  Path adapter;

  @Option(names = "--base", paramLabel = "DIR", description = "The adapter's base model folder.")
  Path base;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Export folder.")
  Path out;

  @Option(
      names = "--format",
      split = ",",
      defaultValue = "huggingface",
      paramLabel = "FORMAT",
      description =
          "huggingface, safetensors, adapter, gguf, ollama; comma-separated (default: ${DEFAULT-VALUE}).")
  List<String> formats;

  @Option(names = "--no-merge", description = "Keep a LoRA adapter separate from its base.")
  boolean noMerge;

  @Option(
      names = "--qlora",
      description =
          "The adapter was trained with QLoRA (NF4 base, double quantization): merge it into the"
              + " base as the run saw it, NF4-dequantized to BF16.")
  boolean qlora;

  @Option(
      names = "--quantization",
      defaultValue = "q8_0",
      paramLabel = "TYPE",
      description = "GGUF type: f32, f16, bf16, q8_0, q4_0, q5_1 (default: ${DEFAULT-VALUE}).")
  String quantization;

  @Option(
      names = "--dtype",
      defaultValue = "f32",
      paramLabel = "TYPE",
      description = "Hugging Face weight type: f32, bf16, f16 (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(
      names = "--base-name",
      paramLabel = "ID",
      description = "The base model's Hub id for the model card.")
  String baseName;

  @Option(
      names = "--license",
      paramLabel = "ID",
      description = "Model card license, e.g. apache-2.0.")
  String license;

  @Option(names = "--tag", paramLabel = "TAG", description = "Model card tag (repeatable).")
  List<String> tags = new ArrayList<>();

  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      description = "Model card dataset (repeatable).")
  List<String> datasets = new ArrayList<>();

  @Option(names = "--description", paramLabel = "TEXT", description = "Model card description.")
  String description;

  @Option(names = "--system", paramLabel = "TEXT", description = "Ollama SYSTEM prompt.")
  String system;

  @Option(
      names = "--param",
      paramLabel = "KEY=VALUE",
      description = "Ollama PARAMETER, e.g. temperature=0.7 (repeatable).")
  Map<String, Double> params = new LinkedHashMap<>();

  @Option(
      names = "--ollama-name",
      defaultValue = "entity-model",
      paramLabel = "NAME",
      description = "Ollama model name (default: ${DEFAULT-VALUE}).")
  String ollamaName;

  @Option(
      names = "--no-ollama-create",
      description = "Do not run `ollama create` even when Ollama is installed.")
  boolean noOllamaCreate;

  @Option(
      names = "--push",
      description = "Push the merged/Hugging Face (or adapter) folder to the Hub.")
  boolean push;

  @Option(
      names = "--repo",
      paramLabel = "ID",
      description = "Hub repository for --push (owner/name).")
  String repo;

  @Option(names = "--private", description = "Create the Hub repository private.")
  boolean privateRepo;

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    if (push && repo == null) {
      throw new EntityException("--push needs --repo owner/name");
    }
    Set<ExportFormat> set = EnumSet.noneOf(ExportFormat.class);
    formats.forEach(f -> set.add(ExportFormat.parse(f)));
    Path source = adapter != null ? base : model;
    ModelCard card =
        new ModelCard(
            repo != null ? repo : out.toAbsolutePath().normalize().getFileName().toString(),
            null,
            false,
            license,
            tags,
            datasets,
            description,
            Map.of(),
            null,
            Map.of(),
            null,
            null);
    ExportRequest request =
        new ExportRequest(
            set,
            model,
            adapter,
            base,
            baseName != null
                ? baseName
                : source == null
                    ? null
                    : source.toAbsolutePath().normalize().getFileName().toString(),
            !noMerge,
            HfModelExport.parseDType(dtype),
            ModelExport.quantization(quantization),
            out,
            card,
            system,
            params,
            ollamaName,
            !noOllamaCreate,
            qlora ? Nf4Config.of("bfloat16", true) : null);
    List<ModelExport.Written> written;
    try (Backend backend =
        new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors()))) {
      written = ModelExport.run(backend, request, w::println);
    }
    for (ModelExport.Written x : written) {
      w.println(x.format() + ": " + x.path() + " (" + x.detail() + ")");
    }
    if (push) {
      HubSettings s =
          PushCommand.settings != null ? PushCommand.settings : HubSettings.fromEnvironment();
      String url =
          new HubUploader(s, w::println)
              .push(
                  ModelExport.pushFolder(written),
                  repo,
                  HubUploader.Options.of(privateRepo, "Upload model trained with entity-training"))
              .url();
      w.println("pushed to " + url);
    }
    return 0;
  }
}
