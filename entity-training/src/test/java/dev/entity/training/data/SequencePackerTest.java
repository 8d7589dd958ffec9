package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SequencePackerTest {

  @Test
  void everySampleLandsInExactlyOneRowWithinCapacity() {
    int[] lengths = IntStream.range(0, 200).map(i -> 1 + (i * 37) % 100).toArray();
    List<int[]> rows = SequencePacker.pack(lengths, 128);
    int[] all = rows.stream().flatMapToInt(Arrays::stream).sorted().toArray();
    assertThat(all).isEqualTo(IntStream.range(0, 200).toArray());
    long total = Arrays.stream(lengths).sum();
    for (int[] r : rows) {
      assertThat(Arrays.stream(r).map(i -> lengths[i]).sum()).isLessThanOrEqualTo(128);
    }
    // best-fit decreasing is within a few rows of the lower bound
    assertThat(rows.size()).isLessThanOrEqualTo((int) (total / 128) + 3);
  }

  @Test
  void bestFitPutsASampleIntoTheFullestRowItFits() {
    List<int[]> rows = SequencePacker.pack(new int[] {6, 5, 3, 2}, 8);
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).containsExactly(0, 3); // 6 + 2
    assertThat(rows.get(1)).containsExactly(1, 2); // 5 + 3
  }

  @Test
  void packingIsDeterministicAndRefusesOverlongSamples() {
    int[] lengths = {4, 9, 4, 1, 7, 7, 3};
    assertThat(SequencePacker.pack(lengths, 10))
        .usingRecursiveFieldByFieldElementComparator()
        .containsExactlyElementsOf(SequencePacker.pack(lengths.clone(), 10));
    assertThatThrownBy(() -> SequencePacker.pack(new int[] {3, 11}, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sample 1 has 11 tokens");
    assertThat(SequencePacker.pack(new int[0], 10)).isEmpty();
  }
}
