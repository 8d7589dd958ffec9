package dev.entity.engine.backend.cuda;

import dev.entity.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The arguments of one kernel launch, in the order of the kernel's C signature. Each is a device
 * pointer ({@code T*}), an {@code int}, a {@code long long} or a {@code float}; the launcher lays
 * them out as the driver's {@code void** kernelParams}.
 */
public final class KernelArgs {

  /** One argument and its C type. */
  public sealed interface Arg {}

  /** A device address ({@code T*}); 0 is a null pointer. */
  public record Pointer(long address) implements Arg {}

  public record Int32(int value) implements Arg {}

  public record Int64(long value) implements Arg {}

  public record Float32(float value) implements Arg {}

  private final List<Arg> args = new ArrayList<>();

  /** The tensor's device address, or a null pointer when {@code t} is null. */
  public KernelArgs ptr(Tensor t) {
    args.add(new Pointer(t == null ? 0L : t.data().address()));
    return this;
  }

  public KernelArgs ptr(long deviceAddress) {
    args.add(new Pointer(deviceAddress));
    return this;
  }

  public KernelArgs i32(int v) {
    args.add(new Int32(v));
    return this;
  }

  public KernelArgs i64(long v) {
    args.add(new Int64(v));
    return this;
  }

  public KernelArgs f32(float v) {
    args.add(new Float32(v));
    return this;
  }

  public List<Arg> args() {
    return List.copyOf(args);
  }
}
