package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CachingAllocatorTest {

  /** A device of {@code capacity} bytes that counts driver calls. */
  static final class FakeDevice implements DeviceMemory {
    final long capacity;
    final Map<Long, Long> blocks = new HashMap<>();
    long used;
    long next = 1L << 32;
    int allocations;
    int frees;

    FakeDevice(long capacity) {
      this.capacity = capacity;
    }

    @Override
    public long allocate(long bytes) {
      allocations++;
      if (used + bytes > capacity) {
        throw new CudaOutOfMemoryError("fake device full");
      }
      long address = next;
      next += bytes + 4096;
      blocks.put(address, bytes);
      used += bytes;
      return address;
    }

    @Override
    public void free(long address) {
      Long size = blocks.remove(address);
      assertThat(size).as("double or foreign free of " + address).isNotNull();
      used -= size;
      frees++;
    }
  }

  @Test
  void sizeClassesRoundSmallTo512AndLargeToMiB() {
    assertThat(CachingAllocator.sizeClass(0)).isEqualTo(512);
    assertThat(CachingAllocator.sizeClass(1)).isEqualTo(512);
    assertThat(CachingAllocator.sizeClass(512)).isEqualTo(512);
    assertThat(CachingAllocator.sizeClass(513)).isEqualTo(1024);
    assertThat(CachingAllocator.sizeClass((1 << 20) - 1)).isEqualTo(1 << 20);
    assertThat(CachingAllocator.sizeClass((1 << 20) + 1)).isEqualTo(2 << 20);
    assertThat(CachingAllocator.sizeClass(5L << 30)).isEqualTo(5L << 30);
  }

  @Test
  void aRepeatedStepMakesNoDriverAllocation() {
    FakeDevice device = new FakeDevice(1L << 30);
    CachingAllocator alloc = new CachingAllocator(device);
    long[] sizes = {100, 4096, 3 << 20, 777_777, 12 << 20};
    for (int step = 0; step < 5; step++) {
      long[] addresses = new long[sizes.length];
      for (int i = 0; i < sizes.length; i++) {
        addresses[i] = alloc.allocate(sizes[i]);
      }
      for (long a : addresses) {
        assertThat(alloc.free(a)).isTrue();
      }
    }
    assertThat(device.allocations).isEqualTo(sizes.length);
    assertThat(alloc.driverAllocations()).isEqualTo(sizes.length);
    assertThat(alloc.liveBytes()).isZero();
    assertThat(alloc.cachedBytes()).isEqualTo(device.used);
    alloc.close();
    assertThat(device.used).isZero();
    assertThat(device.blocks).isEmpty();
  }

  @Test
  void countsLiveCachedAndPeak() {
    FakeDevice device = new FakeDevice(1L << 30);
    CachingAllocator alloc = new CachingAllocator(device);
    long a = alloc.allocate(1000); // 1024
    long b = alloc.allocate(2 << 20);
    assertThat(alloc.liveBytes()).isEqualTo(1024 + (2 << 20));
    assertThat(alloc.owns(a)).isTrue();
    assertThat(alloc.requestedBytes(a)).isEqualTo(1000);
    assertThat(alloc.requestedBytes(a + 8)).isEqualTo(-1);
    alloc.free(b);
    assertThat(alloc.liveBytes()).isEqualTo(1024);
    assertThat(alloc.cachedBytes()).isEqualTo(2 << 20);
    assertThat(alloc.reservedBytes()).isEqualTo(1024 + (2 << 20));
    assertThat(alloc.free(b)).as("second free").isFalse();
    assertThat(alloc.free(12345)).as("foreign address").isFalse();
    alloc.releaseCache();
    assertThat(alloc.reservedBytes()).isEqualTo(1024);
    assertThat(alloc.peakReservedBytes()).isEqualTo(1024 + (2 << 20));
    alloc.close();
    assertThat(device.used).isZero();
  }

  @Test
  void reusesASomewhatLargerBlockButNotAMuchLargerOne() {
    FakeDevice device = new FakeDevice(1L << 30);
    CachingAllocator alloc = new CachingAllocator(device);
    long big = alloc.allocate(8 << 20);
    alloc.free(big);
    assertThat(alloc.allocate(15L << 19)).as("7.5 MiB fits in the cached 8 MiB").isEqualTo(big);
    long small = alloc.allocate(2048);
    alloc.free(small);
    assertThat(alloc.allocate(1024)).isEqualTo(small);
    alloc.free(small);
    assertThat(alloc.allocate(512)).as("4x smaller takes a new block").isNotEqualTo(small);
    long huge = alloc.allocate(64 << 20);
    alloc.free(huge);
    assertThat(alloc.allocate(32 << 20)).isNotEqualTo(huge);
    alloc.close();
  }

  @Test
  void outOfMemoryReleasesTheCacheAndRetriesOnce() {
    FakeDevice device = new FakeDevice(10 << 20);
    CachingAllocator alloc = new CachingAllocator(device);
    long a = alloc.allocate(4 << 20);
    long b = alloc.allocate(4 << 20);
    alloc.free(a);
    alloc.free(b);
    // 8 MiB cached, 2 MiB free on the device: 6 MiB fits only after the cache goes back
    long c = alloc.allocate(6 << 20);
    assertThat(alloc.cachedBytes()).isZero();
    assertThat(alloc.liveBytes()).isEqualTo(6 << 20);
    assertThat(device.frees).isEqualTo(2);
    assertThatThrownBy(() -> alloc.allocate(6 << 20))
        .isInstanceOf(CudaOutOfMemoryError.class)
        .isInstanceOf(OutOfMemoryError.class)
        .hasMessageContaining("6.00 MiB")
        .hasMessageContaining("fake device full");
    assertThat(alloc.owns(c)).isTrue();
    alloc.close();
    assertThat(device.used).isZero();
    assertThatThrownBy(() -> alloc.allocate(1)).isInstanceOf(IllegalStateException.class);
  }
}
