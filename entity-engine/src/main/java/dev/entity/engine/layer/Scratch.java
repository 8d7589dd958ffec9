package dev.entity.engine.layer;

import dev.entity.engine.tensor.Tensor;

/**
 * A reusable flat F32 work buffer, seen with whatever shape a call needs: the leading elements of
 * the buffer. Used for short-lived intermediates (LoRA's dropped input, gradients on their way
 * back) that never outlive one layer's forward or backward.
 */
public record Scratch(Tensor flat) {

  /** The first {@code count(shape)} elements as a tensor of {@code shape}. */
  public Tensor view(long... shape) {
    long count = Tensor.elementCount(shape);
    if (count > flat.elementCount()) {
      throw new IllegalArgumentException(
          "scratch of " + flat.elementCount() + " elements cannot hold " + count);
    }
    long bytes = flat.dtype().bytes();
    return new Tensor(flat.dtype(), shape, flat.data().asSlice(0, count * bytes), flat.device());
  }
}
