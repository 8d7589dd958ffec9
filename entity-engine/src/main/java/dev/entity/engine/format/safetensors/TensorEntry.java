package dev.entity.engine.format.safetensors;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor as a safetensors header describes it: its name, stored dtype, shape, and byte range
 * {@code [begin, end)} relative to the start of the data section (the byte after the header), in
 * the file {@code file}.
 */
public record TensorEntry(
    String name, SafetensorsDType dtype, long[] shape, long begin, long end, Path file) {

  public TensorEntry {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long elementCount() {
    long n = 1;
    for (long d : shape) {
      n *= d; // validated against overflow when the header was read
    }
    return n;
  }

  public long byteSize() {
    return end - begin;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorEntry e
        && name.equals(e.name)
        && dtype == e.dtype
        && Arrays.equals(shape, e.shape)
        && begin == e.begin
        && end == e.end
        && file.equals(e.file);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Long.hashCode(begin);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ") in " + file;
  }
}
