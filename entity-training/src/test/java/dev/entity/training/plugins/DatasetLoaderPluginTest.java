package dev.entity.training.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.core.PluginRegistry;
import dev.entity.training.data.Conversation;
import dev.entity.training.data.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetLoaderPluginTest {

  @TempDir Path dir;

  private Path alpaca(String name, int n) throws IOException {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append("{\"instruction\":\"question ")
          .append(i)
          .append("\",\"input\":\"\",\"output\":\"answer ")
          .append(i)
          .append("\"}\n");
    }
    return Files.writeString(dir.resolve(name), s.toString());
  }

  @Test
  void storesInfoAndTheSplitConversationsForTheTrainer() throws IOException {
    Path data = alpaca("data.jsonl", 20);
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(1L << 34),
            Map.of("dataset_path", data.toString(), "validation_split", 0.25, "seed", 7),
            null);

    assertThat(run.result.succeeded()).as(run.result.summary()).isTrue();
    PreparedDataset info = run.dataset;
    assertThat(info.info().records()).isEqualTo(20);
    assertThat(info.info().train()).isEqualTo(15);
    assertThat(info.info().validation()).isEqualTo(5);
    assertThat(info.format()).isEqualTo("alpaca");
    assertThat(info.info().seed()).isEqualTo(7);
    assertThat(info.info().statistics().turns()).isEqualTo(40);
    assertThat(info.info().summary()).contains("15 for training");
    assertThat(Path.of(info.trainFile())).isEqualTo(dir.resolve("run/dataset/train.jsonl"));

    List<Conversation> train = info.train();
    List<Conversation> validation = info.validation();
    assertThat(train).hasSize(15);
    assertThat(validation).hasSize(5);
    assertThat(train.getFirst().messages())
        .extracting(m -> m.role())
        .containsExactly(Role.USER, Role.ASSISTANT);
    // The split is a partition of the source records.
    List<String> prompts =
        java.util.stream.Stream.concat(train.stream(), validation.stream())
            .map(c -> c.messages().getFirst().content())
            .sorted()
            .toList();
    assertThat(prompts)
        .hasSize(20)
        .doesNotHaveDuplicates()
        .allMatch(p -> p.startsWith("question "));
  }

  @Test
  void theSplitDependsOnlyOnTheSeed() throws IOException {
    Path data = alpaca("data.jsonl", 30);
    Map<String, Object> config = Map.of("dataset_path", data.toString(), "seed", 3);
    PipelineRun a = PipelineRun.run(dir.resolve("a"), PipelineRun.cpuHost(1L << 34), config, null);
    PipelineRun b = PipelineRun.run(dir.resolve("b"), PipelineRun.cpuHost(1L << 34), config, null);
    PipelineRun c =
        PipelineRun.run(
            dir.resolve("c"),
            PipelineRun.cpuHost(1L << 34),
            Map.of("dataset_path", data.toString(), "seed", 4),
            null);
    assertThat(messages(a.dataset.validation())).isEqualTo(messages(b.dataset.validation()));
    assertThat(messages(a.dataset.validation())).isNotEqualTo(messages(c.dataset.validation()));
  }

  private static List<?> messages(List<Conversation> conversations) {
    return conversations.stream().map(Conversation::messages).toList();
  }

  @Test
  void severalFilesAreConcatenatedAndNoValidationFileWhenTheSplitIsZero() throws IOException {
    Path one = alpaca("one.jsonl", 3);
    Path two =
        Files.writeString(
            dir.resolve("two.jsonl"),
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"hello\"}]}\n");
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(1L << 34),
            Map.of("dataset_path", List.of(one.toString(), two.toString()), "validation_split", 0),
            null);
    assertThat(run.dataset.info().records()).isEqualTo(4);
    assertThat(run.dataset.format()).isEqualTo("mixed");
    assertThat(run.dataset.info().files()).extracting(f -> f.records()).containsExactly(3L, 1L);
    assertThat(run.dataset.validationFile()).isNull();
    assertThat(run.dataset.validation()).isEmpty();
    assertThat(dir.resolve("run/dataset/validation.jsonl")).doesNotExist();
  }

  @Test
  void aMissingFileFailsTheInputStageNamingIt() {
    PipelineRun run =
        PipelineRun.run(
            dir.resolve("run"),
            PipelineRun.cpuHost(1L << 34),
            Map.of("dataset_path", dir.resolve("nope.jsonl").toString()),
            null);
    assertThat(run.failure())
        .contains("plugin 'dataset_loader' failed in stage INPUT")
        .contains("nope.jsonl")
        .contains("not found");
  }

  @Test
  void aBadRecordFailsWithFileLineAndFieldUnlessSkipped() throws IOException {
    Path data =
        Files.writeString(
            dir.resolve("bad.jsonl"),
            "{\"instruction\":\"q\",\"output\":\"a\"}\n"
                + "{\"instruction\":\"q2\",\"output\":\"\"}\n"
                + "{\"instruction\":\"q3\",\"output\":\"a3\"}\n");
    PipelineRun strict =
        PipelineRun.run(
            dir.resolve("strict"),
            PipelineRun.cpuHost(1L << 34),
            Map.of("dataset_path", data.toString()),
            null);
    assertThat(strict.failure()).contains("bad.jsonl:2").contains("output");

    PipelineRun lenient =
        PipelineRun.run(
            dir.resolve("lenient"),
            PipelineRun.cpuHost(1L << 34),
            Map.of("dataset_path", data.toString(), "skip_invalid", true, "validation_split", 0),
            null);
    assertThat(lenient.dataset.info().records()).isEqualTo(2);
    assertThat(lenient.dataset.info().skipped()).isEqualTo(1);
    assertThat(lenient.dataset.skippedExamples())
        .singleElement()
        .asString()
        .contains("bad.jsonl:2");
  }

  @Test
  void badConfigFieldsAreReportedWithTheirPathsWhenTheWorkflowIsBuilt() {
    assertThatThrownBy(
            () ->
                PipelineRun.run(
                    dir.resolve("run"),
                    PipelineRun.cpuHost(1L << 34),
                    Map.of("validation_split", 1.5, "dataset_format", "yaml", "max_samples", -1),
                    null))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("config.validation_split")
        .hasMessageContaining("config.dataset_format: must be one of auto, alpaca")
        .hasMessageContaining("config.max_samples")
        .hasMessageContaining("config.dataset_path: is required");
  }

  @Test
  void isFoundByTheRegistry() {
    PluginRegistry registry = PluginRegistry.discover();
    assertThat(registry.get(DatasetLoaderPlugin.NAME)).isInstanceOf(DatasetLoaderPlugin.class);
    assertThat(registry.get(TrainingConfigPlugin.NAME)).isInstanceOf(TrainingConfigPlugin.class);
  }
}
