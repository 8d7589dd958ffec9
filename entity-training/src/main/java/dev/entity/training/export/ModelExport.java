// Convention: folders inside the output are fixed: merged/ (adapter folded into its base),
// huggingface/ (a fully fine-tuned model), adapter/, gguf/, and Modelfile at the top; a GGUF or
// Modelfile asked for without a Hugging Face folder still gets the merged/ folder it is made from.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.format.gguf.GgmlType;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.template.ChatTemplate;
import dev.entity.engine.tokenizer.Tokenizer;
import dev.entity.training.checksum.FileChecksums;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs one export ({@link ExportRequest}): the library call behind the {@code model_export} plugin
 * and {@code entity-train export}. Every file is verified after it is written (see {@link
 * HfModelExport}, {@link AdapterExport}, {@link GgufFileExport}, {@link OllamaModelfile}).
 */
public final class ModelExport {

  /**
   * One thing written.
   *
   * @param format the export format's config name (or {@code merged})
   * @param path the folder or file
   * @param detail what it is and how it was checked, for people
   * @param sha256 the file's checksum (GGUF), or null for folders (see their SHA256SUMS)
   */
  public record Written(String format, String path, String detail, String sha256) {}

  private ModelExport() {}

  /** Writes every requested format; {@code log} gets one line per step. */
  public static List<Written> run(Backend backend, ExportRequest req, Consumer<String> log) {
    Set<ExportFormat> f = req.formats();
    Path out = req.outputPath();
    List<Written> written = new ArrayList<>();
    boolean wantsModelFolder =
        f.contains(ExportFormat.HUGGINGFACE) || f.contains(ExportFormat.SAFETENSORS);
    boolean wantsGguf = f.contains(ExportFormat.GGUF) || f.contains(ExportFormat.OLLAMA);
    boolean adapterOnlyGguf = req.isAdapter() && !req.mergeAdapter();
    String ggufName = null;
    Path ggufModel = null;
    Path ggufAdapter = null;

    if (req.isAdapter()
        && (f.contains(ExportFormat.ADAPTER) || (wantsModelFolder && !req.mergeAdapter()))) {
      Path dir = out.resolve("adapter");
      log.accept("exporting the PEFT adapter to " + dir);
      AdapterExport.export(backend, req.adapterPath(), req.basePath(), dir);
      card(req, true, null).write(dir);
      FileChecksums.writeManifest(dir);
      written.add(
          new Written(
              "adapter", dir.toString(), "PEFT adapter, loaded onto its base to check", null));
    }

    Path modelFolder = null; // the Hugging Face folder GGUF is converted from
    if (req.isAdapter() && req.mergeAdapter() && (wantsModelFolder || wantsGguf)) {
      modelFolder = out.resolve("merged");
      log.accept("merging the adapter into " + req.basePath() + " -> " + modelFolder);
      AdapterMerge.Result m =
          AdapterMerge.merge(
              backend,
              req.basePath(),
              req.adapterPath(),
              modelFolder,
              req.dtype(),
              req.quantizedBase());
      written.add(
          new Written(
              "merged",
              modelFolder.toString(),
              String.format(
                  Locale.ROOT,
                  "merged model (%s), probe logits within %.1e of base+adapter, weights read back",
                  req.dtype().name().toLowerCase(Locale.ROOT),
                  m.maxRelativeDifference()),
              null));
    } else if (!req.isAdapter() && wantsModelFolder) {
      modelFolder = out.resolve("huggingface");
      log.accept("writing the Hugging Face folder " + modelFolder);
      try (Decoder d = Decoder.load(backend, req.modelPath(), Decoder.Options.full())) {
        HfModelExport.write(
            d, req.modelPath(), modelFolder, req.dtype(), HfModelExport.DEFAULT_SHARD_BYTES);
      } catch (EngineException e) {
        throw new EntityException(
            "cannot load the model in " + req.modelPath() + ": " + e.getMessage(), e);
      }
      written.add(
          new Written(
              "huggingface",
              modelFolder.toString(),
              "Hugging Face folder, weights read back",
              null));
    } else if (!req.isAdapter()) {
      modelFolder = req.modelPath();
    }

    if (wantsGguf) {
      String type = req.quantization().name().toLowerCase(Locale.ROOT);
      Path dir = out.resolve("gguf");
      if (adapterOnlyGguf) {
        ggufModel = dir.resolve("base-" + type + ".gguf");
        ggufAdapter = dir.resolve("adapter-f32.gguf");
        log.accept(
            "converting the base model to " + ggufModel + " and the adapter to " + ggufAdapter);
        written.add(
            gguf(
                "gguf", GgufFileExport.model(req.basePath(), ggufModel, req.quantization(), null)));
        written.add(
            gguf(
                "gguf-adapter",
                GgufFileExport.adapter(req.adapterPath(), req.basePath(), ggufAdapter)));
      } else {
        ggufModel = dir.resolve("model-" + type + ".gguf");
        log.accept("converting " + modelFolder + " to " + ggufModel);
        written.add(
            gguf(
                "gguf",
                GgufFileExport.model(
                    modelFolder, ggufModel, req.quantization(), req.ollamaModelName())));
      }
      ggufName = ggufModel.getFileName().toString();
    }

    if (modelFolder != null && !modelFolder.equals(req.modelPath())) {
      card(req, false, ggufName).write(modelFolder);
      FileChecksums.writeManifest(modelFolder);
    }

    if (f.contains(ExportFormat.OLLAMA)) {
      written.addAll(ollama(req, ggufModel, ggufAdapter, log));
    }
    return List.copyOf(written);
  }

  private static Written gguf(String format, GgufFileExport.Result r) {
    return new Written(
        format,
        r.file().toString(),
        String.format(
            Locale.ROOT,
            "GGUF %s, %d tensors read back, %,d bytes",
            r.type().name().toLowerCase(Locale.ROOT),
            r.tensors(),
            r.bytes()),
        r.sha256());
  }

  private static List<Written> ollama(
      ExportRequest req, Path ggufModel, Path ggufAdapter, Consumer<String> log) {
    Path source = req.isAdapter() ? req.basePath() : req.modelPath();
    Tokenizer tokenizer;
    ChatTemplate template;
    try {
      tokenizer = Tokenizer.load(source);
      template = ChatTemplate.fromTokenizer(tokenizer, null);
    } catch (EngineException e) {
      throw new EntityException("ollama: no Modelfile written: " + e.getMessage(), e);
    }
    Tokenizer.SpecialTokens s = tokenizer.specialTokens();
    String bos = s.addBos() ? s.bos() : null;
    OllamaModelfile.Result mf =
        OllamaModelfile.write(
            req.outputPath(),
            template,
            bos,
            s.eos(),
            new OllamaModelfile.Spec(
                ggufModel, ggufAdapter, req.systemPrompt(), req.ollamaParameters()));
    List<Written> out = new ArrayList<>();
    out.add(
        new Written(
            "ollama",
            mf.file().toString(),
            "Modelfile ("
                + mf.family().name().toLowerCase(Locale.ROOT)
                + " TEMPLATE checked against the training template; stop "
                + String.join(" ", mf.stops())
                + ")",
            FileChecksums.sha256(mf.file())));
    Optional<Path> exe =
        req.runOllama() ? OllamaRunner.findOnPath(System.getenv("PATH")) : Optional.empty();
    OllamaRunner.Outcome o =
        OllamaRunner.run(
            exe,
            mf.file(),
            req.ollamaModelName(),
            OllamaRunner.DEFAULT_API,
            Duration.ofMinutes(10));
    if (o.ran()) {
      log.accept(
          "ollama create "
              + req.ollamaModelName()
              + " done; the model answered: "
              + o.answer().strip());
    } else {
      log.accept("Ollama is not installed here; to create and try the model run:");
      o.commands().forEach(c -> log.accept("  " + c));
    }
    return out;
  }

  private static ModelCard card(ExportRequest req, boolean adapter, String ggufName) {
    ModelCard c = req.card();
    boolean ollama = req.formats().contains(ExportFormat.OLLAMA);
    return new ModelCard(
        c.modelId(),
        req.baseModelName() != null ? req.baseModelName() : c.baseModel(),
        adapter,
        c.license(),
        c.tags(),
        c.datasets(),
        c.description(),
        c.training(),
        c.datasetSummary(),
        c.metrics(),
        ggufName,
        ollama ? req.ollamaModelName() : null);
  }

  /** The folder pushed: the merged or Hugging Face folder, else the adapter. */
  public static Path pushFolder(List<Written> written) {
    for (String kind : List.of("merged", "huggingface", "adapter")) {
      for (Written w : written) {
        if (w.format().equals(kind)) {
          return Path.of(w.path());
        }
      }
    }
    throw new EntityException(
        "push_to_hub: nothing to push; export huggingface or adapter together with push_to_hub");
  }

  /** The GGUF type named by a user, as an {@link EntityException} when unknown. */
  public static GgmlType quantization(String name) {
    return GgufFileExport.parseType(name == null ? "q8_0" : name);
  }
}
