// Convention: best-fit decreasing, ties broken by index: the longest sample goes first into the
// fullest row it still fits (the oldest such row), so the same lengths always give the same rows.
package dev.entity.training.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * Packs samples into rows of at most {@code capacity} tokens for {@link BatchLayout#packing()
 * packed} training. A sample is never split: rows hold whole samples (truncation happened before),
 * so no target crosses a sample boundary. The packing does not depend on the seed or the epoch; the
 * epochs shuffle whole rows.
 */
public final class SequencePacker {

  private SequencePacker() {}

  /**
   * Rows of sample indices, in the order rows were opened; each row's samples in placement order.
   *
   * @throws IllegalArgumentException when a sample is longer than the capacity
   */
  public static List<int[]> pack(int[] lengths, int capacity) {
    Integer[] byLength =
        IntStream.range(0, lengths.length)
            .boxed()
            .sorted(Comparator.<Integer>comparingInt(i -> -lengths[i]).thenComparingInt(i -> i))
            .toArray(Integer[]::new);
    List<List<Integer>> rows = new ArrayList<>();
    TreeMap<Integer, ArrayDeque<Integer>> rowsByRoom = new TreeMap<>();
    int[] room = new int[lengths.length];
    for (int sample : byLength) {
      int len = lengths[sample];
      if (len > capacity) {
        throw new IllegalArgumentException(
            "sample " + sample + " has " + len + " tokens, more than a row's " + capacity);
      }
      var fit = rowsByRoom.ceilingEntry(len);
      int row;
      if (fit == null) {
        row = rows.size();
        rows.add(new ArrayList<>());
        room[row] = capacity;
      } else {
        row = fit.getValue().pollFirst();
        if (fit.getValue().isEmpty()) {
          rowsByRoom.remove(fit.getKey());
        }
      }
      rows.get(row).add(sample);
      room[row] -= len;
      if (room[row] > 0) {
        rowsByRoom.computeIfAbsent(room[row], k -> new ArrayDeque<>()).addLast(row);
      }
    }
    List<int[]> out = new ArrayList<>(rows.size());
    for (List<Integer> r : rows) {
      out.add(r.stream().mapToInt(Integer::intValue).toArray());
    }
    return out;
  }
}
