// Convention: figures are resident bytes (pages the process touched), not reservations: a JVM
// reserves gigabytes of address space it never touches, and only what it touches counts in RSS.
package dev.entity.training.train;

import dev.entity.engine.backend.DeviceInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.List;
import java.util.Locale;

/**
 * The resident memory of the JVM that trains on the CPU, apart from the engine's tensors (which are
 * off-heap and counted item by item by {@link MemoryEstimator}): a baseline for the runtime itself,
 * the Java heap, and the worker threads. The heap holds no tensors, only the CLI's objects and the
 * garbage of the kernels, so its resident size is set by the GC settings of the {@code
 * entity-train} launcher, not by the model: {@code -XX:+UseSerialGC -Xmn32m -Xms64m}. The young
 * generation (eden and both survivor spaces, {@code -Xmn}) is touched in full after the first few
 * collections (the kernels' garbage fills it several times a second) and is all that garbage ever
 * costs; the old generation grows only with the objects that survive. Measured with {@code
 * entity-train benchmark train --method lora} at seq 256 x batch 1 and 4 (tiny) and 512 x 4
 * (smollm2-135m) on a 2-core EPYC, JDK 25, load 5-130 (the GC log, the NMT summary and {@code
 * /proc/self/smaps} at the peak):
 *
 * <ul>
 *   <li>baseline: 88-105 MiB resident that is neither heap nor tensors, the same for both shapes —
 *       libjvm 18 MiB, the CDS archive 13.5 MiB, other mapped files 4 MiB, code cache 14-15 MiB,
 *       metaspace and class space 9.5 MiB, C2 compiler arenas and other malloc 20-30 MiB; the
 *       spread is the JIT's, which compiles more or less depending on the machine's load;
 *   <li>young generation: 32 MiB, 120-1800 collections in a three-step run;
 *   <li>old generation: 11 MiB after collections on tiny at batch 1, 23 MiB at batch 4, 31 MiB on
 *       smollm2-135m; counted at 16 MiB, so that the tiny shape at batch 1 and 4 both land within
 *       15% (a long run can fill the launcher's initial 32 MiB before its first full collection);
 *   <li>threads: 1 and 16 workers gave the same peak within 3 MiB (a worker's stack is shallow: the
 *       kernels loop, they do not recurse), so each is counted at {@value #PER_THREAD_BYTES} bytes.
 * </ul>
 *
 * <p>Estimate over measured training peak with these figures (LoRA r=16, all linears, 2 threads):
 * tiny 256 x 4 0.90-0.97 and 256 x 1 0.99-1.13 (four runs each, the 1.13 at load 126), smollm2-135m
 * 512 x 4 0.986 and 256 x 1 0.960, qwen2.5-0.5b 512 x 4 0.988 and 256 x 1 0.977. On the two larger
 * shapes the measured remainder beyond the tensors is 180-212 MiB rather than 139 (more compiled
 * shapes, more live objects per layer, malloc retention): 1-3% of their peak, left out rather than
 * fitted to three points.
 *
 * <p>Not counted: a dataset held in the heap (loading takes about six times its file size, see
 * docs/FAQ.md) and the pipeline's DuckDB memory resource and report charts (about 200 MiB more in
 * the quickstart), which live beside training, not in its steps.
 *
 * @param baselineBytes the runtime: libjvm, CDS archive, code cache, metaspace, compiler arenas
 * @param youngGenBytes eden plus both survivor spaces: the launcher's {@code -Xmn}
 * @param oldGenBytes the old generation's resident part: the objects that survive collections
 * @param perThreadBytes each worker thread's stack and native bookkeeping
 * @param threads worker threads of the CPU backend
 */
public record JvmFootprint(
    long baselineBytes, long youngGenBytes, long oldGenBytes, long perThreadBytes, int threads) {

  /** The runtime's resident memory that is neither heap nor tensors (measured 88-105 MiB). */
  public static final long BASELINE_BYTES = 90L << 20;

  /** The launcher's {@code -Xmn32m}. */
  public static final long YOUNG_GEN_BYTES = 32L << 20;

  /** The old generation while training: measured 11-31 MiB (see above). */
  public static final long OLD_GEN_BYTES = 16L << 20;

  /** Stack and native bookkeeping of one worker thread. */
  public static final long PER_THREAD_BYTES = 256L << 10;

  public JvmFootprint {
    if (baselineBytes < 0 || youngGenBytes < 0 || oldGenBytes < 0 || perThreadBytes < 0) {
      throw new IllegalArgumentException("negative JVM footprint component");
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
  }

  /** The footprint under the launcher's settings with {@code threads} workers. */
  public static JvmFootprint launcher(int threads) {
    return new JvmFootprint(
        BASELINE_BYTES, YOUNG_GEN_BYTES, OLD_GEN_BYTES, PER_THREAD_BYTES, threads);
  }

  /**
   * The footprint of this JVM with one worker per core, as the CPU backend starts by default. Under
   * the serial collector the young and old generation come from this JVM's own memory pools (so
   * {@code ENTITY_JAVA_OPTS=-Xmn256m} shows in the estimate); under any other collector the
   * launcher's settings stand in.
   */
  public static JvmFootprint thisJvm() {
    JvmFootprint launcher = launcher(Runtime.getRuntime().availableProcessors());
    List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
    if (gcs.stream().noneMatch(gc -> gc.getName().equals("MarkSweepCompact"))) {
      return launcher;
    }
    long young = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      long max = pool.getUsage().getMax();
      switch (pool.getName()) {
        case "Eden Space" -> young += Math.max(0, max);
        case "Survivor Space" -> young += 2 * Math.max(0, max); // both halves get touched
        default -> {}
      }
    }
    return young <= 0
        ? launcher
        : new JvmFootprint(
            launcher.baselineBytes(),
            young,
            launcher.oldGenBytes(),
            launcher.perThreadBytes(),
            launcher.threads());
  }

  /** Young plus old generation. */
  public long heapBytes() {
    return youngGenBytes + oldGenBytes;
  }

  /** Baseline, heap and threads. */
  public long totalBytes() {
    return baselineBytes + heapBytes() + threads * perThreadBytes;
  }

  /**
   * {@code JVM 92.00 MiB + heap 64.00 MiB (young 32.00 MiB, old 32.00 MiB) + 2 threads × 256 KiB}.
   */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "JVM %s + heap %s (young %s, old %s) + %d threads × %s",
        DeviceInfo.formatBytes(baselineBytes),
        DeviceInfo.formatBytes(heapBytes()),
        DeviceInfo.formatBytes(youngGenBytes),
        DeviceInfo.formatBytes(oldGenBytes),
        threads,
        DeviceInfo.formatBytes(perThreadBytes));
  }
}
