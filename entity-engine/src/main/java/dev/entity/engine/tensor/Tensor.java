package dev.entity.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A dense, row-major, contiguous tensor: dtype + shape + a {@link MemorySegment} that holds exactly
 * its elements. On the CPU the segment is host memory (off-heap, 64-byte aligned, or a slice of a
 * memory-mapped file); on a GPU it wraps a device address and must never be dereferenced on the
 * host — only the backend that made it may touch its bytes. Element counts and offsets are {@code
 * long}. A tensor does not own its memory: an arena or a backend does.
 */
public final class Tensor {

  private final DType dtype;
  private final long[] shape;
  private final MemorySegment data;
  private final Device device;

  public Tensor(DType dtype, long[] shape, MemorySegment data, Device device) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data;
    this.device = device;
    long expected = Math.multiplyExact(elementCount(shape), dtype.bytes());
    if (data.byteSize() != expected) {
      throw new IllegalArgumentException(
          "tensor "
              + Arrays.toString(shape)
              + " "
              + dtype
              + " needs "
              + expected
              + " bytes, segment has "
              + data.byteSize());
    }
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** Size of dimension {@code i}; negative {@code i} counts from the end. */
  public long dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  public int rank() {
    return shape.length;
  }

  public long elementCount() {
    return elementCount(shape);
  }

  public long byteSize() {
    return data.byteSize();
  }

  public MemorySegment data() {
    return data;
  }

  public Device device() {
    return device;
  }

  /** The same bytes seen with another shape of the same element count. */
  public Tensor reshape(long... newShape) {
    if (elementCount(newShape) != elementCount()) {
      throw new IllegalArgumentException(
          "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
    }
    return new Tensor(dtype, newShape, data, device);
  }

  /**
   * Rows {@code [from, from + count)} along the first dimension, sharing memory: the way flat
   * buffers are carved into named views and batches into chunks.
   */
  public Tensor rows(long from, long count) {
    long rowElements = elementCount() / shape[0];
    long[] s = shape.clone();
    s[0] = count;
    long bytes = rowElements * dtype.bytes();
    return new Tensor(dtype, s, data.asSlice(from * bytes, count * bytes), device);
  }

  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape) + " " + dtype + " on " + device;
  }
}
