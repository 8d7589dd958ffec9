// Convention: one block holds both halves — N pointers, then N 8-byte value slots — so a launch
// makes a single allocation; each pointer addresses its own slot.
package dev.entity.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Lays {@link KernelArgs} out as the driver's {@code void** kernelParams}: element i points at the
 * value of argument i, stored with its C type's width ({@code T*} and {@code long long} 8 bytes,
 * {@code int} and {@code float} 4). The driver copies the values at launch, so the block may be
 * freed as soon as {@code cuLaunchKernel} returns.
 */
final class KernelParams {

  static final long SLOT = 8;

  private KernelParams() {}

  /** The parameter block for {@code args}, allocated in {@code arena}. */
  static MemorySegment layout(KernelArgs args, Arena arena) {
    List<KernelArgs.Arg> list = args.args();
    int n = list.size();
    MemorySegment block = arena.allocate(Math.max(1, 2L * n) * SLOT, SLOT);
    MemorySegment values = block.asSlice(n * SLOT);
    for (int i = 0; i < n; i++) {
      long at = i * SLOT;
      switch (list.get(i)) {
        case KernelArgs.Pointer p -> values.set(JAVA_LONG, at, p.address());
        case KernelArgs.Int32 v -> values.set(JAVA_INT, at, v.value());
        case KernelArgs.Int64 v -> values.set(JAVA_LONG, at, v.value());
        case KernelArgs.Float32 v -> values.set(JAVA_FLOAT, at, v.value());
      }
      block.set(ADDRESS, at, values.asSlice(at, SLOT));
    }
    return block;
  }
}
