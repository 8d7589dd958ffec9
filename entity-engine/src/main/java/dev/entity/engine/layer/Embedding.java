// Dimension legend: N rows (B*T), V table rows (vocabulary or positions), C channels.
package dev.entity.engine.layer;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.Tensor;

/**
 * A lookup table: token embeddings, or GPT-2's learned positions. With {@code accumulate} the rows
 * are added to the output (positions added onto token embeddings).
 */
public final class Embedding {

  private final Backend backend;
  private final Tensor table; // (V, C)
  private final Tensor dtable; // (V, C) or null when frozen
  private final Scratch rows; // >= N*C, only for accumulating forward

  public Embedding(Backend backend, Tensor table, Tensor dtable, Scratch rows) {
    this.backend = backend;
    this.table = table;
    this.dtable = dtable;
    this.rows = rows;
  }

  public Tensor table() {
    return table;
  }

  /** out (N, C) = table[ids], or {@code +=} when {@code accumulate}; ids (N) I32. */
  public void forward(Tensor out, Tensor ids, boolean accumulate) {
    if (!accumulate) {
      backend.embeddingForward(out, ids, table);
      return;
    }
    Tensor tmp = rows.view(out.shape());
    backend.embeddingForward(tmp, ids, table);
    backend.add(out, out, tmp);
  }

  /** dtable[ids[n]] += dout[n]; nothing when frozen. dout (N, C). */
  public void backward(Tensor dout, Tensor ids) {
    if (dtable != null) {
      backend.embeddingBackward(dtable, dout, ids);
    }
  }
}
