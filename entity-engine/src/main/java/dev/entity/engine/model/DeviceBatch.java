// Dimension legend: B batch, T time, N = B*T rows.
package dev.entity.engine.model;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.layer.CrossEntropy;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Batch} checked against the model (ids inside the vocabulary, positions inside the table,
 * no sequence longer than an attention window we do not implement) and uploaded as I32 tensors; it
 * owns the host copies and the backend's copies until closed.
 */
final class DeviceBatch implements AutoCloseable {

  final Batch batch;
  final Tensor ids; // (N) I32
  final Tensor targets; // (N) I32
  final Tensor positions; // (N) I32
  final Tensor segments; // (B, T) I32
  private final Backend backend;
  private final Arena host = Arena.ofShared();
  private final List<Tensor> uploaded = new ArrayList<>();

  DeviceBatch(Backend backend, Batch b, ModelConfig config, boolean learnedPositions) {
    check(b, config, learnedPositions);
    this.backend = backend;
    this.batch = b;
    long n = (long) b.batchSize() * b.seqLen();
    this.ids = upload(b.inputIds(), n);
    this.targets = upload(b.targets(), n);
    this.positions = upload(b.positions(), n);
    this.segments = upload(b.segments(), b.batchSize(), b.seqLen());
  }

  private static void check(Batch b, ModelConfig config, boolean learnedPositions) {
    Integer window = config.slidingWindow();
    if (window != null && b.seqLen() > window) {
      throw new EngineException(
          "sequences of "
              + b.seqLen()
              + " tokens exceed the model's sliding_window of "
              + window
              + "; sliding-window attention is not implemented, so keep max_seq_length <= "
              + window);
    }
    for (int p : b.positions()) {
      if (p < 0 || (learnedPositions && p >= config.maxPositions())) {
        throw new EngineException(
            "position " + p + " is outside the model's " + config.maxPositions() + " positions");
      }
    }
    for (int id : b.inputIds()) {
      if (id < 0 || id >= config.vocabSize()) {
        throw new EngineException(
            "token id " + id + " is outside the vocabulary of " + config.vocabSize());
      }
    }
    for (int id : b.targets()) {
      if (id != CrossEntropy.IGNORE_INDEX && (id < 0 || id >= config.vocabSize())) {
        throw new EngineException(
            "target id " + id + " is outside the vocabulary of " + config.vocabSize());
      }
    }
  }

  private Tensor upload(int[] values, long... shape) {
    Tensor t =
        new Tensor(
            DType.I32, shape, host.allocate(ValueLayout.JAVA_INT, values.length), Device.CPU);
    t.data().copyFrom(MemorySegment.ofArray(values));
    Tensor dev = backend.upload(t);
    if (dev != t) {
      uploaded.add(dev);
    }
    return dev;
  }

  Block.Inputs inputs() {
    return new Block.Inputs(positions, segments, batch.batchSize(), batch.seqLen());
  }

  @Override
  public void close() {
    for (Tensor t : uploaded) {
      backend.free(t);
    }
    uploaded.clear();
    host.close();
  }
}
