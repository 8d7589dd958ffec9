package dev.entity.engine.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.BackendProvider;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class CpuBackendMemoryTest {

  @Test
  void serviceLoaderFindsTheCpuProvider() {
    BackendProvider cpu =
        ServiceLoader.load(BackendProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.name().equals("cpu"))
            .findFirst()
            .orElseThrow();
    assertThat(cpu.unavailableReason()).isNull();
    try (Backend be = cpu.create(1)) {
      assertThat(be.name()).isEqualTo("cpu");
      assertThat(be.device()).isEqualTo(Device.CPU);
    }
  }

  @Test
  void allocationsAreZeroedAlignedAndFreedOnce() {
    try (CpuBackend be = new CpuBackend(1)) {
      Tensor t = be.allocate(DType.F32, 3, 5);
      assertThat(t.data().address() % 64).isZero();
      assertThat(t.byteSize()).isEqualTo(60);
      for (long i = 0; i < 15; i++) {
        assertThat(CpuElements.getF32(t.data(), i)).isZero();
      }
      be.free(t.rows(1, 1)); // a view: left alone
      assertThat(be.owns(t)).isTrue();
      assertThat(t.data().scope().isAlive()).isTrue();
      Tensor uploaded = be.upload(t);
      be.free(t.reshape(15));
      assertThat(be.owns(t)).isFalse();
      assertThat(t.data().scope().isAlive()).isFalse();
      be.free(uploaded); // already freed: ignored, as device-portable code may free its uploads
      Tensor kept = be.allocate(DType.BF16, 4);
      be.close();
      assertThat(kept.data().scope().isAlive()).isFalse();
      assertThatThrownBy(() -> be.allocate(DType.F32, 1)).hasMessageContaining("closed");
    }
  }

  @Test
  void uploadIsIdentityAndDownloadCopies() {
    try (CpuBackend be = new CpuBackend(1)) {
      Tensor a = HostTensors.filled(be, 1.5f, 4);
      assertThat(be.upload(a)).isSameAs(a);
      Tensor b = be.allocate(DType.F32, 2, 2);
      be.download(b, a);
      assertThat(CpuElements.getF32(b.data(), 3)).isEqualTo(1.5f);
      assertThatThrownBy(() -> be.download(be.allocate(DType.I32, 4), a))
          .hasMessageContaining("dtype");
      be.zero(b);
      assertThat(CpuElements.getF32(b.data(), 3)).isZero();
    }
  }

  @Test
  void convertRoundsToNearestEven() {
    try (CpuBackend be = new CpuBackend(1)) {
      float[] in = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -2.5f, Float.NaN, 65504f, 1e-3f};
      Tensor src = be.allocate(DType.F32, in.length);
      for (int i = 0; i < in.length; i++) {
        CpuElements.setF32(src.data(), i, in[i]);
      }
      Tensor bf = be.allocate(DType.BF16, in.length);
      be.convert(bf, src);
      assertThat(CpuElements.read(bf, 0)).isEqualTo(1f); // tie to even
      assertThat(CpuElements.read(bf, 1)).isEqualTo(1f + 4 * 0x1p-8f); // tie to even, up
      assertThat(CpuElements.read(bf, 2)).isEqualTo(-2.5f);
      assertThat(CpuElements.read(bf, 3)).isNaN();
      Tensor half = be.allocate(DType.F16, in.length);
      be.convert(half, bf);
      assertThat(CpuElements.read(half, 2)).isEqualTo(-2.5f);
      Tensor back = be.allocate(DType.F32, in.length);
      be.convert(back, src);
      be.convert(half, src);
      assertThat(CpuElements.read(half, 4)).isEqualTo(65504f);
      assertThat(CpuElements.read(half, 5))
          .isCloseTo(1e-3f, org.assertj.core.data.Offset.offset(1e-6f));
      assertThatThrownBy(() -> be.convert(be.allocate(DType.I32, in.length), src))
          .hasMessageContaining("F32, BF16 or F16");
    }
  }

  @Test
  void finiteDifferenceCheckerRejectsAWrongGradient() {
    try (CpuBackend be = new CpuBackend(1)) {
      Tensor x = HostTensors.filled(be, 0.7f, 3);
      Tensor out = be.allocate(DType.F32, 3);
      double[] wrong = {1, 1, 1}; // the true gradient of sum(x^2)-ish map below is 2x
      assertThatThrownBy(
              () ->
                  FiniteDifference.check(
                      "x",
                      x,
                      wrong,
                      () -> {
                        be.add(out, x, x);
                        return be.sum(out);
                      }))
          .isInstanceOf(AssertionError.class);
    }
  }
}
