package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatmulLayoutTest {

  /** Row-major out (M, N) = op(a) op(b), the Backend contract, in double. */
  private static double[] rowMajor(
      float[] a, float[] b, boolean transA, boolean transB, int m, int n, int k) {
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int p = 0; p < k; p++) {
          double av = transA ? a[p * m + i] : a[i * k + p];
          double bv = transB ? b[j * k + p] : b[p * n + j];
          acc += av * bv;
        }
        out[i * n + j] = acc;
      }
    }
    return out;
  }

  /** Element (r, c) of op(X), X column-major (rows x cols, ld). */
  private static double op(float[] x, long ld, boolean trans, long r, long c) {
    return trans ? x[(int) (c + r * ld)] : x[(int) (r + c * ld)];
  }

  /** What cuBLASLt computes for the mapped problem: column-major D = op(First) op(Second). */
  private static double[] columnMajor(MatmulLayout l, float[] first, float[] second) {
    double[] d = new double[(int) (l.ldOut() * l.n())];
    for (long c = 0; c < l.n(); c++) {
      for (long r = 0; r < l.m(); r++) {
        double acc = 0;
        for (long p = 0; p < l.k(); p++) {
          acc +=
              op(first, l.ldFirst(), l.transFirst(), r, p)
                  * op(second, l.ldSecond(), l.transSecond(), p, c);
        }
        d[(int) (r + c * l.ldOut())] = acc;
      }
    }
    return d;
  }

  @Test
  void theMappedColumnMajorProductIsTheRowMajorProductForEveryTranspose() {
    Random rnd = new Random(7);
    int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {8, 2, 16}, {5, 9, 1}, {1, 6, 4}};
    for (int[] s : shapes) {
      int m = s[0], n = s[1], k = s[2];
      for (boolean transA : new boolean[] {false, true}) {
        for (boolean transB : new boolean[] {false, true}) {
          float[] a = new float[m * k];
          float[] b = new float[k * n];
          for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() * 2 - 1;
          for (int i = 0; i < b.length; i++) b[i] = rnd.nextFloat() * 2 - 1;
          MatmulLayout l = MatmulLayout.of(transA, transB, m, n, k);
          String what =
              "M=" + m + " N=" + n + " K=" + k + " transA=" + transA + " transB=" + transB;
          // op(First) is (m, k) and op(Second) is (k, n), and each layout covers its buffer exactly
          assertThat(
                  l.transFirst()
                      ? new long[] {l.colsFirst(), l.rowsFirst()}
                      : new long[] {l.rowsFirst(), l.colsFirst()})
              .as(what)
              .containsExactly(l.m(), l.k());
          assertThat(
                  l.transSecond()
                      ? new long[] {l.colsSecond(), l.rowsSecond()}
                      : new long[] {l.rowsSecond(), l.colsSecond()})
              .as(what)
              .containsExactly(l.k(), l.n());
          assertThat(l.rowsFirst() * l.colsFirst()).isEqualTo(b.length);
          assertThat(l.rowsSecond() * l.colsSecond()).isEqualTo(a.length);
          assertThat(l.ldFirst()).isEqualTo(l.rowsFirst());
          assertThat(l.ldSecond()).isEqualTo(l.rowsSecond());
          assertThat(l.ldOut()).isEqualTo(n);
          double[] want = rowMajor(a, b, transA, transB, m, n, k);
          double[] got = columnMajor(l, b, a);
          assertThat(got).as(what).containsExactly(want, org.assertj.core.data.Offset.offset(1e-9));
        }
      }
    }
  }

  @Test
  void theHuggingFaceLinearIsAnOpTOnTheWeight() {
    // y (N, OC) = x (N, C) W^T with W stored (OC, C): cuBLASLt sees W column-major (C, OC), op T
    MatmulLayout l = MatmulLayout.of(false, true, 6, 32, 16);
    assertThat(l.transFirst()).isTrue();
    assertThat(l.transSecond()).isFalse();
    assertThat(new long[] {l.rowsFirst(), l.colsFirst(), l.ldFirst()}).containsExactly(16, 32, 16);
    assertThat(new long[] {l.rowsSecond(), l.colsSecond(), l.ldSecond()})
        .containsExactly(16, 6, 16);
    assertThat(new long[] {l.m(), l.n(), l.k(), l.ldOut()}).containsExactly(32, 6, 16, 32);
  }

  private static Tensor t(long... shape) {
    long bytes = Tensor.elementCount(shape) * 4;
    return new Tensor(
        DType.F32, shape, MemorySegment.ofAddress(4096).reinterpret(bytes), new Device.Cuda(0));
  }

  @Test
  void dimsFlattenLeadingDimensionsAndRejectMisfits() {
    assertThat(MatmulLayout.dims(t(2, 3, 4), t(2, 3, 5), t(5, 4), false, false))
        .containsExactly(6, 5, 4);
    assertThat(MatmulLayout.dims(t(6, 4), t(6, 5), t(4, 5), false, true)).containsExactly(6, 5, 4);
    // dW (OC, C) = dout^T (N, OC)^T x (N, C): a transposed, leading dims of a flatten into K
    assertThat(MatmulLayout.dims(t(4, 5), t(2, 3, 4), t(2, 3, 5), true, false))
        .containsExactly(4, 6, 5);
    assertThat(MatmulLayout.dims(t(0, 4), t(0, 5), t(5, 4), false, false)).containsExactly(0, 5, 4);
    assertThatThrownBy(() -> MatmulLayout.dims(t(6, 4), t(6, 5), t(5, 3), false, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("do not fit");
    assertThatThrownBy(() -> MatmulLayout.dims(t(6, 4), t(6, 5), t(5, 4), false, true))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MatmulLayout.dims(t(6, 4), t(5, 7), t(5, 4), true, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must end in M=6");
  }
}
