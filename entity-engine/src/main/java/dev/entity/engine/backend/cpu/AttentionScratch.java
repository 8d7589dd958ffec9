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
  int[] segmentIds = new int[0]; // of one batch row, (T)
  int[] runStarts = new int[0]; // where the run of equal ids holding each position starts

  private AttentionScratch() {}

  static AttentionScratch local() {
    return LOCAL.get();
  }

  static float[] grow(float[] a, int n) {
    return a != null && a.length >= n ? a : new float[n];
  }

  static int[] grow(int[] a, int n) {
    return a.length >= n ? a : new int[n];
  }
}
