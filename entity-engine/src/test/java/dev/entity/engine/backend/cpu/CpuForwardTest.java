// Dimensions: B batch, T time, NH/NKV query/key-value heads, HS head size, N rows, V vocabulary,
// M/K/N of a matrix product. Each forward is compared with a naive double-precision formula
// written out here, independent of the kernels.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.HostTensors.copy;
import static dev.entity.engine.backend.cpu.HostTensors.get;
import static dev.entity.engine.backend.cpu.HostTensors.ints;
import static dev.entity.engine.backend.cpu.HostTensors.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.entity.engine.EngineException;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CpuForwardTest {

  private static void withBackend(boolean scalar, java.util.function.Consumer<CpuBackend> body) {
    try (CpuBackend be = new CpuBackend(2, scalar)) {
      body.accept(be);
    }
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void matmulAllTransposesAlphaAccumulateAndHalfPrecisionOperands(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(20);
          long m = 7, k = 9, n = 5;
          for (DType bType : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int combo = 0; combo < 4; combo++) {
              boolean ta = (combo & 1) != 0, tb = (combo & 2) != 0;
              Tensor a = random(be, rng, 1f, ta ? k : m, ta ? m : k);
              Tensor b32 = random(be, rng, 1f, tb ? n : k, tb ? k : n);
              Tensor b = be.allocate(bType, b32.shape());
              be.convert(b, b32);
              Tensor out = random(be, rng, 1f, m, n);
              Tensor before = copy(be, out);
              be.matmul(out, a, b, ta, tb, 0.5f, true);
              Tensor fresh = random(be, rng, 1f, m, n);
              be.matmul(fresh, a, b, ta, tb, 1f, false); // overwrites whatever was there
              for (long i = 0; i < m; i++) {
                for (long j = 0; j < n; j++) {
                  double acc = 0;
                  for (long p = 0; p < k; p++) {
                    acc +=
                        (double) get(a, ta ? p * m + i : i * k + p)
                            * get(b, tb ? j * k + p : p * n + j);
                  }
                  double expected = get(before, i * n + j) + 0.5 * acc;
                  assertThat((double) get(out, i * n + j))
                      .as("%s transA=%s transB=%s [%d,%d]", bType, ta, tb, i, j)
                      .isCloseTo(expected, offset(1e-4 * (1 + Math.abs(expected))));
                  assertThat((double) get(fresh, i * n + j))
                      .isCloseTo(acc, offset(1e-4 * (1 + Math.abs(acc))));
                }
              }
            }
          }
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void attentionMatchesFullScoreMatrixSoftmax(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(21);
          int b = 2, t = 6, nh = 4, nkv = 2, hs = 5;
          Tensor q = random(be, rng, 1f, b, t, nh, hs);
          Tensor k = random(be, rng, 1f, b, t, nkv, hs);
          Tensor v = random(be, rng, 1f, b, t, nkv, hs);
          int[] segIds = {0, 0, 0, 1, 1, 2, 5, 5, 5, 5, 5, 5};
          Tensor seg = ints(be, segIds, b, t);
          Tensor out = be.allocate(DType.F32, b, t, nh, hs);
          Tensor lse = be.allocate(DType.F32, b, nh, t);
          float scale = 0.37f;
          be.attentionForward(out, lse, q, k, v, seg, scale);
          for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
              int kh = h / (nh / nkv);
              double[][] s = new double[t][t];
              for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                  boolean masked = j > i || segIds[bi * t + i] != segIds[bi * t + j];
                  double dotv = 0;
                  for (int d = 0; d < hs; d++) {
                    dotv +=
                        (double) get(q, ((bi * t + i) * nh + h) * hs + d)
                            * get(k, ((bi * t + j) * nkv + kh) * hs + d);
                  }
                  s[i][j] = masked ? Double.NEGATIVE_INFINITY : dotv * scale;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (double x : s[i]) {
                  max = Math.max(max, x);
                }
                double sum = 0;
                for (double x : s[i]) {
                  sum += Math.exp(x - max);
                }
                assertThat((double) get(lse, (bi * nh + h) * t + i))
                    .isCloseTo(max + Math.log(sum), offset(1e-5));
                for (int d = 0; d < hs; d++) {
                  double o = 0;
                  for (int j = 0; j < t; j++) {
                    o += Math.exp(s[i][j] - max) / sum * get(v, ((bi * t + j) * nkv + kh) * hs + d);
                  }
                  assertThat((double) get(out, ((bi * t + i) * nh + h) * hs + d))
                      .as("out[%d,%d,%d,%d]", bi, i, h, d)
                      .isCloseTo(o, offset(1e-5));
                }
              }
            }
          }
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void ropeMatchesHuggingFaceRotateHalf(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(22);
          int n = 3, heads = 2, hs = 8, half = hs / 2;
          Tensor x = random(be, rng, 1f, n, heads, hs);
          Tensor original = copy(be, x);
          int[] positions = {0, 5, 1000};
          Tensor pos = ints(be, positions, n);
          Tensor invFreq = be.allocate(DType.F32, half);
          for (int i = 0; i < half; i++) {
            HostTensors.set(invFreq, i, (float) Math.pow(500000, -2.0 * i / hs));
          }
          be.rope(x, pos, invFreq, false);
          for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
              int base = (r * heads + h) * hs;
              for (int d = 0; d < hs; d++) {
                // emb = cat(freqs, freqs); out = x * cos(emb) + rotate_half(x) * sin(emb)
                double angle = (float) positions[r] * get(invFreq, d % half);
                double rotated =
                    d < half ? -get(original, base + d + half) : get(original, base + d - half);
                double expected =
                    get(original, base + d) * Math.cos(angle) + rotated * Math.sin(angle);
                assertThat((double) get(x, base + d)).isCloseTo(expected, offset(1e-5));
              }
            }
          }
          be.rope(x, pos, invFreq, true);
          assertThat(HostTensors.maxAbsDiff(x, original)).isLessThan(1e-5);
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void adamwTwoStepsByHand(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Tensor p = HostTensors.filled(be, 1.0f, 37);
          Tensor g = HostTensors.filled(be, 0.5f, 37);
          Tensor m = be.allocate(DType.F32, 37);
          Tensor v = be.allocate(DType.F32, 37);
          float lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f, gs = 2f;
          double pp = 1.0, mm = 0, vv = 0;
          for (int step = 1; step <= 2; step++) {
            be.adamw(p, g, m, v, lr, b1, b2, eps, wd, gs, step);
            double gg = 0.5 * gs;
            mm = b1 * mm + (1 - b1) * gg;
            vv = b2 * vv + (1 - b2) * gg * gg;
            double mhat = mm / (1 - Math.pow(b1, step));
            double vhat = vv / (1 - Math.pow(b2, step));
            pp = pp - lr * (mhat / (Math.sqrt(vhat) + eps) + wd * pp);
          }
          for (int i = 0; i < 37; i++) {
            assertThat((double) get(p, i)).isCloseTo(pp, offset(1e-6));
            assertThat((double) get(m, i)).isCloseTo(mm, offset(1e-6));
            assertThat((double) get(v, i)).isCloseTo(vv, offset(1e-7));
          }
          // a constant gradient makes m-hat / sqrt(v-hat) = 1: each step moves by lr (1 + wd p)
          assertThat(pp)
              .isCloseTo(1.0 - 0.1 * 1.01 - 0.1 * (1 + 0.01 * (1 - 0.1 * 1.01)), offset(1e-3));
          assertThatThrownBy(() -> be.adamw(p, g, m, v, lr, b1, b2, eps, wd, gs, 0))
              .hasMessageContaining("step");
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void dropoutIsDeterministicAndKeepsOneMinusP(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          long n = 100_003;
          Tensor x = HostTensors.filled(be, 2f, n);
          Tensor a = be.allocate(DType.F32, n);
          Tensor b = be.allocate(DType.F32, n);
          be.dropout(a, x, 0.25f, 42);
          be.dropout(b, x, 0.25f, 42);
          assertThat(HostTensors.maxAbsDiff(a, b)).isZero();
          long kept = 0;
          for (long i = 0; i < n; i++) {
            float v = get(a, i);
            assertThat(v == 0f || v == 2f / 0.75f).isTrue();
            kept += v != 0f ? 1 : 0;
          }
          assertThat(kept / (double) n).isCloseTo(0.75, offset(0.01));
          be.dropout(b, x, 0.25f, 43);
          assertThat(HostTensors.maxAbsDiff(a, b)).isPositive();
          be.dropout(x, x, 0.25f, 42); // in place
          assertThat(HostTensors.maxAbsDiff(a, x)).isZero();
          assertThatThrownBy(() -> be.dropout(a, x, 1f, 1)).hasMessageContaining("[0, 1)");
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void crossEntropyGradientIsSoftmaxMinusOneHot(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(23);
          int n = 5, v = 301;
          Tensor logits = random(be, rng, 3f, n, v);
          Tensor original = copy(be, logits);
          int[] targets = {0, 300, -1, 17, 17};
          Tensor losses = HostTensors.filled(be, 9f, n);
          be.crossEntropyForwardBackward(losses, logits, ints(be, targets, n), -1, 0.25f);
          for (int r = 0; r < n; r++) {
            if (targets[r] == -1) {
              assertThat(get(losses, r)).isZero();
              for (int i = 0; i < v; i++) {
                assertThat(get(logits, (long) r * v + i)).isZero();
              }
              continue;
            }
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < v; i++) {
              max = Math.max(max, get(original, (long) r * v + i));
            }
            for (int i = 0; i < v; i++) {
              sum += Math.exp(get(original, (long) r * v + i) - max);
            }
            double lse = max + Math.log(sum);
            assertThat((double) get(losses, r))
                .isCloseTo(lse - get(original, (long) r * v + targets[r]), offset(1e-5));
            for (int i = 0; i < v; i++) {
              double p = Math.exp(get(original, (long) r * v + i) - lse);
              double expected = 0.25 * (p - (i == targets[r] ? 1 : 0));
              assertThat((double) get(logits, (long) r * v + i)).isCloseTo(expected, offset(1e-6));
            }
          }
          Tensor bad = ints(be, new int[] {0, 301, 0, 0, 0}, n);
          assertThatThrownBy(() -> be.crossEntropyForwardBackward(losses, logits, bad, -1, 1f))
              .isInstanceOf(EngineException.class)
              .hasMessageContaining("label 301 at row 1");
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void normsMatchTheirFormulas(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(24);
          int n = 3, c = 19;
          Tensor x = random(be, rng, 2f, n, c);
          Tensor w32 = random(be, rng, 1f, c);
          Tensor w = be.allocate(DType.BF16, c); // frozen BF16 weight
          be.convert(w, w32);
          Tensor bias = random(be, rng, 1f, c);
          Tensor out = be.allocate(DType.F32, n, c);
          Tensor mean = be.allocate(DType.F32, n);
          Tensor rstd = be.allocate(DType.F32, n);
          be.rmsNormForward(out, rstd, x, w, 1e-6f);
          for (int r = 0; r < n; r++) {
            double ss = 0;
            for (int i = 0; i < c; i++) {
              ss += Math.pow(get(x, r * c + i), 2);
            }
            double rs = 1 / Math.sqrt(ss / c + 1e-6);
            for (int i = 0; i < c; i++) {
              assertThat((double) get(out, r * c + i))
                  .isCloseTo(get(x, r * c + i) * rs * get(w, i), offset(1e-5));
            }
          }
          be.layerNormForward(out, mean, rstd, x, w, bias, 1e-5f);
          for (int r = 0; r < n; r++) {
            double mu = 0, var = 0;
            for (int i = 0; i < c; i++) {
              mu += get(x, r * c + i) / (double) c;
            }
            for (int i = 0; i < c; i++) {
              var += Math.pow(get(x, r * c + i) - mu, 2) / c;
            }
            for (int i = 0; i < c; i++) {
              double e =
                  (get(x, r * c + i) - mu) / Math.sqrt(var + 1e-5) * get(w, i) + get(bias, i);
              assertThat((double) get(out, r * c + i)).isCloseTo(e, offset(1e-5));
            }
          }
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void activationsAndElementwise(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(25);
          long n = 1003;
          Tensor a = random(be, rng, 2f, n);
          Tensor b = random(be, rng, 2f, n);
          Tensor out = be.allocate(DType.F32, n);
          be.swigluForward(out, a, b);
          for (long i = 0; i < n; i++) {
            double g = get(a, i);
            assertThat((double) get(out, i))
                .isCloseTo(g / (1 + Math.exp(-g)) * get(b, i), offset(1e-5));
          }
          be.geluForward(out, a);
          for (long i = 0; i < n; i++) {
            double xv = get(a, i);
            double e =
                0.5 * xv * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (xv + 0.044715 * xv * xv * xv)));
            assertThat((double) get(out, i)).isCloseTo(e, offset(1e-5));
          }
          be.add(out, a, b);
          be.axpy(out, a, -0.5f);
          be.scale(out, 3f);
          for (long i = 0; i < n; i++) {
            double e = 3 * (get(a, i) + get(b, i) - 0.5 * get(a, i));
            assertThat((double) get(out, i)).isCloseTo(e, offset(1e-4));
          }
          double sum = 0, sq = 0;
          for (long i = 0; i < n; i++) {
            sum += get(a, i);
            sq += (double) get(a, i) * get(a, i);
          }
          assertThat(be.sum(a)).isCloseTo(sum, offset(1e-6 * sq));
          assertThat(be.sumOfSquares(a))
              .isCloseTo(sq, offset(1e-5 * sq)); // F32 lanes within a chunk
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void embeddingLooksUpRowsAndRejectsBadIds(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(26);
          Tensor table = random(be, rng, 1f, 6, 4);
          Tensor out = be.allocate(DType.F32, 3, 4);
          be.embeddingForward(out, ints(be, new int[] {5, 0, 5}, 3), table);
          for (int i = 0; i < 4; i++) {
            assertThat(get(out, i)).isEqualTo(get(table, 20 + i));
            assertThat(get(out, 4 + i)).isEqualTo(get(table, i));
            assertThat(get(out, 8 + i)).isEqualTo(get(table, 20 + i));
          }
          assertThatThrownBy(
                  () -> be.embeddingForward(out, ints(be, new int[] {0, 6, 1}, 3), table))
              .isInstanceOf(EngineException.class)
              .hasMessageContaining("token id 6 at position 1");
        });
  }
}
