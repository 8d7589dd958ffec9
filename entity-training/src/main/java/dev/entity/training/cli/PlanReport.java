package dev.entity.training.cli;

import dev.entity.core.Stage;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.training.data.DatasetFile;
import dev.entity.training.data.DatasetInfo;
import dev.entity.training.plugins.PreparedDataset;
import dev.entity.training.plugins.TrainingPlan;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plan a run shows after PARSE: the dataset the INPUT stage loaded and the training config,
 * device and memory estimate the PARSE stage settled on, as read back from memory; and the note on
 * the stages the workflow leaves out. Text only; {@link TrainingJob} decides when to print it.
 */
final class PlanReport {

  /** What each later stage does and its plugin, for stages a workflow leaves empty. */
  static final Map<Stage, String> LATER_STAGES =
      Map.of(
          Stage.DO,
          "DO (fine_tuning): fine-tune the model with full, LoRA or QLoRA training, with"
              + " checkpoints, resume and metrics",
          Stage.REVIEW,
          "REVIEW (evaluation): perplexity, BLEU, ROUGE, sample generations and a comparison"
              + " with the base model, with PASS/FAIL thresholds",
          Stage.OUTPUT,
          "OUTPUT (model_export): Hugging Face folder, PEFT adapter, merged model, GGUF and"
              + " Ollama");

  private PlanReport() {}

  /** The dataset part: sources, split, statistics, skipped records, where the split went. */
  static String dataset(PreparedDataset prepared, Path base) {
    DatasetInfo d = prepared.info();
    StringBuilder s = new StringBuilder("Dataset (input, dataset_loader)\n");
    for (DatasetFile f : d.files()) {
      s.append(
          String.format(
              Locale.ROOT,
              "  %s: %s format, %,d records%s%n",
              relative(base, Path.of(f.path()).toAbsolutePath().normalize().toString()),
              f.format().configName(),
              f.records(),
              f.skipped() > 0 ? ", " + f.skipped() + " bad records skipped" : ""));
    }
    s.append(
        String.format(
            Locale.ROOT,
            "  split: %,d for training, %,d for validation (validation_split %s, %s)%n",
            d.train(),
            d.validation(),
            d.validationSplit(),
            d.shuffle() ? "shuffled with seed " + d.seed() : "not shuffled"));
    var st = d.statistics();
    s.append(
        String.format(
            Locale.ROOT,
            "  size: %,d turns, %,d characters; record length p50 %,d, p90 %,d, p99 %,d, max %,d"
                + " characters%n",
            st.turns(),
            st.characters(),
            st.p50(),
            st.p90(),
            st.p99(),
            st.maxLength()));
    if (d.skipped() > 0) {
      s.append(String.format(Locale.ROOT, "  skipped %,d bad records (skip_invalid)", d.skipped()));
      if (!prepared.skippedExamples().isEmpty()) {
        s.append(", first: ").append(prepared.skippedExamples().getFirst());
      }
      s.append('\n');
    }
    s.append("  split written to ").append(relative(base, prepared.trainFile()));
    if (prepared.validationFile() != null) {
      s.append(" and ").append(relative(base, prepared.validationFile()));
    }
    return s.append('\n').toString();
  }

  /** The training part: method, model, batch, device, the estimate and what was adjusted. */
  static String training(TrainingPlan p, Path base) {
    Map<String, Object> c = p.config();
    StringBuilder s = new StringBuilder("Training config (parse, training_config)\n");
    s.append("  model: ").append(relative(base, p.modelPath()));
    if (p.architecture() != null) {
      s.append(
          String.format(
              Locale.ROOT,
              " (%s, %,d parameters, %,d trainable)",
              p.architecture(),
              p.parameters(),
              p.trainableParameters()));
    }
    s.append('\n');
    int maxSteps = ((Number) c.get("max_steps")).intValue();
    s.append(
        String.format(
            Locale.ROOT,
            "  method: %s, learning rate %s, batch %s x %s accumulation, max_seq_length %s, %s%n",
            c.get("training_method"),
            new BigDecimal(String.valueOf(c.get("learning_rate")))
                .stripTrailingZeros()
                .toPlainString(),
            c.get("batch_size"),
            c.get("gradient_accumulation_steps"),
            c.get("max_seq_length"),
            maxSteps > 0 ? maxSteps + " steps" : c.get("num_epochs") + " epochs"));
    s.append("  device: ").append(p.deviceDescription()).append('\n');
    s.append("  output_dir: ").append(relative(base, p.outputDir())).append('\n');
    if (p.estimated()) {
      s.append(p.estimateTable().strip().indent(2));
      s.append(
          String.format(
              Locale.ROOT,
              "  %s: estimated %s of %s%n",
              p.fits() ? "fits" : "does NOT fit",
              DeviceInfo.formatBytes(p.estimatedBytes()),
              DeviceInfo.formatBytes(p.deviceMemoryBytes())));
    }
    for (String change : p.adjustments()) {
      s.append("  adjusted: ").append(change).append('\n');
    }
    for (String warning : p.warnings()) {
      s.append("  warning: ").append(warning).append('\n');
    }
    return s.toString();
  }

  /** The note on the pipeline stages the workflow leaves empty, or empty text when none. */
  static String notBuilt(List<Stage> emptyStages) {
    List<String> lines =
        emptyStages.stream()
            .filter(LATER_STAGES::containsKey)
            .map(stage -> "  " + LATER_STAGES.get(stage))
            .toList();
    if (lines.isEmpty()) {
      return "";
    }
    return "Not in this workflow (add the plugin to the stage to run it; this run stopped after"
        + " the stages above):\n"
        + String.join("\n", lines)
        + "\n";
  }

  /** {@code path} relative to {@code base} when it lies inside it, as given otherwise. */
  static String relative(Path base, String path) {
    try {
      Path p = Path.of(path);
      if (p.isAbsolute() && base != null && p.startsWith(base)) {
        String r = base.relativize(p).toString();
        return r.isEmpty() ? "." : r;
      }
    } catch (RuntimeException e) {
      // not a path (a Hub id): shown as given
    }
    return path;
  }
}
