package dev.entity.bench;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.BackendProvider;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
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
 * Matrix products at the shapes of a small LLM's training step and of decoding (smollm2-135m:
 * C=576, the MLP's 1536, vocabulary 49152; B*T = 2048 rows). {@code shape} is "MxKxN" plus the
 * case: {@code xWt} is the forward of a linear layer (y = x W^T, W stored (N, K)), {@code dyW} the
 * input gradient (dx += dy W), {@code dWt} the weight gradient (dW += dy^T x, a stored (K, M)), a
 * {@code -bf16} suffix a frozen BF16 weight. "85x576x49152" is one chunk of the tied lm_head as the
 * loss calls it (forward and dX); the shapes with 16 are LoRA's r = 16 products (x A^T, h B^T, dh =
 * dout B, dA, dB); M = 1 and 4 are decode steps (the matrix-vector path). Time per product; GFLOP/s
 * = 2 M K N / time, weight bandwidth = weight bytes / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MatmulBenchmark {

  @Param({
    "2048x576x576:xWt",
    "2048x576x1536:xWt",
    "2048x1536x576:xWt",
    "2048x1536x576:dyW",
    "2048x576x1536:dyW",
    "576x2048x576:dWt",
    "2048x576x1536:xWt-bf16",
    "2048x1536x576:dyW-bf16",
    "85x576x49152:xWt",
    "85x49152x576:dyW",
    "2048x576x16:xWt",
    "2048x16x1536:xWt",
    "2048x1536x16:dyW",
    "16x2048x576:dWt",
    "1536x2048x16:dWt",
    "1x576x1536:xWt",
    "1x576x1536:xWt-bf16",
    "1x576x49152:xWt",
    "4x576x1536:xWt"
  })
  public String shape;

  @Param({"0"})
  public int threads;

  private Backend backend;
  private Tensor out;
  private Tensor a;
  private Tensor b;
  private boolean transA;
  private boolean transB;
  private boolean accumulate;

  /** The "cpu" backend from the ServiceLoader, as the trainer finds it. */
  static Backend cpuBackend(int threads) {
    return ServiceLoader.load(BackendProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(p -> p.name().equals("cpu"))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no cpu BackendProvider on the class path"))
        .create(threads);
  }

  static Tensor random(Backend be, DType dtype, long... shape) {
    Tensor host = be.allocate(DType.F32, shape);
    SplittableRandom rng = new SplittableRandom(shape.length * 31L + shape[0]);
    for (long i = 0; i < host.elementCount(); i++) {
      host.data()
          .setAtIndex(
              java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rng.nextDouble(-1, 1));
    }
    if (dtype == DType.F32) {
      return host;
    }
    Tensor t = be.allocate(dtype, shape);
    be.convert(t, host);
    return t;
  }

  @Setup(Level.Trial)
  public void setUp() {
    backend = cpuBackend(threads);
    String[] parts = shape.split(":");
    String[] mkn = parts[0].split("x");
    long m = Long.parseLong(mkn[0]), k = Long.parseLong(mkn[1]), n = Long.parseLong(mkn[2]);
    String kind = parts[1];
    transA = kind.equals("dWt");
    transB = kind.startsWith("xWt");
    accumulate = !transB; // gradients accumulate, as the layers call them
    DType weight = kind.endsWith("-bf16") ? DType.BF16 : DType.F32;
    a = random(backend, DType.F32, transA ? k : m, transA ? m : k);
    b = random(backend, weight, transB ? n : k, transB ? k : n);
    out = backend.allocate(DType.F32, m, n);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
  }

  @Benchmark
  public Tensor matmul() {
    backend.matmul(out, a, b, transA, transB, 1f, accumulate);
    return out;
  }
}
