// Convention: the tuned model is what fine_tuning recorded in memory (its
// final-model folder: a PEFT adapter on the base model, or a full model), unless the config names
// model_path / adapter_path; the base model is the same weights with the adapter switched off, or
// the base folder loaded after the tuned model is closed (full fine-tuning).
package dev.entity.training.plugins;

import dev.entity.core.EntityException;
import dev.entity.core.PluginContext;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.core.resource.Storage;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.generate.ChatModel;
import dev.entity.engine.generate.GenerationOptions;
import dev.entity.engine.generate.GenerationResult;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.Batch;
import dev.entity.engine.template.ChatMessage;
import dev.entity.engine.template.LabelPolicy;
import dev.entity.training.data.BatchLayout;
import dev.entity.training.data.BatchSource;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.DatasetLoader;
import dev.entity.training.data.DatasetOptions;
import dev.entity.training.data.Message;
import dev.entity.training.data.Role;
import dev.entity.training.data.TokenizedDataset;
import dev.entity.training.eval.Bleu;
import dev.entity.training.eval.EvalMetrics;
import dev.entity.training.eval.Metric;
import dev.entity.training.eval.MetricComparison;
import dev.entity.training.eval.Perplexity;
import dev.entity.training.eval.Rouge;
import dev.entity.training.eval.Thresholds;
import dev.entity.training.eval.Verdict;
import dev.entity.training.report.EvaluationSection;
import dev.entity.training.report.RunReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The REVIEW plugin {@value #NAME}: measures the tuned model on evaluation conversations (the
 * validation split of this run, or {@code eval_dataset_path}) and compares it with the base model:
 * perplexity with the training's label masking (assistant tokens and their end-of-turn), corpus
 * BLEU and ROUGE-1/2/L of generated answers against the reference answers, and sample generations
 * side by side. Thresholds give PASS or FAIL with the reasons. The result is stored in memory
 * ({@value #MEMORY_KEY}, and one {@link Memory.Evaluation} row per metric) and returned as the
 * summary.
 */
public final class EvaluationPlugin extends BaseTrainingPlugin<EvaluationPlugin.Config> {

  /** The plugin's name in workflow YAML. */
  public static final String NAME = "evaluation";

  /** Memory key of the {@link Result}. */
  public static final String MEMORY_KEY = "evaluation.result";

  /**
   * How to generate answers for BLEU, ROUGE and the samples (snake_case keys of {@code
   * generation_config}); greedy by default, so an evaluation is reproducible.
   */
  public record GenerationSettings(
      Integer maxNewTokens,
      Double temperature,
      Double topP,
      Integer topK,
      Double repetitionPenalty,
      Long seed) {
    public GenerationSettings {
      maxNewTokens = maxNewTokens == null ? 64 : maxNewTokens;
      temperature = temperature == null ? 0.0 : temperature;
      topP = topP == null ? 1.0 : topP;
      topK = topK == null ? 0 : topK;
      repetitionPenalty = repetitionPenalty == null ? 1.0 : repetitionPenalty;
      seed = seed == null ? 0L : seed;
    }

    GenerationOptions options() {
      try {
        return new GenerationOptions(
            maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, null, null);
      } catch (EngineException e) {
        throw new EntityException("generation_config: " + e.getMessage(), e);
      }
    }
  }

  /**
   * The plugin's config.
   *
   * @param evalDatasetPath conversations to evaluate on (any dataset format); default the run's
   *     validation split
   * @param metricsToCalculate any of perplexity, bleu, rouge
   * @param numSamples prompts whose answers (tuned and base) are kept as samples
   * @param maxEvalSamples most conversations evaluated
   * @param generationConfig how answers are generated
   * @param thresholds what PASS requires
   * @param compareWithBase also evaluate the base model and report the deltas
   * @param modelPath the tuned model folder (full fine-tuning) or the base model (with an adapter);
   *     default from the training result
   * @param adapterPath the tuned adapter folder; default from the training result
   * @param maxSeqLength tokens kept per conversation for perplexity; default the training's
   * @param batchSize conversations per perplexity batch
   * @param device backend to run on
   * @param threads worker threads (0 = every core)
   */
  public record Config(
      String evalDatasetPath,
      List<String> metricsToCalculate,
      Integer numSamples,
      Integer maxEvalSamples,
      GenerationSettings generationConfig,
      Thresholds thresholds,
      Boolean compareWithBase,
      String modelPath,
      String adapterPath,
      Integer maxSeqLength,
      Integer batchSize,
      String device,
      Integer threads) {
    public Config {
      metricsToCalculate =
          metricsToCalculate == null
              ? List.of("perplexity", "bleu", "rouge")
              : List.copyOf(metricsToCalculate);
      for (String m : metricsToCalculate) {
        if (!Set.of("perplexity", "bleu", "rouge").contains(m.toLowerCase(Locale.ROOT))) {
          throw new EntityException(
              "metrics_to_calculate: unknown metric '" + m + "'; use perplexity, bleu, rouge");
        }
      }
      numSamples = numSamples == null ? 3 : numSamples;
      maxEvalSamples = maxEvalSamples == null ? 50 : maxEvalSamples;
      if (numSamples < 0 || maxEvalSamples < 1) {
        throw new EntityException(
            "num_samples must be >= 0 and max_eval_samples >= 1, got "
                + numSamples
                + " and "
                + maxEvalSamples);
      }
      generationConfig =
          generationConfig == null
              ? new GenerationSettings(null, null, null, null, null, null)
              : generationConfig;
      thresholds = thresholds == null ? Thresholds.none() : thresholds;
      compareWithBase = compareWithBase == null || compareWithBase;
      batchSize = batchSize == null ? 4 : batchSize;
      device = device == null ? "cpu" : device;
      threads = threads == null ? 0 : threads;
      if (batchSize < 1 || threads < 0 || (maxSeqLength != null && maxSeqLength < 2)) {
        throw new EntityException("batch_size must be >= 1, threads >= 0 and max_seq_length >= 2");
      }
    }

    boolean wants(String metric) {
      return metricsToCalculate.stream().anyMatch(m -> m.equalsIgnoreCase(metric));
    }
  }

  /**
   * The tuned model and what it is compared with.
   *
   * @param model the model folder to load (the base model when there is an adapter)
   * @param adapter the adapter folder, or null (full fine-tuning, or an explicit model)
   * @param base the base model folder for the comparison without an adapter, or null
   */
  public record TunedModel(Path model, Path adapter, Path base) {

    /** From explicit paths, else from the training result in memory. */
    public static TunedModel resolve(PluginContext context, String modelPath, String adapterPath) {
      FineTuningPlugin.Summary trained =
          context.recall(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class).orElse(null);
      String baseModel = trained == null ? null : trained.baseModel();
      if (modelPath != null || adapterPath != null) {
        String model = modelPath != null ? modelPath : baseModel;
        if (model == null) {
          model =
              context
                  .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
                  .map(TrainingPlan::modelPath)
                  .orElse(null);
        }
        if (model == null) {
          throw new EntityException(
              "adapter_path is set but the base model is unknown; set model_path too");
        }
        return new TunedModel(
            Path.of(model), adapterPath == null ? null : Path.of(adapterPath), null);
      }
      String finalModel = trained == null ? null : trained.finalModel();
      if (finalModel == null) {
        throw new EntityException(
            "no trained model in this run: put fine_tuning in the do stage, or set model_path"
                + " (and adapter_path) in this plugin's config");
      }
      Path fin = Path.of(finalModel);
      if (Files.isRegularFile(fin.resolve(LoraAdapter.CONFIG))) {
        if (baseModel == null) {
          throw new EntityException(
              "the training result names no base model for the adapter " + fin);
        }
        return new TunedModel(Path.of(baseModel), fin, null);
      }
      return new TunedModel(fin, null, baseModel == null ? null : Path.of(baseModel));
    }

    String describe() {
      return adapter == null ? model.toString() : model + " + adapter " + adapter;
    }
  }

  /**
   * One prompt's answers side by side.
   *
   * @param prompt the last user message
   * @param reference the dataset's answer
   * @param tuned the tuned model's answer
   * @param base the base model's answer, or null when not compared
   */
  public record Sample(String prompt, String reference, String tuned, String base) {}

  /**
   * What the evaluation found (stored in memory).
   *
   * @param model the tuned model, for people
   * @param conversations conversations evaluated
   * @param tuned the tuned model's metrics by key (perplexity, bleu, rouge1, rouge2, rougeL)
   * @param base the base model's, empty when not compared
   * @param comparisons each metric for base and tuned with the delta
   * @param outcome PASS or FAIL
   * @param reasons why it failed (one per missed threshold)
   * @param passedChecks the thresholds that held
   * @param samples sample generations
   */
  public record Result(
      String model,
      int conversations,
      Map<String, Double> tuned,
      Map<String, Double> base,
      List<Map<String, Object>> comparisons,
      String outcome,
      List<String> reasons,
      List<String> passedChecks,
      List<Sample> samples) {}

  /** The plugin as the registry finds it. */
  public EvaluationPlugin() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<Stage> stages() {
    return Set.of(Stage.REVIEW);
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public String execute(PluginContext context, Config config) {
    TunedModel tuned = TunedModel.resolve(context, config.modelPath(), config.adapterPath());
    List<Conversation> conversations = evaluationConversations(context, config);
    int maxSeq =
        config.maxSeqLength() != null
            ? config.maxSeqLength()
            : context
                .recall(TrainingConfigPlugin.MEMORY_KEY, TrainingPlan.class)
                .map(p -> p.trainingConfig().maxSeqLength())
                .orElse(512);
    context
        .log()
        .info("evaluating " + tuned.describe() + " on " + conversations.size() + " conversations");
    GenerationOptions generation = config.generationConfig().options();
    List<Prompt> prompts = prompts(conversations);
    EvalMetrics tunedMetrics;
    EvalMetrics baseMetrics = null;
    List<String> tunedAnswers;
    List<String> baseAnswers = null;
    try (Backend backend = backend(config.device(), config.threads())) {
      try (ChatModel m = open(backend, tuned.model(), tuned.adapter())) {
        tunedAnswers = answers(m, prompts, config, generation);
        tunedMetrics = metrics(m, conversations, prompts, tunedAnswers, config, maxSeq);
        if (config.compareWithBase() && tuned.adapter() != null) {
          m.useAdapter(false);
          baseAnswers = answers(m, prompts, config, generation);
          baseMetrics = metrics(m, conversations, prompts, baseAnswers, config, maxSeq);
        }
      }
      if (config.compareWithBase() && tuned.adapter() == null && tuned.base() != null) {
        try (ChatModel b = open(backend, tuned.base(), null)) {
          baseAnswers = answers(b, prompts, config, generation);
          baseMetrics = metrics(b, conversations, prompts, baseAnswers, config, maxSeq);
        }
      }
    }
    Verdict verdict = Verdict.judge(config.thresholds(), tunedMetrics, baseMetrics);
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < Math.min(config.numSamples(), prompts.size()); i++) {
      Prompt p = prompts.get(i);
      samples.add(
          new Sample(
              p.lastUser(),
              p.reference(),
              tunedAnswers.get(i),
              baseAnswers == null ? null : baseAnswers.get(i)));
    }
    Result result =
        new Result(
            tuned.describe(),
            conversations.size(),
            byKey(tunedMetrics),
            baseMetrics == null ? Map.of() : byKey(baseMetrics),
            comparisons(baseMetrics, tunedMetrics),
            verdict.outcome().name(),
            verdict.reasons(),
            verdict.passedChecks(),
            samples);
    context.remember(MEMORY_KEY, result);
    storeRows(context, config.thresholds(), tunedMetrics, baseMetrics);
    addToRunReport(context, result);
    for (Sample s : samples) {
      context
          .log()
          .info(
              "sample", "prompt", s.prompt(), "tuned", s.tuned(), "base", String.valueOf(s.base()));
    }
    return summary(result, verdict);
  }

  /** A conversation cut before its last assistant message, and that message. */
  record Prompt(List<ChatMessage> messages, String lastUser, String reference) {}

  static List<Prompt> prompts(List<Conversation> conversations) {
    List<Prompt> prompts = new ArrayList<>();
    for (Conversation c : conversations) {
      List<Message> ms = c.messages();
      if (c.isPlainText() || ms.isEmpty() || ms.getLast().role() != Role.ASSISTANT) {
        continue;
      }
      List<ChatMessage> messages = new ArrayList<>();
      String lastUser = "";
      for (Message m : ms.subList(0, ms.size() - 1)) {
        messages.add(new ChatMessage(ChatMessage.Role.valueOf(m.role().name()), m.content()));
        if (m.role() == Role.USER) {
          lastUser = m.content();
        }
      }
      prompts.add(new Prompt(messages, lastUser, ms.getLast().content()));
    }
    return prompts;
  }

  private static List<Conversation> evaluationConversations(PluginContext context, Config config) {
    List<Conversation> all;
    if (config.evalDatasetPath() != null) {
      all =
          DatasetLoader.load(
                  DatasetOptions.of(Path.of(config.evalDatasetPath()))
                      .withValidationSplit(0)
                      .withShuffle(false))
              .train();
    } else {
      all = PreparedDataset.recall(context).validation();
      if (all.isEmpty()) {
        throw new EntityException(
            "the run's validation split is empty; set validation_split in the dataset_loader or"
                + " eval_dataset_path in the evaluation config");
      }
    }
    if (all.isEmpty()) {
      throw new EntityException(config.evalDatasetPath() + " holds no conversations to evaluate");
    }
    return all.subList(0, Math.min(all.size(), config.maxEvalSamples()));
  }

  private static List<String> answers(
      ChatModel m, List<Prompt> prompts, Config config, GenerationOptions generation) {
    boolean needAll = config.wants("bleu") || config.wants("rouge");
    int count = needAll ? prompts.size() : Math.min(prompts.size(), config.numSamples());
    List<String> answers = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      GenerationResult r = m.chat(prompts.get(i).messages(), generation, null);
      answers.add(r.text().strip());
    }
    return answers;
  }

  private static EvalMetrics metrics(
      ChatModel m,
      List<Conversation> conversations,
      List<Prompt> prompts,
      List<String> answers,
      Config config,
      int maxSeq) {
    Perplexity perplexity =
        config.wants("perplexity") ? perplexity(m, conversations, config, maxSeq) : null;
    EvalMetrics metrics = EvalMetrics.of(perplexity, null, null);
    if (!prompts.isEmpty()) {
      List<String> references = prompts.stream().map(Prompt::reference).toList();
      if (config.wants("bleu")) {
        metrics = metrics.with(Metric.BLEU, Bleu.corpusSingle(answers, references).score());
      }
      if (config.wants("rouge")) {
        var rouge = Rouge.corpus(answers, List.of(references));
        metrics =
            metrics
                .with(Metric.ROUGE_1, rouge.rouge1())
                .with(Metric.ROUGE_2, rouge.rouge2())
                .with(Metric.ROUGE_L, rouge.rougeL());
      }
    }
    return metrics;
  }

  /** exp(mean loss) over the labelled tokens, tokenized exactly as for training. */
  static Perplexity perplexity(
      ChatModel m, List<Conversation> conversations, Config config, int maxSeq) {
    TokenizedDataset data =
        TokenizedDataset.tokenize(
            conversations,
            m.tokenizer(),
            m.template(),
            maxSeq,
            LabelPolicy.ASSISTANT_ONLY,
            TokenizedDataset.Progress.none());
    if (data.size() == 0) {
      throw new EntityException("no evaluation conversation has a labelled (assistant) token");
    }
    BatchSource batches =
        data.evaluationBatches(BatchLayout.of(maxSeq, false, m.tokenizer()), config.batchSize());
    double lossSum = 0;
    long tokens = 0;
    for (long i = 0; i < batches.batchesPerEpoch(); i++) {
      Batch b = batches.next();
      long count = b.targetCount();
      lossSum += (double) m.decoder().loss(b) * count;
      tokens += count;
    }
    return Perplexity.fromLossSum(lossSum, tokens);
  }

  private static Map<String, Double> byKey(EvalMetrics metrics) {
    Map<String, Double> out = new LinkedHashMap<>();
    metrics.values().forEach((k, v) -> out.put(k.key(), v));
    return out;
  }

  private static List<Map<String, Object>> comparisons(EvalMetrics base, EvalMetrics tuned) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (base == null) {
      return out;
    }
    for (MetricComparison c : MetricComparison.compare(base, tuned)) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("metric", c.metric().key());
      row.put("base", c.base());
      row.put("tuned", c.tuned());
      row.put("delta", c.delta());
      row.put("improved", c.improved());
      out.add(row);
    }
    return out;
  }

  /** One evaluations row per metric, its verdict judged by the thresholds on that metric only. */
  private static void storeRows(
      PluginContext context, Thresholds t, EvalMetrics tuned, EvalMetrics base) {
    Memory memory = context.resource(Memory.class);
    long step =
        context
            .recall(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class)
            .map(FineTuningPlugin.Summary::steps)
            .orElse(0L);
    Instant now = Instant.now();
    for (var e : tuned.values().entrySet()) {
      Thresholds only = only(t, e.getKey());
      Memory.Verdict v =
          only.equals(Thresholds.none())
              ? Memory.Verdict.NONE
              : Verdict.judge(only, tuned, base).passed()
                  ? Memory.Verdict.PASS
                  : Memory.Verdict.FAIL;
      memory.addEvaluation(
          new Memory.Evaluation(context.runId(), step, e.getKey().key(), e.getValue(), v, now));
    }
    if (base != null) {
      for (var e : base.values().entrySet()) {
        memory.addEvaluation(
            new Memory.Evaluation(
                context.runId(),
                step,
                "base." + e.getKey().key(),
                e.getValue(),
                Memory.Verdict.NONE,
                now));
      }
    }
  }

  private static Thresholds only(Thresholds t, Metric m) {
    return new Thresholds(
        m == Metric.PERPLEXITY ? t.maxPerplexity() : null,
        m == Metric.BLEU ? t.minBleu() : null,
        m == Metric.ROUGE_1 ? t.minRouge1() : null,
        m == Metric.ROUGE_2 ? t.minRouge2() : null,
        m == Metric.ROUGE_L ? t.minRougeL() : null,
        m == Metric.PERPLEXITY ? t.minPerplexityImprovement() : null,
        m == Metric.BLEU ? t.minBleuImprovement() : null,
        m == Metric.ROUGE_L ? t.minRougeLImprovement() : null);
  }

  static String summary(Result r, Verdict verdict) {
    StringBuilder s =
        new StringBuilder(
            "evaluation "
                + verdict.outcome()
                + " for "
                + r.model()
                + " on "
                + r.conversations()
                + " conversations:");
    for (var e : r.tuned().entrySet()) {
      Double b = r.base().get(e.getKey());
      s.append(String.format(Locale.ROOT, " %s %.4f", e.getKey(), e.getValue()));
      if (b != null) {
        s.append(String.format(Locale.ROOT, " (base %.4f, %+.4f)", b, e.getValue() - b));
      }
      s.append(';');
    }
    s.setLength(s.length() - 1);
    if (!verdict.passed()) {
      s.append(". FAIL: ").append(String.join("; ", verdict.reasons()));
    }
    return s.toString();
  }

  /** The model (with the adapter when not null) as F32, load errors as user errors. */
  static ChatModel open(Backend backend, Path model, Path adapter) {
    try {
      return ChatModel.open(backend, model, adapter, dev.entity.engine.tensor.DType.F32);
    } catch (EngineException e) {
      throw new EntityException(
          "cannot load "
              + model
              + (adapter == null ? "" : " with the adapter " + adapter)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The backend called {@code name}, as a user error when there is none. */
  static Backend backend(String name, int threads) {
    try {
      return ChatModel.openBackend(name, threads);
    } catch (EngineException e) {
      throw new EntityException("device: " + e.getMessage(), e);
    }
  }

  /**
   * Adds the evaluation (metrics beside the base, samples, verdict) to the run report the trainer
   * wrote ({@code report.md}/{@code report.html} next to {@code final-model/}); nothing when this
   * workflow trained nothing.
   */
  private static void addToRunReport(PluginContext context, Result r) {
    Path runDir =
        context
            .recall(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class)
            .map(t -> Path.of(t.finalModel()).getParent())
            .orElse(context.resource(Storage.class).root());
    if (runDir == null || !Files.isRegularFile(runDir.resolve(RunReport.SUMMARY_JSON))) {
      return;
    }
    List<EvaluationSection.MetricRow> rows = new ArrayList<>();
    r.tuned()
        .forEach(
            (k, v) -> rows.add(new EvaluationSection.MetricRow(k, v, null, Memory.Verdict.NONE)));
    r.base()
        .forEach(
            (k, v) ->
                rows.add(
                    new EvaluationSection.MetricRow("base " + k, v, null, Memory.Verdict.NONE)));
    List<EvaluationSection.Sample> samples = new ArrayList<>();
    for (Sample s : r.samples()) {
      samples.add(new EvaluationSection.Sample(s.prompt(), s.tuned(), s.reference()));
      if (s.base() != null) {
        samples.add(
            new EvaluationSection.Sample(s.prompt() + " (base model)", s.base(), s.reference()));
      }
    }
    EvaluationSection section =
        new EvaluationSection(
            "Evaluation of " + r.model() + " on " + r.conversations() + " conversations",
            rows,
            samples,
            "PASS".equals(r.outcome()) ? Memory.Verdict.PASS : Memory.Verdict.FAIL);
    RunReport.write(RunReport.readSummary(runDir).withEvaluations(List.of(section)), runDir);
    context.log().info("evaluation added to the run report", "folder", runDir.toString());
  }
}
