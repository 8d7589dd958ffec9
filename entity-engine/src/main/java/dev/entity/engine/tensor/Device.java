package dev.entity.engine.tensor;

/** Where a tensor's bytes live: host memory, or the memory of one GPU. */
public sealed interface Device {

  /** Host memory: the segment may be read and written by Java code. */
  record Cpu() implements Device {
    @Override
    public String toString() {
      return "cpu";
    }
  }

  /** Memory of CUDA device {@code ordinal}: the segment wraps a device address. */
  record Cuda(int ordinal) implements Device {
    @Override
    public String toString() {
      return "cuda:" + ordinal;
    }
  }

  Device CPU = new Cpu();
}
