package dev.entity.bench;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * The memory-bound kernels of a training step: cross-entropy over a chunk of 256 rows of a 49152
 * vocabulary (smollm2), AdamW over 4M parameters, RMSNorm forward and backward over (2048, 576),
 * SwiGLU forward over (2048, 1536). Compare with the scalar references by passing {@code
 * -jvmArgsAppend -Dentity.cpu.scalar=true}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainingKernelsBenchmark {

  @Param({"0"})
  public int threads;

  private Backend backend;
  private Tensor logits, logitsSource, targets, losses;
  private Tensor param, grad, m, v;
  private Tensor x, w, normOut, rstd, dx, dw;
  private Tensor gate, up, act;

  @Setup(Level.Trial)
  public void setUp() {
    backend = MatmulBenchmark.cpuBackend(threads);
    logitsSource = MatmulBenchmark.random(backend, DType.F32, 256, 49152);
    logits = backend.allocate(DType.F32, 256, 49152);
    targets = backend.allocate(DType.I32, 256);
    losses = backend.allocate(DType.F32, 256);
    param = MatmulBenchmark.random(backend, DType.F32, 4L << 20);
    grad = MatmulBenchmark.random(backend, DType.F32, 4L << 20);
    m = backend.allocate(DType.F32, 4L << 20);
    v = backend.allocate(DType.F32, 4L << 20);
    x = MatmulBenchmark.random(backend, DType.F32, 2048, 576);
    w = MatmulBenchmark.random(backend, DType.F32, 576);
    normOut = backend.allocate(DType.F32, 2048, 576);
    rstd = backend.allocate(DType.F32, 2048);
    dx = backend.allocate(DType.F32, 2048, 576);
    dw = backend.allocate(DType.F32, 576);
    gate = MatmulBenchmark.random(backend, DType.F32, 2048, 1536);
    up = MatmulBenchmark.random(backend, DType.F32, 2048, 1536);
    act = backend.allocate(DType.F32, 2048, 1536);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
  }

  /** Includes a copy of the logits (the op overwrites its input), 50 MB read and written. */
  @Benchmark
  public Tensor crossEntropy256x49152() {
    backend.download(logits, logitsSource);
    backend.crossEntropyForwardBackward(losses, logits, targets, -100, 1f / 256);
    return losses;
  }

  @Benchmark
  public Tensor adamw4M() {
    backend.adamw(param, grad, m, v, 1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f, 1f, 10);
    return param;
  }

  @Benchmark
  public Tensor rmsNormForwardBackward() {
    backend.rmsNormForward(normOut, rstd, x, w, 1e-5f);
    backend.rmsNormBackward(dx, dw, normOut, x, w, rstd);
    return dx;
  }

  @Benchmark
  public Tensor swigluForward() {
    backend.swigluForward(act, gate, up);
    return act;
  }
}
