package dev.entity.training.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import dev.entity.engine.model.Batch;
import dev.entity.engine.template.TrainingExample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batches from prepared samples: shifted targets, padding and packing segments, per-(seed, epoch)
 * determinism, seek, and rebuilding with half the micro-batch.
 */
class BatchSourceTest {

  static TokenizedDataset data;
  static final int MAX = 256;

  @BeforeAll
  static void prepare() {
    data = ChatFixture.tokenize(ChatFixture.conversations(23, 3), MAX);
  }

  static BatchLayout layout(boolean packing) {
    return BatchLayout.of(MAX, packing, ChatFixture.tokenizer());
  }

  /** The samples (by identity of their ids) that appear in row r of a batch, in order. */
  static List<int[]> samplesInRow(Batch b, int r) {
    int t = b.seqLen();
    int[] ids = b.inputIds();
    int[] seg = b.segments();
    List<int[]> out = new ArrayList<>();
    int start = 0;
    for (int j = 1; j <= t; j++) {
      if (j == t || seg[r * t + j] != seg[r * t + start]) {
        if (seg[r * t + start] != 0) {
          out.add(Arrays.copyOfRange(ids, r * t + start, r * t + j));
        }
        start = j;
      }
    }
    return out;
  }

  static List<String> rowKeys(List<Batch> batches) {
    List<String> keys = new ArrayList<>();
    for (Batch b : batches) {
      for (int r = 0; r < b.batchSize(); r++) {
        StringBuilder k = new StringBuilder();
        samplesInRow(b, r).forEach(s -> k.append(Arrays.toString(s)).append('|'));
        keys.add(k.toString());
      }
    }
    return keys;
  }

  static List<Batch> take(BatchSource s, long n) {
    List<Batch> out = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      out.add(s.next());
    }
    return out;
  }

  static Map<String, TrainingExample> byIds() {
    Map<String, TrainingExample> m = new HashMap<>();
    for (TrainingExample e : data.samples()) {
      m.put(Arrays.toString(e.ids()), e);
    }
    return m;
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void targetAtPositionTIsTheLabelOfTokenTPlusOneInsideEachSample(boolean packing) {
    BatchSource source = data.trainingBatches(layout(packing), 4, 7);
    Map<String, TrainingExample> samples = byIds();
    int imEnd = ChatFixture.id(ChatFixture.IM_END);
    int seen = 0;
    boolean endOfTurnTrained = false;
    for (Batch b : take(source, source.batchesPerEpoch())) {
      int t = b.seqLen();
      int[] targets = b.targets();
      int[] seg = b.segments();
      int[] pos = b.positions();
      for (int r = 0; r < b.batchSize(); r++) {
        int at = r * t;
        for (int[] ids : samplesInRow(b, r)) {
          TrainingExample e = samples.get(Arrays.toString(ids));
          assertThat(e).isNotNull();
          seen++;
          for (int j = 0; j < ids.length; j++) {
            int expected = j + 1 < ids.length ? e.labels()[j + 1] : TrainingExample.IGNORE;
            assertThat(targets[at + j]).isEqualTo(expected);
            assertThat(pos[at + j]).isEqualTo(j); // positions restart at each sample
            endOfTurnTrained |= targets[at + j] == imEnd;
          }
          at += ids.length;
        }
        for (int j = at; j < (r + 1) * t; j++) { // padding: segment 0, no target
          assertThat(seg[j]).isZero();
          assertThat(targets[j]).isEqualTo(TrainingExample.IGNORE);
        }
      }
    }
    assertThat(seen).isEqualTo(data.size());
    assertThat(endOfTurnTrained).isTrue();
  }

  @Test
  void packingFillsRowsAndNeverLetsATargetCrossASampleBoundary() {
    BatchSource source = data.trainingBatches(layout(true), 2, 1);
    assertThat(source.rowsPerEpoch()).isLessThan(data.size());
    boolean sawTwoSamplesInARow = false;
    for (Batch b : take(source, source.batchesPerEpoch())) {
      int t = b.seqLen();
      assertThat(t).isLessThanOrEqualTo(MAX);
      int[] seg = b.segments();
      int[] targets = b.targets();
      for (int n = 0; n < seg.length; n++) {
        boolean lastOfSegment = (n + 1) % t == 0 || seg[n + 1] != seg[n];
        if (lastOfSegment) {
          assertThat(targets[n]).isEqualTo(TrainingExample.IGNORE);
        }
        sawTwoSamplesInARow |= seg[n] == 2;
      }
    }
    assertThat(sawTwoSamplesInARow).isTrue();
  }

  @Test
  void paddedRowsArePaddedOnTheRightToAMultipleOfEight() {
    BatchSource source = data.trainingBatches(layout(false), 3, 5);
    for (Batch b : take(source, source.batchesPerEpoch())) {
      assertThat(b.seqLen() % 8 == 0 || b.seqLen() == MAX).isTrue();
      int longest = 0;
      for (int r = 0; r < b.batchSize(); r++) {
        List<int[]> s = samplesInRow(b, r);
        assertThat(s).hasSize(1);
        assertThat(b.segments()[r * b.seqLen()]).isEqualTo(1);
        longest = Math.max(longest, s.getFirst().length);
      }
      assertThat(b.seqLen()).isLessThan(longest + 8);
    }
  }

  @Test
  void theLastIncompleteBatchIsKept() {
    BatchSource source = data.trainingBatches(layout(false), 5, 5);
    assertThat(source.batchesPerEpoch()).isEqualTo(5); // 23 = 4 * 5 + 3
    List<Batch> epoch = take(source, 5);
    assertThat(epoch.stream().mapToInt(Batch::batchSize).sum()).isEqualTo(23);
    assertThat(epoch.getLast().batchSize()).isEqualTo(3);
    assertThat(source.position()).isEqualTo(new BatchPosition(1, 0));
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void theOrderIsAPureFunctionOfSeedAndEpoch(boolean packing) {
    BatchSource a = data.trainingBatches(layout(packing), 3, 11);
    BatchSource b = data.trainingBatches(layout(packing), 3, 11);
    long n = a.batchesPerEpoch();
    List<String> a0 = rowKeys(take(a, n));
    List<String> a1 = rowKeys(take(a, n));
    assertThat(rowKeys(take(b, n))).isEqualTo(a0);
    assertThat(rowKeys(take(b, n))).isEqualTo(a1);
    assertThat(a1).isNotEqualTo(a0).containsExactlyInAnyOrderElementsOf(a0);
    List<String> other = rowKeys(take(data.trainingBatches(layout(packing), 3, 12), n));
    assertThat(other).isNotEqualTo(a0).containsExactlyInAnyOrderElementsOf(a0);
  }

  @Test
  void seekReproducesTheExactStreamAcrossEpochs() {
    BatchSource a = data.trainingBatches(layout(false), 4, 3);
    take(a, 4);
    BatchPosition saved = a.position();
    assertThat(saved).isEqualTo(new BatchPosition(0, 4));
    List<Batch> rest = take(a, 9); // runs into epoch 1
    BatchSource b = data.trainingBatches(layout(false), 4, 3);
    b.seek(saved);
    List<Batch> resumed = take(b, 9);
    for (int i = 0; i < rest.size(); i++) {
      assertThat(resumed.get(i).inputIds()).isEqualTo(rest.get(i).inputIds());
      assertThat(resumed.get(i).targets()).isEqualTo(rest.get(i).targets());
      assertThat(resumed.get(i).segments()).isEqualTo(rest.get(i).segments());
      assertThat(resumed.get(i).positions()).isEqualTo(rest.get(i).positions());
    }
    assertThat(b.position()).isEqualTo(a.position());
    assertThatThrownBy(() -> b.seek(new BatchPosition(0, b.batchesPerEpoch())))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void halvingTheMicroBatchKeepsTheSamplesOfEveryOptimizerStep(boolean packing) {
    int micro = 4;
    int accumulation = 2;
    BatchSource full = data.trainingBatches(layout(packing), micro, 9);
    take(full, 2); // one optimizer step done at micro-batch 4
    BatchSource half = full.withMicroBatchSize(micro / 2);
    assertThat(half.position()).isEqualTo(new BatchPosition(0, 4));
    assertThat(half.batchesPerEpoch()).isEqualTo((full.rowsPerEpoch() + 1) / 2);
    assertThat(half.stepsPerEpoch(2 * accumulation)).isEqualTo(full.stepsPerEpoch(accumulation));
    for (int step = 0; step < 2 * full.stepsPerEpoch(accumulation); step++) { // into epoch 2
      List<String> before = rowKeys(take(full, full.microBatchesInNextStep(accumulation)));
      List<String> after = rowKeys(take(half, half.microBatchesInNextStep(2 * accumulation)));
      assertThat(after).isEqualTo(before);
      assertThat(half.position().epoch()).isEqualTo(full.position().epoch());
    }
    assertThatThrownBy(() -> half.withMicroBatchSize(3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("divisor");
  }

  @Test
  void lengthGroupingWastesLessPaddingThanShuffling() {
    BatchLayout grouped = layout(false);
    BatchLayout shuffled = new BatchLayout(MAX, false, false, 1, grouped.padId());
    BatchLayout groupedExact = new BatchLayout(MAX, false, true, 1, grouped.padId());
    assertThat(padding(data.trainingBatches(groupedExact, 4, 2)))
        .isLessThan(padding(data.trainingBatches(shuffled, 4, 2)));
  }

  @Test
  void lengthGroupingPutsTheLongestSampleInTheFirstBatch() {
    for (long seed = 0; seed < 4; seed++) {
      Batch first = data.trainingBatches(layout(false), 4, seed).next();
      long longest = data.statistics().maxLength();
      assertThat(first.seqLen()).isGreaterThanOrEqualTo((int) longest);
    }
  }

  static long padding(BatchSource s) {
    long pads = 0;
    for (Batch b : take(s, s.batchesPerEpoch())) {
      pads += Arrays.stream(b.segments()).filter(x -> x == 0).count();
    }
    return pads;
  }

  @Test
  void evaluationBatchesAreTheSameEveryEpochLongestFirst() {
    BatchSource eval = data.evaluationBatches(layout(false), 4);
    List<String> first = rowKeys(take(eval, eval.batchesPerEpoch()));
    List<String> second = rowKeys(take(eval, eval.batchesPerEpoch()));
    assertThat(second).isEqualTo(first);
    assertThat(first.getFirst().length()).isGreaterThanOrEqualTo(first.getLast().length());
  }

  @Test
  void anEmptyDatasetOrABadMicroBatchIsRefused() {
    TokenizedDataset empty = ChatFixture.tokenize(List.of(), MAX);
    assertThatThrownBy(() -> empty.trainingBatches(layout(false), 4, 1))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("no sample is left");
    assertThatThrownBy(() -> data.trainingBatches(layout(false), 0, 1))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("batch_size");
    assertThatThrownBy(
            () -> data.trainingBatches(BatchLayout.of(8, false, ChatFixture.tokenizer()), 2, 1))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("max_seq_length");
  }

  @Test
  void positionsAreNonNegativeAndStepsNeverSpanEpochs() {
    assertThatThrownBy(() -> new BatchPosition(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BatchPosition(0, -3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batch -3");
    assertThat(new BatchPosition(2, 5).rowOffset(4)).isEqualTo(20);
    BatchSource s = data.trainingBatches(layout(false), 5, 5); // 5 batches per epoch
    assertThat(s.stepsPerEpoch(2)).isEqualTo(3);
    assertThat(s.microBatchesInNextStep(2)).isEqualTo(2);
    s.seek(new BatchPosition(0, 4));
    assertThat(s.microBatchesInNextStep(2)).isEqualTo(1);
    assertThat(s.seed()).isEqualTo(5);
  }
}
