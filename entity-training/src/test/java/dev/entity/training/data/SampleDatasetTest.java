package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sample dataset shipped at the repository root is the first thing a user trains on. */
class SampleDatasetTest {

  private static final Path SAMPLE = Path.of("..", "data", "sample.jsonl");

  @Test
  void sampleHasOneHundredValidDistinctAlpacaRecords() {
    LoadedDataset d =
        DatasetLoader.load(DatasetOptions.of(SAMPLE).withValidationSplit(0).withShuffle(false));
    assertThat(d.size()).isEqualTo(100);
    assertThat(d.skipped()).isZero();
    assertThat(d.files())
        .singleElement()
        .extracting(DatasetFile::format)
        .isEqualTo(DatasetFormat.ALPACA);
    Set<String> instructions = new HashSet<>();
    Set<String> outputs = new HashSet<>();
    for (Conversation c : d.train()) {
      List<Message> m = c.messages();
      assertThat(m).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT);
      assertThat(instructions.add(m.get(0).content().split("\n\n")[0]))
          .as("duplicate at line %d", c.line())
          .isTrue();
      assertThat(outputs.add(m.get(1).content()))
          .as("duplicate output at line %d", c.line())
          .isTrue();
      assertThat(m.get(1).content().length()).as("output at line %d", c.line()).isLessThan(700);
    }
    assertThat(d.statistics().p50()).isLessThan(600);
  }

  @Test
  void sampleSplitsNinetyTen() {
    LoadedDataset d = DatasetLoader.load(DatasetOptions.of(SAMPLE));
    assertThat(d.train()).hasSize(90);
    assertThat(d.validation()).hasSize(10);
  }
}
