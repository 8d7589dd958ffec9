// Fake device addresses start high and never repeat, so a test can tell operands apart by address;
// nothing here ever dereferences one.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link KernelLauncher} that runs nothing and records every launch, for checking without a GPU
 * which kernels {@link CudaKernelOps} launches, with which argument kinds and geometry.
 */
final class RecordingLauncher implements KernelLauncher {

  /** One recorded launch. */
  record Launch(String kernel, LaunchShape shape, List<KernelArgs.Arg> args) {}

  final List<Launch> launches = new ArrayList<>();
  private long next = 0x7f00_0000_0000L;

  @Override
  public void launch(String kernel, LaunchShape shape, KernelArgs args) {
    launches.add(new Launch(kernel, shape, args.args()));
  }

  @Override
  public long scratch(long bytes) {
    return reserve(bytes);
  }

  @Override
  public void copyToHost(MemorySegment host, long deviceAddress, long bytes) {
    host.asSlice(0, bytes).fill((byte) 0);
  }

  /** A fake device tensor at a fresh 256-aligned address. */
  Tensor tensor(DType dtype, long... shape) {
    long bytes = Tensor.elementCount(shape) * dtype.bytes();
    MemorySegment data = MemorySegment.ofAddress(reserve(bytes)).reinterpret(bytes);
    return new Tensor(dtype, shape, data, new Device.Cuda(0));
  }

  private long reserve(long bytes) {
    long address = next;
    next += (bytes + 511) & ~255L;
    return address;
  }
}
