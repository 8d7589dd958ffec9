package dev.entity.training.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.Plugin;
import dev.entity.core.PluginRegistry;
import dev.entity.core.Stage;
import dev.entity.core.resource.Memory;
import dev.entity.core.workflow.Workflow;
import dev.entity.core.workflow.WorkflowExecutor;
import dev.entity.core.workflow.WorkflowResult;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.DeviceInfo;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.Architecture;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.TinyModel;
import dev.entity.engine.template.ChatMessage;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.Message;
import dev.entity.training.train.CheckpointStore;
import dev.entity.training.train.MemoryEstimator;
import dev.entity.training.train.TinyTraining;
import dev.entity.training.train.TrainingConfig;
import dev.entity.training.train.metrics.InMemoryMetricsSink;
import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FineTuningPluginTest {

  @TempDir static Path shared;
  static Path model;

  @TempDir Path dir;

  @BeforeAll
  static void writeModel() throws IOException {
    model = TinyTraining.writeModel(Files.createDirectories(shared.resolve("model")));
  }

  static final DeviceInfo HOST = new DeviceInfo(2, 64L << 30, 32L << 30, 1L << 30, List.of());

  /** Stand-in data preparation: characters of each conversation as token ids, right-padded. */
  static FineTuningPlugin.TrainingData prepare(
      PreparedDataset dataset, Path modelFolder, TrainingConfig config, Object context) {
    List<Batch> train = batches(dataset.train(), config.batchSize());
    List<Batch> validation = batches(dataset.validation(), config.batchSize());
    return new FineTuningPlugin.TrainingData(
        new TinyTraining.ListSource(train, config.seed()), validation, "stand-in batches");
  }

  private static List<Batch> batches(List<Conversation> conversations, int batchSize) {
    List<Batch> out = new ArrayList<>();
    int seq = TinyTraining.SEQ;
    for (int from = 0; from < conversations.size(); from += batchSize) {
      int n = Math.min(batchSize, conversations.size() - from);
      int[][] ids = new int[n][seq];
      int[][] mask = new int[n][seq];
      int[][] labels = new int[n][seq];
      for (int r = 0; r < n; r++) {
        StringBuilder text = new StringBuilder();
        for (Message m : conversations.get(from + r).messages()) {
          text.append(m.content());
        }
        for (int t = 0; t < seq; t++) {
          boolean real = t < text.length();
          ids[r][t] = real ? 3 + text.charAt(t) % (TinyTraining.VOCAB - 3) : 0;
          mask[r][t] = real ? 1 : 0;
          labels[r][t] = real ? ids[r][t] : -100;
        }
      }
      out.add(Batch.fromHuggingFace(ids, mask, labels));
    }
    return out;
  }

  private Path dataset() throws IOException {
    Path data = dir.resolve("data.jsonl");
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      s.append("{\"instruction\": \"count to ")
          .append(i)
          .append("\", \"input\": \"\", \"output\": \"")
          .append("one two three four ".repeat(1 + i % 3))
          .append("\"}\n");
    }
    Files.writeString(data, s);
    return data;
  }

  private Map<String, Object> trainingConfig(Path out) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("model_name_or_path", model.toString());
    c.put("training_method", "lora");
    c.put("lora_r", 4);
    c.put("lora_alpha", 8);
    c.put("target_modules", List.of("q_proj", "v_proj"));
    c.put("batch_size", 2);
    c.put("max_steps", 6);
    c.put("learning_rate", 5e-3);
    c.put("logging_steps", 1);
    c.put("save_steps", 3);
    c.put("evaluation_steps", 3);
    c.put("max_seq_length", TinyTraining.SEQ);
    c.put("output_dir", out.toString());
    c.put("device", "cpu");
    return c;
  }

  private WorkflowResult run(
      FineTuningPlugin plugin, Map<String, ?> fineTuning, Map<String, Object> training, Path memory)
      throws IOException {
    PluginRegistry registry =
        PluginRegistry.of(new DatasetLoaderPlugin(), new TrainingConfigPlugin(() -> HOST), plugin);
    Workflow.Builder b = Workflow.builder("test", registry).runFolder(dir.resolve("run"));
    b.add(
        Stage.INPUT,
        DatasetLoaderPlugin.NAME,
        Map.of("dataset_path", dataset().toString(), "validation_split", 0.25, "seed", 3));
    b.add(Stage.PARSE, TrainingConfigPlugin.NAME, training);
    b.add(Stage.DO, FineTuningPlugin.NAME, fineTuning);
    if (memory != null) {
      b.memoryFile(memory);
    }
    return new WorkflowExecutor(b.build(), text -> {}, Clock.systemUTC()).run("");
  }

  @Test
  void trainsLoraFromTheStoredDatasetAndPlanAndRecordsEverythingInMemory() throws IOException {
    InMemoryMetricsSink sink = new InMemoryMetricsSink();
    FineTuningPlugin plugin =
        new FineTuningPlugin(() -> HOST, FineTuningPluginTest::prepare, (out, summary) -> sink);
    Path out = dir.resolve("out");
    Path memoryFile = dir.resolve("memory.duckdb");
    WorkflowResult result =
        run(plugin, Map.of("bf16", true, "max_grad_norm", 0.5), trainingConfig(out), memoryFile);
    try (Memory memory = Memory.file(memoryFile)) {
      assertThat(result).as(result.summary()).isInstanceOf(WorkflowResult.Completed.class);
      FineTuningPlugin.Summary summary =
          memory.get(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class).orElseThrow();
      assertThat(summary.outcome()).isEqualTo("completed");
      assertThat(summary.steps()).isEqualTo(6);
      assertThat(summary.method()).isEqualTo("lora");
      assertThat(summary.bestEvalLoss()).isNotNull();
      Path finalModel = Path.of(summary.finalModel());
      assertThat(finalModel).isEqualTo(out.resolve(CheckpointStore.FINAL_MODEL));
      assertThat(finalModel.resolve(LoraAdapter.WEIGHTS)).isRegularFile();
      assertThat(finalModel.resolve("tokenizer_config.json")).isRegularFile();
      List<Memory.Metric> metrics = memory.metrics(result.runId());
      assertThat(metrics)
          .extracting(Memory.Metric::name)
          .contains("loss", "learning_rate", "eval_loss", "eval_perplexity");
      assertThat(metrics.stream().filter(m -> m.name().equals("loss")).count()).isEqualTo(6);
      assertThat(sink.records(MetricRecord.Kind.TRAIN)).hasSize(6);
      assertThat(sink.start().config()).containsEntry("max_grad_norm", 0.5);
      assertThat(sink.checkpoints()).extracting(c -> c.step()).containsExactly(3L, 6L);
    }
  }

  @Test
  void otherOptimizersAreRefusedWhenTheWorkflowIsBuilt() {
    FineTuningPlugin plugin =
        new FineTuningPlugin(() -> HOST, FineTuningPluginTest::prepare, (out, summary) -> sink());
    assertThatThrownBy(
            () -> run(plugin, Map.of("optim", "sgd"), trainingConfig(dir.resolve("o")), null))
        .hasMessageContaining("optim")
        .hasMessageContaining("must be adamw");
  }

  private static InMemoryMetricsSink sink() {
    return new InMemoryMetricsSink();
  }

  @Test
  void bothHalfPrecisionsAreAClearError() throws IOException {
    FineTuningPlugin plugin =
        new FineTuningPlugin(() -> HOST, FineTuningPluginTest::prepare, (out, summary) -> sink());
    WorkflowResult both =
        run(plugin, Map.of("fp16", true, "bf16", true), trainingConfig(dir.resolve("a")), null);
    assertThat(both.summary()).contains("fp16 and bf16 are both true");
  }

  @Test
  void qloraTrainsWithNf4BaseWeightsAndSavesAPeftAdapter() throws IOException {
    InMemoryMetricsSink sink = new InMemoryMetricsSink();
    FineTuningPlugin plugin =
        new FineTuningPlugin(() -> HOST, FineTuningPluginTest::prepare, (out, summary) -> sink);
    Path out = dir.resolve("q");
    Map<String, Object> qlora = trainingConfig(out);
    qlora.put("training_method", "qlora");
    Path memoryFile = dir.resolve("qlora.duckdb");
    WorkflowResult result = run(plugin, Map.of(), qlora, memoryFile);
    assertThat(result).as(result.summary()).isInstanceOf(WorkflowResult.Completed.class);
    try (Memory memory = Memory.file(memoryFile)) {
      FineTuningPlugin.Summary summary =
          memory.get(FineTuningPlugin.MEMORY_KEY, FineTuningPlugin.Summary.class).orElseThrow();
      assertThat(summary.method()).isEqualTo("qlora");
      assertThat(Path.of(summary.finalModel()).resolve(LoraAdapter.WEIGHTS)).isRegularFile();
    }
    assertThat(sink.records(MetricRecord.Kind.TRAIN)).isNotEmpty();
  }

  /** Runs fine_tuning alone after a step that stores {@code plan} as the PARSE stage would. */
  private WorkflowResult runWithPlan(TrainingPlan plan) {
    FineTuningPlugin plugin =
        new FineTuningPlugin(() -> HOST, FineTuningPluginTest::prepare, (out, summary) -> sink());
    PluginRegistry registry = PluginRegistry.of(plugin);
    Workflow.Builder b = Workflow.builder("test", registry).runFolder(dir.resolve("run"));
    b.add(
        Stage.PARSE,
        Plugin.of(
            "store_plan",
            Plugin.NoConfig.class,
            Set.of(Stage.PARSE),
            Set.of("memory"),
            (context, config) -> {
              context.remember(TrainingConfigPlugin.MEMORY_KEY, plan);
              return null;
            }),
        new Plugin.NoConfig());
    b.add(Stage.DO, FineTuningPlugin.NAME, Map.of());
    return new WorkflowExecutor(b.build(), text -> {}, Clock.systemUTC()).run("");
  }

  private TrainingPlan plan(String modelPath, boolean fits) {
    TrainingConfig c =
        TrainingConfig.defaults(modelPath).with("output_dir", dir.resolve("o").toString());
    long big = 1L << 40;
    return new TrainingPlan(
        c.toMap(),
        modelPath,
        "llama",
        1000,
        100,
        "cpu",
        "CPU, 2 cores, 1.00 GiB RAM available",
        1L << 30,
        fits ? List.of() : List.of(new MemoryEstimator.Item("activations", big, "per layer")),
        fits ? "" : "Memory estimate: activations 1 TiB",
        fits ? 0 : big,
        fits,
        List.of(),
        fits ? List.of() : List.of("set gradient_checkpointing: true: estimated 2 GiB"),
        dir.resolve("o").toString());
  }

  @Test
  void modelNotFoundUnsupportedArchitectureAndNotEnoughMemoryAreClearErrors() throws IOException {
    assertThat(runWithPlan(plan(dir.resolve("missing").toString(), true)).summary())
        .contains("model not found")
        .contains("missing");

    Path bert = Files.createDirectories(dir.resolve("bert"));
    Files.writeString(
        bert.resolve("config.json"),
        "{\"model_type\": \"bert\", \"architectures\": [\"BertModel\"]}");
    assertThat(runWithPlan(plan(bert.toString(), true)).summary())
        .contains("cannot load the model in")
        .contains("bert");

    AtomicReference<String> summary = new AtomicReference<>();
    summary.set(runWithPlan(plan(model.toString(), false)).summary());
    assertThat(summary.get())
        .contains("not enough memory")
        .contains("1.00 TiB")
        .contains("Memory estimate")
        .contains("set gradient_checkpointing: true");
  }

  @Test
  void trainsATinyModelWithItsTokenizerAndChatTemplateAndTheLossFalls() throws IOException {
    List<List<ChatMessage>> corpus = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      corpus.add(
          List.of(
              ChatMessage.user("count to " + i),
              ChatMessage.assistant("one two three four ".repeat(1 + i % 3).strip())));
    }
    Path tiny;
    try (Backend backend = new CpuBackend(1)) {
      tiny =
          TinyModel.write(
                  backend,
                  new TinyModel.Spec(Architecture.LLAMA, 300, 32, 2, 5, 0.05f),
                  corpus,
                  dir.resolve("tiny"),
                  false)
              .folder();
    }
    InMemoryMetricsSink sink = new InMemoryMetricsSink();
    FineTuningPlugin plugin =
        new FineTuningPlugin(
            () -> HOST,
            FineTuningPlugin::prepareWithTokenizer,
            (out, summary) ->
                MetricsSink.of(List.of(FineTuningPlugin.standardSinks(out, summary), sink)));
    Map<String, Object> training = trainingConfig(dir.resolve("out"));
    training.put("model_name_or_path", tiny.toString());
    training.put("max_seq_length", 64);
    training.put("max_steps", 8);
    training.put("learning_rate", 2e-2);
    Path memoryFile = dir.resolve("memory.duckdb");
    WorkflowResult result = run(plugin, Map.of(), training, memoryFile);
    assertThat(result).as(result.summary()).isInstanceOf(WorkflowResult.Completed.class);
    List<MetricRecord> train = sink.records(MetricRecord.Kind.TRAIN);
    assertThat(train).hasSize(8);
    assertThat(train.getLast().value(MetricRecord.LOSS).orElseThrow())
        .isLessThan(train.getFirst().value(MetricRecord.LOSS).orElseThrow());
    try (Memory memory = Memory.file(memoryFile)) {
      assertThat(memory.keys())
          .contains(FineTuningPlugin.DATA_KEY + ".training", FineTuningPlugin.MEMORY_KEY);
    }
    Path finalModel = dir.resolve("out").resolve(CheckpointStore.FINAL_MODEL);
    assertThat(finalModel.resolve(LoraAdapter.CONFIG)).isRegularFile();
    assertThat(finalModel.resolve("tokenizer.json")).isRegularFile();
    for (String file : List.of("metrics.jsonl", "metrics.csv", "report.md", "report.html")) {
      assertThat(dir.resolve("out").resolve(file)).isRegularFile();
    }
    assertThat(Files.readString(dir.resolve("out").resolve("report.md")))
        .contains("training tokens");
  }
}
