package dev.entity.engine.backend;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Wall time spent in each backend op while recording, for {@code entity-train benchmark train
 * --profile}: where a training step goes, op by op. Matrix products are told apart by their
 * dimensions, other ops by the shape of their first tensor. A backend's calls come from the thread
 * driving the model; the kernels' own workers are inside those calls.
 */
public final class BackendProfiler {

  /** One op (with its shape): how often it ran and for how long, in all. */
  public record Entry(String op, long calls, double seconds) {}

  private final Map<String, long[]> times = new HashMap<>(); // op -> {calls, nanos}
  private volatile boolean recording;

  /** A backend that forwards every call to {@code backend}, timing the calls while recording. */
  public Backend wrap(Backend backend) {
    return (Backend)
        Proxy.newProxyInstance(
            Backend.class.getClassLoader(),
            new Class<?>[] {Backend.class},
            (proxy, method, args) -> {
              long start = System.nanoTime();
              try {
                return method.invoke(backend, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              } finally {
                if (recording) {
                  add(key(method, args), System.nanoTime() - start);
                }
              }
            });
  }

  /** Starts or stops recording; what was recorded is kept. */
  public void recording(boolean on) {
    recording = on;
  }

  private synchronized void add(String key, long nanos) {
    long[] t = times.computeIfAbsent(key, k -> new long[2]);
    t[0]++;
    t[1] += nanos;
  }

  /** What was recorded, the longest first. */
  public synchronized List<Entry> entries() {
    List<Entry> entries = new ArrayList<>();
    times.forEach((op, t) -> entries.add(new Entry(op, t[0], t[1] / 1e9)));
    entries.sort(Comparator.comparingDouble(Entry::seconds).reversed());
    return entries;
  }

  /**
   * "matmul 2048x576x1536 b^T +=" (M x K x N, which operand is transposed, whether it accumulates,
   * a weight's dtype when not F32), or "dropout [2048, 576]", or the op's name.
   */
  static String key(Method method, Object[] args) {
    String name = method.getName();
    if (name.equals("matmul") || name.equals("matmulPlusLowRank")) {
      Tensor out = (Tensor) args[0];
      Tensor a = (Tensor) args[1];
      Tensor b = (Tensor) args[2];
      boolean transA = name.equals("matmul") && (boolean) args[3];
      boolean transB = (boolean) args[name.equals("matmul") ? 4 : 3];
      boolean accumulate = (boolean) args[name.equals("matmul") ? 6 : 4];
      long n = out.dim(-1);
      long m = n == 0 ? 0 : out.elementCount() / n;
      long k = transA ? a.dim(0) : a.dim(-1);
      return String.format(
          Locale.ROOT,
          "%s %dx%dx%d%s%s%s%s",
          name,
          m,
          k,
          n,
          transA ? " a^T" : "",
          transB ? " b^T" : "",
          accumulate ? " +=" : "",
          b.dtype() == DType.F32 ? "" : " b " + b.dtype());
    }
    if (args != null && args.length > 0 && args[0] instanceof Tensor t) {
      return name + " " + Arrays.toString(t.shape());
    }
    return name;
  }
}
