package dev.entity.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.model.ParameterStore.Storage;
import dev.entity.engine.model.SharedCpuBackend;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AdamW against its formula on a small store: decay groups, clipping factor, state files. */
class AdamWTest {

  private static final Backend backend = SharedCpuBackend.get();

  private static ParameterStore store() {
    return new ParameterStore(
        backend,
        List.of(
            new Slot("w", new long[] {2, 3}, Storage.TRAINABLE, false),
            new Slot("norm", new long[] {3}, Storage.TRAINABLE, false),
            new Slot("frozen", new long[] {3}, Storage.FROZEN, false),
            new Slot("w2", new long[] {1, 5}, Storage.TRAINABLE, false)),
        DType.BF16);
  }

  private static void fill(ParameterStore s, String name, float p, float g, Arena arena) {
    long n = s.slot(name).count();
    Tensor host =
        new Tensor(DType.F32, s.slot(name).shape(), arena.allocate(n * 4, 64), Device.CPU);
    for (long i = 0; i < n; i++) {
      host.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, p);
    }
    s.copyFromHost(name, host);
    for (long i = 0; i < n; i++) {
      s.grad(name).data().setAtIndex(ValueLayout.JAVA_FLOAT, i, g);
    }
  }

  private static float first(ParameterStore s, String name, Arena arena) {
    return s.toHost(s.param(name), arena).data().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
  }

  @Test
  void firstStepMatchesTheFormulaAndVectorsCanSkipDecay() {
    try (ParameterStore s = store();
        Arena arena = Arena.ofConfined()) {
      for (String n : List.of("w", "norm", "w2")) {
        fill(s, n, 1f, 0.5f, arena);
      }
      AdamW adam = new AdamW(s, new AdamW.Config(0.9f, 0.999f, 1e-8f, 0.1f, false));
      adam.step(0.01f, 0.5f);
      // m̂ = g', v̂ = g'^2 after bias correction, so the step is lr * (1 + wd * p) for decayed
      // ones.
      double adamStep = 0.01 * (0.25 / (0.25 + 1e-8));
      assertThat((double) first(s, "w", arena)).isCloseTo(1 - adamStep - 0.01 * 0.1, within(1e-6));
      assertThat((double) first(s, "w2", arena)).isCloseTo(1 - adamStep - 0.01 * 0.1, within(1e-6));
      assertThat((double) first(s, "norm", arena)).isCloseTo(1 - adamStep, within(1e-6));
      assertThat(adam.stepCount()).isEqualTo(1);
    }
  }

  @Test
  void stateFilesRoundTripAndHostileOnesAreRefused(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("optimizer.safetensors");
    try (ParameterStore s = store();
        Arena arena = Arena.ofConfined()) {
      for (String n : List.of("w", "norm", "w2")) {
        fill(s, n, 1f, 0.25f, arena);
      }
      AdamW a = new AdamW(s, AdamW.Config.torch(0.01f));
      a.step(0.01f, 1f);
      a.step(0.01f, 1f);
      a.save(file);
      AdamW b = new AdamW(s, AdamW.Config.torch(0.01f));
      b.load(file);
      assertThat(b.stepCount()).isEqualTo(2);
      Map<String, Tensor> sa = a.stateToHost(arena);
      Map<String, Tensor> sb = b.stateToHost(arena);
      assertThat(sb.keySet())
          .containsExactlyElementsOf(sa.keySet())
          .contains("exp_avg.w", "exp_avg_sq.norm");
      for (String k : sa.keySet()) {
        assertThat(sb.get(k).data().toArray(ValueLayout.JAVA_FLOAT))
            .as(k)
            .containsExactly(sa.get(k).data().toArray(ValueLayout.JAVA_FLOAT));
      }
      assertThatThrownBy(() -> b.restore(Map.of(), 1))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("exp_avg.w");
      Map<String, Tensor> wrong = new java.util.LinkedHashMap<>(sa);
      wrong.put("exp_avg.w", sa.get("exp_avg.norm"));
      assertThatThrownBy(() -> b.restore(wrong, 1)).hasMessageContaining("has shape [3]");
      assertThatThrownBy(() -> b.restore(sa, -1)).hasMessageContaining("non-negative");
      Files.write(tmp.resolve("junk.safetensors"), new byte[] {1, 2, 3});
      assertThatThrownBy(() -> b.load(tmp.resolve("junk.safetensors")))
          .isInstanceOf(EngineException.class);
    }
  }

  @Test
  void configIsValidated() {
    assertThatThrownBy(() -> new AdamW.Config(1f, 0.999f, 1e-8f, 0, true))
        .hasMessageContaining("betas");
    assertThatThrownBy(() -> new AdamW.Config(0.9f, 0.999f, 0f, 0, true))
        .hasMessageContaining("epsilon");
  }
}
