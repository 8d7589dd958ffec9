package dev.entity.engine.backend.cpu;

/**
 * The working arrays of one thread's attention tasks, kept in a thread-local and grown on demand
 * (never shrunk), so that calls in steady state allocate nothing. A task takes the arrays it needs
 * with the {@code grow} methods at its start and must not call another attention task while it uses
 * them.
 */
final class AttentionScratch {

  private static final ThreadLocal<AttentionScratch> LOCAL =
      ThreadLocal.withInitial(AttentionScratch::new);

  float[] rows; // query rows (pre-scaled), (rows, HSP)
  float[] grads; // dout rows, (rows, HSP)
  float[] acc; // output or dq accumulators, (rows, HSP)
  float[] scores; // score / probability tiles, (rows, KB)
  float[] dscores; // dP then dS tiles, (rows, KB)
  float[] keysT; // a key block transposed, (HS, KB)
  float[] valuesT; // a value block transposed, (HS, KB)
  float[] keys; // a key block as rows, (KB, HSP)
  float[] values; // a value block as rows, (KB, HSP)
  float[] dkeys; // (KB, HSP)
  float[] dvalues; // (KB, HSP)
  float[] max; // per row
  float[] sum; // per row: softmax sum, or lse, or delta
  float[] delta; // per row
  float[] line; // one row as read from memory, (HSP)
  float[] corr; // per query column of a block: the softmax rescaling factor, (KB)
  float[] shift; // per query column of a block: the max subtracted before exp, (KB)
  int[] segmentIds = new int[0]; // of one batch row, (T)
  int[] runStarts = new int[0]; // where the run of equal ids holding each position starts

  private AttentionScratch() {}

  static AttentionScratch local() {
    return LOCAL.get();
  }

  /**
   * Readies the arrays of a forward or decode task over {@code rows} query rows of width hsp (or
   * transposed, HS by rows) and key blocks of {@code kb} keys: query rows and accumulators zeroed,
   * maxima at -inf, {@code sumsPerRow} partial sums per row zeroed.
   */
  void startForward(int rows, int hs, int hsp, int kb, int sumsPerRow) {
    this.rows = grow(this.rows, rows * hsp);
    acc = grow(acc, rows * hsp);
    scores = grow(scores, kb * kb);
    keysT = grow(keysT, hs * kb);
    keys = grow(keys, kb * hsp);
    values = grow(values, kb * hsp);
    max = grow(max, rows);
    sum = grow(sum, rows * sumsPerRow);
    corr = grow(corr, kb);
    shift = grow(shift, kb);
    java.util.Arrays.fill(this.rows, 0, rows * hsp, 0f);
    java.util.Arrays.fill(acc, 0, rows * hsp, 0f);
    java.util.Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
    java.util.Arrays.fill(sum, 0, rows * sumsPerRow, 0f);
  }

  static float[] grow(float[] a, int n) {
    return a != null && a.length >= n ? a : new float[n];
  }

  static int[] grow(int[] a, int n) {
    return a.length >= n ? a : new int[n];
  }
}
