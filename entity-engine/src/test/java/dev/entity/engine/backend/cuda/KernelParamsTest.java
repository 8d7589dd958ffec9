package dev.entity.engine.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class KernelParamsTest {

  @Test
  void eachPointerAddressesItsArgumentsValueWithTheRightWidth() {
    Tensor device =
        new Tensor(
            DType.F32,
            new long[] {4},
            MemorySegment.ofAddress(0x7f00_1234_5600L).reinterpret(16),
            new Device.Cuda(0));
    KernelArgs args =
        new KernelArgs()
            .ptr(device)
            .ptr((Tensor) null)
            .i32(-7)
            .i64(1L << 40)
            .f32(0.125f)
            .ptr(0xdead_beef_0000L)
            .i32(Integer.MAX_VALUE);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment block = KernelParams.layout(args, arena);
      assertThat(block.byteSize()).isEqualTo(7 * 2 * KernelParams.SLOT);
      MemorySegment[] slot = new MemorySegment[7];
      for (int i = 0; i < 7; i++) {
        slot[i] = block.get(ADDRESS, i * KernelParams.SLOT).reinterpret(8);
        // every slot lies inside the block, after the pointer array, and is 8-byte aligned
        long offset = slot[i].address() - block.address();
        assertThat(offset).isEqualTo((7 + i) * KernelParams.SLOT);
      }
      assertThat(slot[0].get(JAVA_LONG, 0)).isEqualTo(0x7f00_1234_5600L);
      assertThat(slot[1].get(JAVA_LONG, 0)).isZero();
      assertThat(slot[2].get(JAVA_INT, 0)).isEqualTo(-7);
      assertThat(slot[3].get(JAVA_LONG, 0)).isEqualTo(1L << 40);
      assertThat(slot[4].get(JAVA_FLOAT, 0)).isEqualTo(0.125f);
      assertThat(slot[5].get(JAVA_LONG, 0)).isEqualTo(0xdead_beef_0000L);
      assertThat(slot[6].get(JAVA_INT, 0)).isEqualTo(Integer.MAX_VALUE);
    }
  }

  @Test
  void noArgumentsStillGiveAValidBlock() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment block = KernelParams.layout(new KernelArgs(), arena);
      assertThat(block.address()).isNotZero();
    }
  }
}
