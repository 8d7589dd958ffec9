// Convention: "reserved" bytes are every block taken from the driver and not yet given back —
// live tensors plus the cache; that is what the backend reports as device memory in use.
package dev.entity.engine.backend.cuda;

import dev.entity.engine.backend.DeviceInfo;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching device allocator: freed blocks go to size-ordered free lists and are handed out again
 * to requests of the same size class, so a training step that repeats the last step's shapes makes
 * no driver allocation at all. Sizes round up to 512 bytes below 1 MiB and to whole MiB above; a
 * cached block is reused for a request up to 1/8 smaller (twice smaller for small blocks). When the
 * driver reports out-of-memory the allocator gives its whole cache back and tries once more before
 * throwing {@link CudaOutOfMemoryError}. Thread-safe.
 */
final class CachingAllocator implements AutoCloseable {

  static final long SMALL_ROUNDING = 512;
  static final long LARGE_ROUNDING = 1L << 20;

  private final DeviceMemory raw;

  /** A live block: its size class and the bytes asked for. */
  private record Block(long size, long requested) {}

  private final Map<Long, Block> live = new HashMap<>();
  private final TreeMap<Long, ArrayDeque<Long>> cache = new TreeMap<>();
  private long liveBytes;
  private long cachedBytes;
  private long peakReserved;
  private long driverAllocations;
  private boolean closed;

  CachingAllocator(DeviceMemory raw) {
    this.raw = raw;
  }

  /** The size class of a request: what a block for it really holds. */
  static long sizeClass(long bytes) {
    long b = Math.max(bytes, 1);
    long unit = b < LARGE_ROUNDING ? SMALL_ROUNDING : LARGE_ROUNDING;
    return Math.multiplyExact(Math.ceilDiv(b, unit), unit);
  }

  /** The largest cached block a request of class {@code size} may take. */
  static long reuseLimit(long size) {
    return size < LARGE_ROUNDING ? 2 * size : size + size / 8;
  }

  /** A block of at least {@code bytes}, from the cache when one fits. */
  synchronized long allocate(long bytes) {
    if (closed) {
      throw new IllegalStateException("the CUDA allocator is closed");
    }
    long size = sizeClass(bytes);
    Map.Entry<Long, ArrayDeque<Long>> fit = cache.ceilingEntry(size);
    long address;
    long blockSize;
    if (fit != null && fit.getKey() <= reuseLimit(size)) {
      blockSize = fit.getKey();
      address = fit.getValue().pop();
      if (fit.getValue().isEmpty()) {
        cache.remove(blockSize);
      }
      cachedBytes -= blockSize;
    } else {
      blockSize = size;
      address = fromDriver(size, bytes);
    }
    live.put(address, new Block(blockSize, bytes));
    liveBytes += blockSize;
    peakReserved = Math.max(peakReserved, reservedBytes());
    return address;
  }

  private long fromDriver(long size, long requested) {
    try {
      driverAllocations++;
      return raw.allocate(size);
    } catch (CudaOutOfMemoryError first) {
      long released = cachedBytes;
      releaseCache();
      try {
        driverAllocations++;
        return raw.allocate(size);
      } catch (CudaOutOfMemoryError second) {
        throw new CudaOutOfMemoryError(
            "GPU out of memory allocating "
                + DeviceInfo.formatBytes(requested)
                + " with "
                + DeviceInfo.formatBytes(liveBytes)
                + " in live tensors (cache of "
                + DeviceInfo.formatBytes(released)
                + " already given back): "
                + second.getMessage());
      }
    }
  }

  /** Returns a block to the cache; false when {@code address} is not a live block of ours. */
  synchronized boolean free(long address) {
    Block block = live.remove(address);
    if (block == null) {
      return false;
    }
    long size = block.size();
    liveBytes -= size;
    cachedBytes += size;
    cache.computeIfAbsent(size, s -> new ArrayDeque<>()).push(address);
    return true;
  }

  synchronized boolean owns(long address) {
    return live.containsKey(address);
  }

  /** The bytes asked for by the live block at {@code address}; -1 when there is none. */
  synchronized long requestedBytes(long address) {
    Block block = live.get(address);
    return block == null ? -1 : block.requested();
  }

  /** Gives every cached block back to the driver. */
  synchronized void releaseCache() {
    for (Map.Entry<Long, ArrayDeque<Long>> e : cache.entrySet()) {
      for (long address : e.getValue()) {
        raw.free(address);
      }
    }
    cache.clear();
    cachedBytes = 0;
  }

  synchronized long liveBytes() {
    return liveBytes;
  }

  synchronized long cachedBytes() {
    return cachedBytes;
  }

  /** Live plus cached: device memory held from the driver. */
  synchronized long reservedBytes() {
    return liveBytes + cachedBytes;
  }

  synchronized long peakReservedBytes() {
    return peakReserved;
  }

  /** How many times the driver was asked for memory (a steady training step asks zero times). */
  synchronized long driverAllocations() {
    return driverAllocations;
  }

  /** Frees every block, live or cached. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    releaseCache();
    for (long address : live.keySet()) {
      raw.free(address);
    }
    live.clear();
    liveBytes = 0;
    closed = true;
  }
}
