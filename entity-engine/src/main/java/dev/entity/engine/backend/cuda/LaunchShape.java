package dev.entity.engine.backend.cuda;

/**
 * Grid and block dimensions of one kernel launch, and its dynamic shared memory in bytes. A value
 * type so that each op states its launch geometry in one line.
 */
public record LaunchShape(
    int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {

  public LaunchShape {
    if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1) {
      throw new IllegalArgumentException("launch dimensions must be positive: " + this);
    }
    if (sharedBytes < 0) {
      throw new IllegalArgumentException("shared memory must not be negative: " + sharedBytes);
    }
  }

  /** One-dimensional launch covering {@code n} threads in blocks of {@code block}. */
  public static LaunchShape covering(long n, int block) {
    long blocks = Math.max(1, (n + block - 1) / block);
    if (blocks > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many blocks for " + n + " threads");
    }
    return new LaunchShape((int) blocks, 1, 1, block, 1, 1, 0);
  }

  /** {@code grid} blocks (x, y) of {@code block} threads with {@code sharedBytes} shared memory. */
  public static LaunchShape of(int gridX, int gridY, int block, int sharedBytes) {
    return new LaunchShape(gridX, gridY, 1, block, 1, 1, sharedBytes);
  }
}
