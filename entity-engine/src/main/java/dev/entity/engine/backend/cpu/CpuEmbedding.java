// Dimensions: N rows (token positions), C channels, V vocabulary. Ids outside [0, V) are a user
// error (a tokenizer/model mismatch) and are reported with the row that holds them.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.CpuElements.getF32;
import static dev.entity.engine.backend.cpu.CpuElements.getI32;
import static dev.entity.engine.backend.cpu.CpuElements.read;
import static dev.entity.engine.backend.cpu.CpuElements.setF32;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Token embedding lookup and its backward on the host. The table may be a frozen BF16/F16 tensor in
 * forward; its gradient is F32.
 */
final class CpuEmbedding {

  private CpuEmbedding() {}

  static int checkedId(Tensor ids, long n, long vocab) {
    int id = getI32(ids.data(), n);
    if (id < 0 || id >= vocab) {
      throw new EngineException(
          "token id "
              + id
              + " at position "
              + n
              + " is outside the vocabulary [0, "
              + vocab
              + "): the tokenizer does not match the model's embedding table");
    }
    return id;
  }

  /** out (N, C) rows [rowFrom, rowTo) = table[ids[n]]. */
  static void forward(Tensor out, Tensor ids, Tensor table, long rowFrom, long rowTo) {
    long v = table.dim(0);
    long c = table.elementCount() / v;
    MemorySegment o = out.data();
    for (long n = rowFrom; n < rowTo; n++) {
      long src = checkedId(ids, n, v) * c;
      for (long i = 0; i < c; i++) {
        setF32(o, n * c + i, read(table, src + i));
      }
    }
  }

  /**
   * dtable (V, C) columns [colFrom, colTo) += dout rows in order of n: splitting by columns keeps
   * the order of additions into each element fixed whatever the thread count.
   */
  static void backward(Tensor dtable, Tensor dout, Tensor ids, long colFrom, long colTo) {
    long v = dtable.dim(0);
    long c = dtable.elementCount() / v;
    long n = ids.elementCount();
    MemorySegment dt = dtable.data(), g = dout.data();
    for (long r = 0; r < n; r++) {
      long dst = checkedId(ids, r, v) * c;
      for (long i = colFrom; i < colTo; i++) {
        setF32(dt, dst + i, getF32(dt, dst + i) + getF32(g, r * c + i));
      }
    }
  }
}
