package dev.entity.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.engine.backend.Backend;
import dev.entity.engine.model.ParameterStore.Slot;
import dev.entity.engine.model.ParameterStore.Storage;
import dev.entity.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Flat segments carved into aligned, disjoint named views from one slot list. */
class ParameterStoreTest {

  private static final Backend backend = SharedCpuBackend.get();

  @Test
  void layoutAlignsEverySlotAndKeepsThemApart() {
    SlotLayout layout = SlotLayout.builder().add("a", 3).add("b", 2, 5).add("c", 40).build();
    assertThat(layout.entries()).extracting(SlotLayout.Entry::offset).containsExactly(0L, 32L, 64L);
    assertThat(layout.totalElements()).isEqualTo(128);
    assertThatThrownBy(() -> SlotLayout.builder().add("a", 1).add("a", 2))
        .hasMessageContaining("'a' declared twice");
    assertThatThrownBy(() -> layout.entry("zz")).hasMessageContaining("zz");
  }

  @Test
  void rolesShareOffsetsAndFrozenSlotsLiveApart() {
    List<Slot> slots =
        List.of(
            new Slot("w", new long[] {4, 3}, Storage.TRAINABLE, false),
            new Slot("frozen", new long[] {2, 8}, Storage.FROZEN_COMPACT, true),
            new Slot("norm", new long[] {3}, Storage.FROZEN, false),
            new Slot("b", new long[] {4}, Storage.TRAINABLE, false));
    try (ParameterStore store = new ParameterStore(backend, slots, DType.BF16);
        Arena arena = Arena.ofConfined()) {
      assertThat(store.param("frozen").dtype()).isEqualTo(DType.BF16);
      assertThat(store.grad("frozen")).isNull();
      assertThat(store.grad("norm")).isNull();
      assertThat(store.slot("frozen").fileShape()).containsExactly(8, 2);
      assertThat(store.trainableSlots()).extracting(Slot::name).containsExactly("w", "b");
      assertThat(store.trainableCount()).isEqualTo(16);
      assertThat(store.parameterCount()).isEqualTo(35);
      assertThat(store.param("w").data().address() % 64).isZero();
      assertThat(store.param("b").data().address() % 64).isZero();
      ParameterStore.Segment m = store.allocateTrainableRole();
      long paramBase = store.trainableParams().data().address();
      long momentBase = m.flat().data().address();
      assertThat(m.view("b").data().address() - momentBase)
          .isEqualTo(store.param("b").data().address() - paramBase);
      assertThatThrownBy(() -> m.view("norm")).hasMessageContaining("norm");

      float[] values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
      store.copyFromHost("w", Decoder.hostF32(arena, values));
      assertThat(HfReference.floats(store.toHost(store.param("w"), arena))).containsExactly(values);
      assertThat(HfReference.floats(store.toHost(store.param("b"), arena))).containsOnly(0f);
      float[] wide = new float[16];
      wide[3] = 1.00390625f; // rounds to 1.0 in BF16 (ties to even)
      store.copyFromHost("frozen", Decoder.hostF32(arena, wide));
      assertThat(HfReference.floats(store.toHost(store.param("frozen"), arena))[3]).isEqualTo(1f);
      assertThatThrownBy(() -> store.copyFromHost("b", Decoder.hostF32(arena, values)))
          .hasMessageContaining("does not fit");
    }
    assertThatThrownBy(
            () ->
                new ParameterStore(
                    backend,
                    List.of(
                        new Slot("x", new long[] {1}, Storage.FROZEN, false),
                        new Slot("x", new long[] {1}, Storage.FROZEN, false)),
                    DType.BF16))
        .hasMessageContaining("'x' declared twice");
  }

  @Test
  void slotSeedsDependOnSeedAndName() {
    assertThat(ParameterStore.slotSeed(1, "a")).isEqualTo(ParameterStore.slotSeed(1, "a"));
    assertThat(ParameterStore.slotSeed(1, "a")).isNotEqualTo(ParameterStore.slotSeed(2, "a"));
    assertThat(ParameterStore.slotSeed(1, "a")).isNotEqualTo(ParameterStore.slotSeed(1, "b"));
  }
}
