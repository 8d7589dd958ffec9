package dev.entity.bench;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's peak F32 FMA rate as this JVM reaches it: twelve independent vector accumulators
 * (enough to cover FMA latency times throughput) updated in registers with no memory traffic. The
 * score is in FLOP per second (ops/s, one op = one FLOP); {@code peakAllThreads} runs one copy per
 * core. The matmul benchmarks are read against these numbers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PeakFlopsBenchmark {

  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final int FLOPS = (1 << 16) * 12 * 2 * 16;

  /** Loop rounds that make FLOPS floating-point operations whatever the vector width. */
  static final int ITERATIONS = (1 << 16) * 16 / F.length();

  float seed = 1.0001f;

  @Benchmark
  @OperationsPerInvocation(FLOPS)
  public float peakOneThread() {
    return fmaLoop();
  }

  @Benchmark
  @Threads(Threads.MAX)
  @OperationsPerInvocation(FLOPS)
  public float peakAllThreads() {
    return fmaLoop();
  }

  /**
   * Runs ITERATIONS rounds of 12 vector FMAs; when lanes are not 16 the score scales by lanes/16.
   */
  float fmaLoop() {
    FloatVector m = FloatVector.broadcast(F, seed);
    FloatVector add = FloatVector.broadcast(F, 1e-7f);
    FloatVector a0 = FloatVector.broadcast(F, 0.1f), a1 = FloatVector.broadcast(F, 0.2f);
    FloatVector a2 = FloatVector.broadcast(F, 0.3f), a3 = FloatVector.broadcast(F, 0.4f);
    FloatVector a4 = FloatVector.broadcast(F, 0.5f), a5 = FloatVector.broadcast(F, 0.6f);
    FloatVector a6 = FloatVector.broadcast(F, 0.7f), a7 = FloatVector.broadcast(F, 0.8f);
    FloatVector a8 = FloatVector.broadcast(F, 0.9f), a9 = FloatVector.broadcast(F, 1.0f);
    FloatVector a10 = FloatVector.broadcast(F, 1.1f), a11 = FloatVector.broadcast(F, 1.2f);
    for (int i = 0; i < ITERATIONS; i++) {
      a0 = a0.fma(m, add);
      a1 = a1.fma(m, add);
      a2 = a2.fma(m, add);
      a3 = a3.fma(m, add);
      a4 = a4.fma(m, add);
      a5 = a5.fma(m, add);
      a6 = a6.fma(m, add);
      a7 = a7.fma(m, add);
      a8 = a8.fma(m, add);
      a9 = a9.fma(m, add);
      a10 = a10.fma(m, add);
      a11 = a11.fma(m, add);
    }
    return a0.add(a1)
        .add(a2)
        .add(a3)
        .add(a4)
        .add(a5)
        .add(a6)
        .add(a7)
        .add(a8)
        .add(a9)
        .add(a10)
        .add(a11)
        .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
  }
}
