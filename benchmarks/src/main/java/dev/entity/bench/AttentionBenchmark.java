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
 * Causal GQA attention of one layer at smollm2-135m's shape (NH=9, NKV=3, HS=64), batch 4 at
 * sequence 512 by default: forward, and backward (which recomputes probabilities from the saved
 * log-sum-exp). Useful FLOPs: forward 2 * 2 * B * NH * T^2/2 * HS, backward 2.5 times that.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBenchmark {

  @Param({"4"})
  public int batch;

  @Param({"512"})
  public int seq;

  @Param({"9:3:64"})
  public String heads;

  @Param({"0"})
  public int threads;

  private Backend backend;
  private Tensor q, k, v, out, lse, dq, dk, dv;
  private float scale;

  @Setup(Level.Trial)
  public void setUp() {
    backend = MatmulBenchmark.cpuBackend(threads);
    String[] h = heads.split(":");
    long nh = Long.parseLong(h[0]), nkv = Long.parseLong(h[1]), hs = Long.parseLong(h[2]);
    q = MatmulBenchmark.random(backend, DType.F32, batch, seq, nh, hs);
    k = MatmulBenchmark.random(backend, DType.F32, batch, seq, nkv, hs);
    v = MatmulBenchmark.random(backend, DType.F32, batch, seq, nkv, hs);
    out = backend.allocate(DType.F32, batch, seq, nh, hs);
    lse = backend.allocate(DType.F32, batch, nh, seq);
    dq = backend.allocate(DType.F32, batch, seq, nh, hs);
    dk = backend.allocate(DType.F32, batch, seq, nkv, hs);
    dv = backend.allocate(DType.F32, batch, seq, nkv, hs);
    scale = (float) (1 / Math.sqrt(hs));
    backend.attentionForward(out, lse, q, k, v, null, scale);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
  }

  @Benchmark
  public Tensor forward() {
    backend.attentionForward(out, lse, q, k, v, null, scale);
    return out;
  }

  @Benchmark
  public Tensor backward() {
    backend.attentionBackward(dq, dk, dv, out, q, k, v, out, lse, null, scale);
    return dq;
  }
}
