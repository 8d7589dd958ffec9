package dev.entity.training.data;

import static dev.entity.training.data.DatasetFiles.alpaca;
import static dev.entity.training.data.DatasetFiles.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetLoaderTest {

  @TempDir Path dir;

  private static List<String> instructions(List<Conversation> conversations) {
    return conversations.stream().map(c -> c.messages().getFirst().content()).toList();
  }

  @Test
  void sameSeedGivesTheSameSplitAndOtherSeedsDiffer() {
    Path f = alpaca(dir, "d.jsonl", 50);
    DatasetOptions options = DatasetOptions.of(f).withSeed(7);
    LoadedDataset a = DatasetLoader.load(options);
    LoadedDataset b = DatasetLoader.load(options);
    LoadedDataset c = DatasetLoader.load(options.withSeed(8));
    assertThat(instructions(a.train())).isEqualTo(instructions(b.train()));
    assertThat(instructions(a.validation())).isEqualTo(instructions(b.validation()));
    assertThat(instructions(a.train())).isNotEqualTo(instructions(c.train()));
    Set<String> all = new HashSet<>(instructions(a.train()));
    all.addAll(instructions(a.validation()));
    assertThat(all).hasSize(50);
    assertThat(instructions(a.train()))
        .isNotEqualTo(instructions(DatasetLoader.load(options.withShuffle(false)).train()));
  }

  @Test
  void splitPinnedToTheDocumentedGenerator() {
    // SplitMix64 + Fisher-Yates is specified, so this order must never change across JDKs.
    List<String> expected =
        new ArrayList<>(List.of("q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"));
    new SplitMix64(42).shuffle(expected);
    LoadedDataset d =
        DatasetLoader.load(DatasetOptions.of(alpaca(dir, "d.jsonl", 10)).withSeed(42));
    assertThat(instructions(d.all())).isEqualTo(expected);
    assertThat(d.validation()).hasSize(1);
  }

  @Test
  void validationRatioIsRoundedAndKeepsBothSidesNonEmpty() {
    Path f = alpaca(dir, "d.jsonl", 100);
    assertThat(DatasetLoader.load(DatasetOptions.of(f)).validation()).hasSize(10);
    assertThat(DatasetLoader.load(DatasetOptions.of(f).withValidationSplit(0.25)).validation())
        .hasSize(25);
    assertThat(DatasetLoader.load(DatasetOptions.of(f).withValidationSplit(0)).validation())
        .isEmpty();
    assertThat(DatasetLoader.validationCount(3, 0.1)).isEqualTo(1);
    assertThat(DatasetLoader.validationCount(2, 0.99)).isEqualTo(1);
    assertThat(DatasetLoader.validationCount(1, 0.5)).isZero();
    assertThat(DatasetLoader.validationCount(10, 0.15)).isEqualTo(2);
  }

  @Test
  void maxSamplesTakesTheFirstRecordsBeforeTheSplit() {
    Path f = alpaca(dir, "d.jsonl", 30);
    LoadedDataset d =
        DatasetLoader.load(DatasetOptions.of(f).withMaxSamples(10).withValidationSplit(0.2));
    assertThat(d.size()).isEqualTo(10);
    assertThat(d.validation()).hasSize(2);
    assertThat(instructions(d.all())).allMatch(s -> Integer.parseInt(s.substring(1)) < 10);
    assertThat(d.summary()).contains("limited to the first 10 records by max_samples");
  }

  @Test
  void maxSamplesStopsBeforeLaterFilesAndLaterProblems() {
    Path f = alpaca(dir, "d.jsonl", 5);
    Path broken = text(dir, "broken.jsonl", "{not json\n");
    LoadedDataset d = DatasetLoader.load(DatasetOptions.of(f, broken).withMaxSamples(5));
    assertThat(d.size()).isEqualTo(5);
    assertThat(d.files()).hasSize(1);
  }

  @Test
  void shuffleOffKeepsFileOrderWithValidationAtTheEnd() {
    Path f = alpaca(dir, "d.jsonl", 10);
    LoadedDataset d =
        DatasetLoader.load(DatasetOptions.of(f).withShuffle(false).withValidationSplit(0.2));
    assertThat(instructions(d.train()))
        .containsExactly("q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7");
    assertThat(instructions(d.validation())).containsExactly("q8", "q9");
    assertThat(d.summary()).contains("not shuffled");
  }

  @Test
  void severalPathsAreConcatenatedInOrder() {
    Path a = alpaca(dir, "a.jsonl", 2);
    Path b =
        text(
            dir,
            "b.json",
            "[\n  {\"prompt\": \"p0\", \"completion\": \"c0\"},\n  {\"prompt\": \"p1\",\n   \"completion\": \"c1\"}\n]\n");
    LoadedDataset d =
        DatasetLoader.load(DatasetOptions.of(a, b).withShuffle(false).withValidationSplit(0));
    assertThat(instructions(d.train())).containsExactly("q0", "q1", "p0", "p1");
    assertThat(d.train().get(3).line()).isEqualTo(3);
    assertThat(d.files())
        .containsExactly(
            new DatasetFile(a.toString(), DatasetFormat.ALPACA, 2, 0),
            new DatasetFile(b.toString(), DatasetFormat.JSON, 2, 0));
  }

  @Test
  void jsonFileHoldingLinesIsReadAsJsonLines() {
    Path f = text(dir, "lines.json", "{\"text\":\"a\"}\n{\"text\":\"b\"}\n");
    assertThat(DatasetLoader.load(DatasetOptions.of(f)).size()).isEqualTo(2);
  }

  @Test
  void statisticsAndSummary() {
    Path f =
        DatasetFiles.lines(
            dir,
            "s.jsonl",
            "{\"text\":\"abcd\"}",
            "{\"prompt\":\"ab\",\"completion\":\"c\"}",
            "{\"text\":\"" + "x".repeat(100) + "\"}");
    LoadedDataset d = DatasetLoader.load(DatasetOptions.of(f).withValidationSplit(0));
    DatasetStatistics s = d.statistics();
    assertThat(s).isEqualTo(new DatasetStatistics(3, 4, 107, 3, 4, 100, 100, 100));
    assertThat(s.meanLength()).isCloseTo(107 / 3.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(d.summary())
        .startsWith(
            "Loaded 3 records from 1 file ("
                + f
                + ": json, 3 records): 3 for training and 0 for validation")
        .contains("shuffled with seed 42")
        .contains(
            "3 records, 4 turns, 107 characters; record length in characters p50 4, p90 100, p99 100, max 100");
  }

  @Test
  void infoDescribesTheDatasetWithoutItsRecordsAndSerializesAsJson() throws Exception {
    Path f = alpaca(dir, "d.jsonl", 20);
    LoadedDataset d = DatasetLoader.load(DatasetOptions.of(f).withSeed(5).withMaxSamples(10));
    DatasetInfo info = d.info();
    assertThat(info.files())
        .containsExactly(new DatasetFile(f.toString(), DatasetFormat.ALPACA, 10, 0));
    assertThat(
            List.of(
                info.records(),
                info.train(),
                info.validation(),
                info.skipped(),
                info.seed(),
                info.maxSamples()))
        .containsExactly(10L, 9L, 1L, 0L, 5L, 10L);
    assertThat(info.summary()).isEqualTo(d.summary());
    var json = new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(info);
    assertThat(json.get("statistics").get("records").asLong()).isEqualTo(10);
    assertThat(json.get("files").get(0).get("format").asText()).isEqualTo("ALPACA");
  }

  @Test
  void percentilesUseNearestRank() {
    List<Conversation> cs = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      cs.add(Conversation.of(Message.assistant("y".repeat(i))));
    }
    DatasetStatistics s = DatasetStatistics.of(cs);
    assertThat(List.of(s.minLength(), s.p50(), s.p90(), s.p99(), s.maxLength()))
        .containsExactly(1L, 100L, 180L, 198L, 200L);
    assertThat(DatasetStatistics.of(List.of()))
        .isEqualTo(new DatasetStatistics(0, 0, 0, 0, 0, 0, 0, 0));
  }

  @Test
  void skipInvalidCountsAndReportsInsteadOfFailing() {
    Path f =
        DatasetFiles.lines(
            dir,
            "d.jsonl",
            "{\"instruction\":\"q\",\"output\":\"a\"}",
            "{\"instruction\":\"\",\"output\":\"a\"}",
            "{broken",
            "{\"instruction\":\"q3\",\"output\":\"a3\"}");
    assertThatThrownBy(() -> DatasetLoader.load(DatasetOptions.of(f)))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith("2 bad records in the dataset:")
        .hasMessageContaining(f + ":2: instruction: is empty")
        .hasMessageContaining(f + ":3:2: invalid JSON")
        .hasMessageContaining("skip_invalid");
    LoadedDataset d = DatasetLoader.load(DatasetOptions.of(f).withSkipInvalid(true));
    assertThat(d.size()).isEqualTo(2);
    assertThat(d.skipped()).isEqualTo(2);
    assertThat(d.files().getFirst().skipped()).isEqualTo(2);
    assertThat(d.skippedExamples()).hasSize(2);
    assertThat(d.summary())
        .contains("Skipped 2 bad records as asked (skip_invalid), first: " + f + ":2: instruction");
  }

  @Test
  void allRecordsBadWithSkipIsAnEmptyDatasetError() {
    Path f = DatasetFiles.lines(dir, "d.jsonl", "{\"text\":\"\"}");
    assertThatThrownBy(() -> DatasetLoader.load(DatasetOptions.of(f).withSkipInvalid(true)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("the dataset is empty: all 1 records were bad")
        .hasMessageContaining(f + ":1: text: is empty");
  }

  @Test
  void optionsAreValidatedWithFieldNames() {
    Path f = dir.resolve("x.jsonl");
    assertThatThrownBy(() -> DatasetOptions.of(f).withValidationSplit(1))
        .isInstanceOf(EntityException.class)
        .hasMessageStartingWith("validation_split: must be at least 0 and less than 1");
    assertThatThrownBy(() -> DatasetOptions.of(f).withValidationSplit(-0.1))
        .hasMessageStartingWith("validation_split:");
    assertThatThrownBy(() -> DatasetOptions.of(f).withValidationSplit(Double.NaN))
        .hasMessageStartingWith("validation_split:");
    assertThatThrownBy(() -> DatasetOptions.of(f).withMaxSamples(-1))
        .hasMessageStartingWith("max_samples:");
    assertThatThrownBy(() -> DatasetOptions.of(List.of())).hasMessageStartingWith("dataset_path:");
    assertThatThrownBy(() -> DatasetOptions.of(f).withMaxLineBytes(0))
        .hasMessageStartingWith("max_line_bytes:");
    assertThat(DatasetOptions.paths("a.jsonl")).containsExactly(Path.of("a.jsonl"));
    assertThat(DatasetOptions.paths(List.of("a.jsonl", Path.of("b.csv"))))
        .containsExactly(Path.of("a.jsonl"), Path.of("b.csv"));
    assertThat(DatasetOptions.paths(null)).isEmpty();
    assertThatThrownBy(() -> DatasetOptions.paths(List.of("a", 3)))
        .hasMessage("dataset_path: expected a file path or a list of file paths, found 3");
    assertThatThrownBy(() -> DatasetOptions.paths(" ")).hasMessageStartingWith("dataset_path:");
    DatasetOptions o = DatasetOptions.of(f).withFormat(null);
    assertThat(o.format()).isEqualTo(DatasetFormat.AUTO);
    assertThat(o.validationSplit()).isEqualTo(0.1);
    assertThat(o.shuffle()).isTrue();
    assertThat(o.skipInvalid()).isFalse();
  }
}
