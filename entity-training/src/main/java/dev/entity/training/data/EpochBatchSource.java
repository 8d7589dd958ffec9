// Convention: within a row, sample k (from 0) is segment k + 1 and padding is segment 0; the last
// token of every sample has no target, so no loss ever crosses a sample boundary.
package dev.entity.training.data;

import dev.entity.core.EntityException;
import dev.entity.engine.model.Batch;
import dev.entity.engine.template.TrainingExample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@link BatchSource} over a {@link TokenizedDataset}: rows (one sample each, or packed
 * samples) visited in an {@link EpochOrder} of the seed and epoch, cut into micro-batches of {@link
 * #microBatchSize()} rows. The order's block size is the micro-batch size the source was first
 * built with and survives {@link #withMicroBatchSize}, so a rebuilt source reads the same rows in
 * the same order.
 */
final class EpochBatchSource implements BatchSource {

  private final List<TrainingExample> samples;
  private final List<int[]> rows; // sample indices per row
  private final int[] rowLengths; // tokens per row
  private final BatchLayout layout;
  private final EpochOrder.Kind kind;
  private final int blockSize;
  private final int microBatchSize;
  private final long seed;

  private int epoch;
  private long batchIndex;
  private int orderEpoch = -1;
  private int[] order;

  EpochBatchSource(
      TokenizedDataset data,
      BatchLayout layout,
      EpochOrder.Kind kind,
      int microBatchSize,
      long seed) {
    this(data.samples(), rowsOf(data, layout), layout, kind, microBatchSize, microBatchSize, seed);
  }

  private EpochBatchSource(
      List<TrainingExample> samples,
      List<int[]> rows,
      BatchLayout layout,
      EpochOrder.Kind kind,
      int blockSize,
      int microBatchSize,
      long seed) {
    if (microBatchSize < 1) {
      throw new EntityException("batch_size must be at least 1, got " + microBatchSize);
    }
    if (rows.isEmpty()) {
      throw new EntityException(
          "no sample is left to batch: every conversation was skipped (see the tokenization"
              + " statistics: a larger max_seq_length keeps truncated samples, and every sample"
              + " needs at least one trained token)");
    }
    this.samples = samples;
    this.rows = rows;
    this.layout = layout;
    this.kind = kind;
    this.blockSize = blockSize;
    this.microBatchSize = microBatchSize;
    this.seed = seed;
    this.rowLengths = new int[rows.size()];
    for (int r = 0; r < rows.size(); r++) {
      for (int s : rows.get(r)) {
        rowLengths[r] += samples.get(s).length();
      }
    }
  }

  private static List<int[]> rowsOf(TokenizedDataset data, BatchLayout layout) {
    List<TrainingExample> samples = data.samples();
    for (int i = 0; i < samples.size(); i++) {
      if (samples.get(i).length() > layout.maxSeqLength()) {
        throw new EntityException(
            "sample "
                + i
                + " has "
                + samples.get(i).length()
                + " tokens but the batch layout's max_seq_length is "
                + layout.maxSeqLength()
                + "; tokenize with the same max_seq_length");
      }
    }
    if (layout.packing()) {
      int[] lengths = samples.stream().mapToInt(TrainingExample::length).toArray();
      return SequencePacker.pack(lengths, layout.maxSeqLength());
    }
    List<int[]> rows = new ArrayList<>(samples.size());
    for (int i = 0; i < samples.size(); i++) {
      rows.add(new int[] {i});
    }
    return rows;
  }

  @Override
  public int microBatchSize() {
    return microBatchSize;
  }

  @Override
  public long batchesPerEpoch() {
    return (rows.size() + (long) microBatchSize - 1) / microBatchSize;
  }

  @Override
  public long seed() {
    return seed;
  }

  @Override
  public long rowsPerEpoch() {
    return rows.size();
  }

  @Override
  public BatchPosition position() {
    return new BatchPosition(epoch, batchIndex);
  }

  @Override
  public void seek(BatchPosition position) {
    if (position.batchIndex() >= batchesPerEpoch()) {
      throw new IllegalArgumentException(
          "batch "
              + position.batchIndex()
              + " is past the end of an epoch of "
              + batchesPerEpoch()
              + " micro-batches of "
              + microBatchSize
              + " rows");
    }
    epoch = position.epoch();
    batchIndex = position.batchIndex();
  }

  @Override
  public Batch next() {
    if (orderEpoch != epoch) {
      order = EpochOrder.of(kind, rowLengths, blockSize, seed, epoch);
      orderEpoch = epoch;
    }
    int from = Math.toIntExact(batchIndex * microBatchSize);
    int to = Math.min(rows.size(), from + microBatchSize);
    Batch batch = assemble(from, to);
    if (++batchIndex == batchesPerEpoch()) {
      batchIndex = 0;
      epoch++;
    }
    return batch;
  }

  private Batch assemble(int from, int to) {
    int b = to - from;
    int longest = 0;
    for (int i = from; i < to; i++) {
      longest = Math.max(longest, rowLengths[order[i]]);
    }
    int t = layout.rowLength(longest);
    int[] ids = new int[b * t];
    int[] targets = new int[b * t];
    int[] sampleIds = new int[b * t];
    Arrays.fill(ids, layout.padId());
    Arrays.fill(targets, TrainingExample.IGNORE);
    for (int r = 0; r < b; r++) {
      int at = r * t;
      int segment = 1;
      for (int s : rows.get(order[from + r])) {
        TrainingExample sample = samples.get(s);
        int[] sampleIdsOf = sample.ids();
        int[] labels = sample.labels();
        int len = sampleIdsOf.length;
        System.arraycopy(sampleIdsOf, 0, ids, at, len);
        System.arraycopy(labels, 1, targets, at, len - 1); // target[t] = label[t + 1]
        Arrays.fill(sampleIds, at, at + len, segment++);
        at += len;
      }
    }
    return Batch.packed(b, t, ids, targets, sampleIds);
  }

  @Override
  public BatchSource withMicroBatchSize(int size) {
    long row = position().rowOffset(microBatchSize);
    if (size < 1 || row % size != 0) {
      throw new IllegalArgumentException(
          "cannot cut the stream into micro-batches of "
              + size
              + " rows at row "
              + row
              + " of the epoch; use a divisor of the current size "
              + microBatchSize);
    }
    EpochBatchSource s = new EpochBatchSource(samples, rows, layout, kind, blockSize, size, seed);
    s.epoch = epoch;
    s.batchIndex = row / size;
    return s;
  }
}
