package dev.entity.bench;

import dev.entity.engine.quant.QuantFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the GGUF quantizers that {@code convert-to-gguf} runs over every weight matrix: one
 * 64 MiB F32 tensor (16M values) per call. GB/s of F32 input = 0.0671 / (seconds per call).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class QuantizeBenchmark {

  private static final long VALUES = 16L << 20; // 64 MiB of F32

  @Param({"Q8_0", "Q4_0", "Q5_1"})
  public String format;

  private Arena arena;
  private MemorySegment src;
  private MemorySegment dst;
  private QuantFormat quant;

  @Setup
  public void setup() {
    quant = QuantFormat.valueOf(format);
    arena = Arena.ofShared();
    src = arena.allocate(VALUES * 4, 64);
    dst = arena.allocate(quant.byteSize(VALUES), 64);
    SplittableRandom random = new SplittableRandom(7);
    for (long i = 0; i < VALUES; i++) {
      src.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextGaussian() * 0.02f);
    }
  }

  @TearDown
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public MemorySegment quantize() {
    quant.quantize(src, 0, dst, 0, VALUES);
    return dst;
  }
}
