// Dimensions: B batch, T time, C channels, OC output channels, NH/NKV query/key-value heads, HS
// head
// size, V vocabulary, N rows. Every backward is checked against central finite differences of
// loss = sum(r * out) for a random r, with gradients pre-filled to check that backward accumulates.
package dev.entity.engine.backend.cpu;

import static dev.entity.engine.backend.cpu.HostTensors.copy;
import static dev.entity.engine.backend.cpu.HostTensors.dot;
import static dev.entity.engine.backend.cpu.HostTensors.doubles;
import static dev.entity.engine.backend.cpu.HostTensors.ints;
import static dev.entity.engine.backend.cpu.HostTensors.random;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CpuGradientCheckTest {

  private static void withBackend(boolean scalar, java.util.function.Consumer<CpuBackend> body) {
    try (CpuBackend be = new CpuBackend(2, scalar)) {
      body.accept(be);
    }
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void linearLayerThroughMatmulTransposes(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(1);
          Tensor x = random(be, rng, 1f, 2, 3, 5); // (B, T, C)
          Tensor w = random(be, rng, 1f, 4, 5); // (OC, C)
          Tensor r = random(be, rng, 1f, 2, 3, 4); // (B, T, OC)
          Tensor out = be.allocate(DType.F32, 2, 3, 4);
          Tensor dx = random(be, rng, 1f, 2, 3, 5);
          Tensor dw = random(be, rng, 1f, 4, 5);
          double[] dx0 = doubles(dx), dw0 = doubles(dw);
          be.matmul(dx, r, w, false, false, 1f, true); // dx += dout W
          be.matmul(dw, r, x, true, false, 1f, true); // dW += dout^T x
          java.util.function.DoubleSupplier loss =
              () -> {
                be.matmul(out, x, w, false, true, 1f, false); // out = x W^T
                return dot(r, out);
              };
          FiniteDifference.check("x", x, FiniteDifference.accumulated(dx, dx0), loss);
          FiniteDifference.check("W", w, FiniteDifference.accumulated(dw, dw0), loss);
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void linearLayerWithFrozenBf16Weight(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(2);
          Tensor x = random(be, rng, 1f, 3, 6); // (N, C)
          Tensor w32 = random(be, rng, 1f, 5, 6); // (OC, C)
          Tensor w = be.allocate(DType.BF16, 5, 6);
          be.convert(w, w32);
          Tensor r = random(be, rng, 1f, 3, 5);
          Tensor out = be.allocate(DType.F32, 3, 5);
          Tensor dx = random(be, rng, 1f, 3, 6);
          double[] dx0 = doubles(dx);
          be.matmul(dx, r, w, false, false, 1f, true);
          FiniteDifference.check(
              "x",
              x,
              FiniteDifference.accumulated(dx, dx0),
              () -> {
                be.matmul(out, x, w, false, true, 1f, false);
                return dot(r, out);
              });
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void biasBackward(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(3);
          Tensor x = random(be, rng, 1f, 4, 3); // (N, OC)
          Tensor bias = random(be, rng, 1f, 3);
          Tensor r = random(be, rng, 1f, 4, 3);
          Tensor dbias = random(be, rng, 1f, 3);
          double[] db0 = doubles(dbias);
          be.biasBackward(dbias, r);
          Tensor out = be.allocate(DType.F32, 4, 3);
          FiniteDifference.check(
              "bias",
              bias,
              FiniteDifference.accumulated(dbias, db0),
              () -> {
                be.download(out, x);
                be.addBias(out, bias);
                return dot(r, out);
              });
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void embedding(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(4);
          Tensor table = random(be, rng, 1f, 5, 3); // (V, C)
          Tensor ids = ints(be, new int[] {1, 4, 1, 0, 1}, 5); // (N), id 1 repeats
          Tensor r = random(be, rng, 1f, 5, 3);
          Tensor dtable = random(be, rng, 1f, 5, 3);
          double[] d0 = doubles(dtable);
          be.embeddingBackward(dtable, r, ids);
          Tensor out = be.allocate(DType.F32, 5, 3);
          FiniteDifference.check(
              "table",
              table,
              FiniteDifference.accumulated(dtable, d0),
              () -> {
                be.embeddingForward(out, ids, table);
                return dot(r, out);
              });
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void rmsNorm(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(5);
          Tensor x = random(be, rng, 1f, 6, 8); // (N, C)
          Tensor w = random(be, rng, 1f, 8);
          Tensor r = random(be, rng, 1f, 6, 8);
          Tensor out = be.allocate(DType.F32, 6, 8);
          Tensor rstd = be.allocate(DType.F32, 6);
          be.rmsNormForward(out, rstd, x, w, 1e-5f);
          Tensor dx = random(be, rng, 1f, 6, 8);
          Tensor dw = random(be, rng, 1f, 8);
          double[] dx0 = doubles(dx), dw0 = doubles(dw);
          be.rmsNormBackward(dx, dw, r, x, w, rstd);
          java.util.function.DoubleSupplier loss =
              () -> {
                be.rmsNormForward(out, rstd, x, w, 1e-5f);
                return dot(r, out);
              };
          FiniteDifference.check("x", x, FiniteDifference.accumulated(dx, dx0), loss);
          FiniteDifference.check("w", w, FiniteDifference.accumulated(dw, dw0), loss);
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void layerNorm(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(6);
          Tensor x = random(be, rng, 1f, 5, 7); // (N, C)
          Tensor w = random(be, rng, 1f, 7);
          Tensor b = random(be, rng, 1f, 7);
          Tensor r = random(be, rng, 1f, 5, 7);
          Tensor out = be.allocate(DType.F32, 5, 7);
          Tensor mean = be.allocate(DType.F32, 5);
          Tensor rstd = be.allocate(DType.F32, 5);
          be.layerNormForward(out, mean, rstd, x, w, b, 1e-5f);
          Tensor dx = random(be, rng, 1f, 5, 7);
          Tensor dw = random(be, rng, 1f, 7);
          Tensor db = random(be, rng, 1f, 7);
          double[] dx0 = doubles(dx), dw0 = doubles(dw), db0 = doubles(db);
          be.layerNormBackward(dx, dw, db, r, x, w, mean, rstd);
          java.util.function.DoubleSupplier loss =
              () -> {
                be.layerNormForward(out, mean, rstd, x, w, b, 1e-5f);
                return dot(r, out);
              };
          FiniteDifference.check("x", x, FiniteDifference.accumulated(dx, dx0), loss);
          FiniteDifference.check("w", w, FiniteDifference.accumulated(dw, dw0), loss);
          FiniteDifference.check("b", b, FiniteDifference.accumulated(db, db0), loss);
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void ropeInverseIsBackward(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(7);
          Tensor x = random(be, rng, 1f, 4, 2, 6); // (N, H, HS)
          Tensor pos = ints(be, new int[] {0, 3, 1, 7}, 4);
          Tensor invFreq = be.allocate(DType.F32, 3);
          for (int i = 0; i < 3; i++) {
            HostTensors.set(invFreq, i, (float) Math.pow(10000, -2.0 * i / 6));
          }
          Tensor r = random(be, rng, 1f, 4, 2, 6);
          Tensor grad = copy(be, r);
          be.rope(grad, pos, invFreq, true);
          Tensor y = be.allocate(DType.F32, 4, 2, 6);
          FiniteDifference.check(
              "x",
              x,
              doubles(grad),
              () -> {
                be.download(y, x);
                be.rope(y, pos, invFreq, false);
                return dot(r, y);
              });
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void groupedQueryAttentionWithSegments(boolean scalar) {
    withBackend(scalar, be -> checkAttention(be, true));
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void groupedQueryAttentionCausalOnly(boolean scalar) {
    withBackend(scalar, be -> checkAttention(be, false));
  }

  private static void checkAttention(CpuBackend be, boolean packed) {
    Random rng = new Random(packed ? 8 : 9);
    long b = 2, t = 5, nh = 4, nkv = 2, hs = 3;
    Tensor q = random(be, rng, 1f, b, t, nh, hs);
    Tensor k = random(be, rng, 1f, b, t, nkv, hs);
    Tensor v = random(be, rng, 1f, b, t, nkv, hs);
    Tensor seg = packed ? ints(be, new int[] {0, 0, 1, 1, 1, 0, 0, 0, 0, 2}, b, t) : null;
    Tensor r = random(be, rng, 1f, b, t, nh, hs);
    Tensor out = be.allocate(DType.F32, b, t, nh, hs);
    Tensor lse = be.allocate(DType.F32, b, nh, t);
    float scale = (float) (1 / Math.sqrt(hs));
    be.attentionForward(out, lse, q, k, v, seg, scale);
    Tensor dq = random(be, rng, 1f, b, t, nh, hs);
    Tensor dk = random(be, rng, 1f, b, t, nkv, hs);
    Tensor dv = random(be, rng, 1f, b, t, nkv, hs);
    double[] dq0 = doubles(dq), dk0 = doubles(dk), dv0 = doubles(dv);
    be.attentionBackward(dq, dk, dv, r, q, k, v, out, lse, seg, scale);
    Tensor out2 = be.allocate(DType.F32, b, t, nh, hs);
    Tensor lse2 = be.allocate(DType.F32, b, nh, t);
    java.util.function.DoubleSupplier loss =
        () -> {
          be.attentionForward(out2, lse2, q, k, v, seg, scale);
          return dot(r, out2);
        };
    FiniteDifference.check("q", q, FiniteDifference.accumulated(dq, dq0), loss);
    FiniteDifference.check("k", k, FiniteDifference.accumulated(dk, dk0), loss);
    FiniteDifference.check("v", v, FiniteDifference.accumulated(dv, dv0), loss);
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void swiglu(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(10);
          Tensor gate = random(be, rng, 1.5f, 3, 7); // (N, OC)
          Tensor up = random(be, rng, 1f, 3, 7);
          Tensor r = random(be, rng, 1f, 3, 7);
          Tensor dgate = random(be, rng, 1f, 3, 7);
          Tensor dup = random(be, rng, 1f, 3, 7);
          double[] dg0 = doubles(dgate), du0 = doubles(dup);
          be.swigluBackward(dgate, dup, r, gate, up);
          Tensor out = be.allocate(DType.F32, 3, 7);
          java.util.function.DoubleSupplier loss =
              () -> {
                be.swigluForward(out, gate, up);
                return dot(r, out);
              };
          FiniteDifference.check("gate", gate, FiniteDifference.accumulated(dgate, dg0), loss);
          FiniteDifference.check("up", up, FiniteDifference.accumulated(dup, du0), loss);
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void gelu(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(11);
          Tensor x = random(be, rng, 1.5f, 3, 9); // (N, OC)
          Tensor r = random(be, rng, 1f, 3, 9);
          Tensor dx = random(be, rng, 1f, 3, 9);
          double[] dx0 = doubles(dx);
          be.geluBackward(dx, r, x);
          Tensor out = be.allocate(DType.F32, 3, 9);
          FiniteDifference.check(
              "x",
              x,
              FiniteDifference.accumulated(dx, dx0),
              () -> {
                be.geluForward(out, x);
                return dot(r, out);
              });
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void dropoutBackwardIsTheSameCall(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(12);
          Tensor x = random(be, rng, 1f, 40); // (N)
          Tensor r = random(be, rng, 1f, 40);
          Tensor grad = be.allocate(DType.F32, 40);
          be.dropout(grad, r, 0.3f, 77L);
          Tensor out = be.allocate(DType.F32, 40);
          FiniteDifference.check(
              "x",
              x,
              doubles(grad),
              () -> {
                be.dropout(out, x, 0.3f, 77L);
                return dot(r, out);
              });
        });
  }

  @ParameterizedTest(name = "scalar={0}")
  @ValueSource(booleans = {true, false})
  void crossEntropyWithIgnoredRow(boolean scalar) {
    withBackend(
        scalar,
        be -> {
          Random rng = new Random(13);
          Tensor logits = random(be, rng, 2f, 4, 7); // (N, V)
          Tensor targets = ints(be, new int[] {3, -100, 0, 6}, 4);
          Tensor losses = be.allocate(DType.F32, 4);
          Tensor grad = copy(be, logits);
          be.crossEntropyForwardBackward(losses, grad, targets, -100, 1f);
          Tensor scratch = be.allocate(DType.F32, 4, 7);
          FiniteDifference.check(
              "logits",
              logits,
              doubles(grad),
              () -> {
                be.download(scratch, logits);
                be.crossEntropyForwardBackward(losses, scratch, targets, -100, 1f);
                return be.sum(losses);
              });
        });
  }
}
