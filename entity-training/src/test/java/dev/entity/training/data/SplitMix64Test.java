package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitMix64Test {

  @Test
  void matchesTheReferenceSequence() {
    // First outputs of Vigna's splitmix64.c seeded with 1234567.
    SplitMix64 r = new SplitMix64(1234567);
    assertThat(List.of(r.nextLong(), r.nextLong(), r.nextLong()))
        .containsExactly(6457827717110365317L, 3203168211198807973L, -8629252141511181193L);
  }

  @Test
  void nextIntStaysInRangeAndCoversIt() {
    SplitMix64 r = new SplitMix64(3);
    int[] seen = new int[7];
    for (int i = 0; i < 7000; i++) {
      seen[r.nextInt(7)]++;
    }
    for (int count : seen) {
      assertThat(count).isBetween(850, 1150);
    }
    assertThatThrownBy(() -> r.nextInt(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shuffleIsAPermutation() {
    List<Integer> list = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      list.add(i);
    }
    new SplitMix64(9).shuffle(list);
    assertThat(list)
        .containsExactlyInAnyOrderElementsOf(
            java.util.stream.IntStream.range(0, 100).boxed().toList());
    assertThat(list).isNotEqualTo(java.util.stream.IntStream.range(0, 100).boxed().toList());
  }
}
