package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.Cancellation;
import dev.entity.core.EntityException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.tensor.DType;
import dev.entity.engine.tensor.Device;
import dev.entity.engine.tensor.Tensor;
import dev.entity.training.train.metrics.InMemoryMetricsSink;
import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

  @TempDir static Path shared;
  static Path model;

  @TempDir Path out;

  @BeforeAll
  static void writeModel() throws IOException {
    model = TinyTraining.writeModel(Files.createDirectories(shared.resolve("model")));
  }

  /** A run's knobs; the trainer under test is built from them. */
  record Run(
      TrainingConfig config,
      String resume,
      Cancellation cancel,
      MetricsSink sink,
      Trainer.FaultInjector faults,
      Consumer<TrainingSession> afterStep,
      List<String> notices) {

    Run(TrainingConfig config) {
      this(
          config,
          null,
          new Cancellation(),
          new InMemoryMetricsSink(),
          null,
          null,
          new ArrayList<>());
    }

    Run resume(String r) {
      return new Run(config, r, cancel, sink, faults, afterStep, notices);
    }

    Run faults(Trainer.FaultInjector f) {
      return new Run(config, resume, cancel, sink, f, afterStep, notices);
    }

    Run afterStep(Consumer<TrainingSession> a) {
      return new Run(config, resume, cancel, sink, faults, a, notices);
    }

    Trainer.Result go() {
      try (Backend backend = new CpuBackend(1);
          TrainingSession session = TinyTraining.session(backend, model, config)) {
        MetricsSink s = sink;
        if (afterStep != null) {
          s =
              MetricsSink.of(
                  List.of(
                      sink,
                      new MetricsSink() {
                        @Override
                        public void log(MetricRecord r) {
                          if (r.kind() == MetricRecord.Kind.TRAIN) {
                            afterStep.accept(session);
                          }
                        }
                      }));
        }
        Trainer trainer =
            new Trainer(
                session,
                config,
                new TinyTraining.ListSource(TinyTraining.batches(1, 6, 2), 5),
                TinyTraining.batches(2, 2, 2),
                new Trainer.Options(
                    "run", model.toString(), model, resume, "entity-train train", notices::add),
                s,
                cancel);
        if (faults != null) {
          trainer.setFaultInjector(faults);
        }
        return trainer.train();
      }
    }
  }

  private Run lora(Path dir) {
    return new Run(TinyTraining.config(model, dir, "lora"));
  }

  static byte[] adapterBytes(Path folder) throws IOException {
    return Files.readAllBytes(folder.resolve(LoraAdapter.WEIGHTS));
  }

  @Test
  void loraRunLogsEvaluatesCheckpointsAndTheLossFalls() throws IOException {
    Run run = lora(out);
    Trainer.Result result = run.go();
    InMemoryMetricsSink sink = (InMemoryMetricsSink) run.sink();

    assertThat(result.outcome()).isEqualTo(MetricsSink.Outcome.COMPLETED);
    assertThat(result.steps()).isEqualTo(12);
    List<MetricRecord> train = sink.records(MetricRecord.Kind.TRAIN);
    assertThat(train)
        .extracting(MetricRecord::step)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
    double first = train.getFirst().value(MetricRecord.LOSS).orElseThrow();
    double last = train.getLast().value(MetricRecord.LOSS).orElseThrow();
    assertThat(last).isLessThan(first);
    // warmup: lr(0) = 0, lr(1) = peak / 2, then cosine decay to the end
    assertThat(train.get(0).value(MetricRecord.LEARNING_RATE)).hasValue(0.0);
    assertThat(train.get(1).value(MetricRecord.LEARNING_RATE)).hasValue(2.5e-3);
    assertThat(train.get(0).values())
        .containsKeys(
            MetricRecord.GRAD_NORM,
            MetricRecord.TOKENS_PER_SECOND,
            MetricRecord.ETA_SECONDS,
            MetricRecord.RSS_BYTES);
    List<MetricRecord> eval = sink.records(MetricRecord.Kind.EVAL);
    assertThat(eval).extracting(MetricRecord::step).containsExactly(3L, 6L, 9L, 12L);
    for (MetricRecord e : eval) {
      assertThat(e.value(MetricRecord.EVAL_PERPLEXITY).orElseThrow())
          .isCloseTo(Math.exp(e.value(MetricRecord.EVAL_LOSS).orElseThrow()), within(1e-9));
    }
    assertThat(result.bestEvalLoss()).isNotNull();

    // save_total_limit 2: the two best by validation loss plus the latest survive
    CheckpointStore store = new CheckpointStore(out);
    List<Long> kept = store.list().stream().map(CheckpointStore.Checkpoint::step).toList();
    assertThat(kept).contains(12L).hasSizeLessThanOrEqualTo(3);
    assertThat(sink.checkpoints())
        .extracting(MetricsSink.CheckpointSaved::step)
        .containsExactly(3L, 6L, 9L, 12L);
    for (CheckpointStore.Checkpoint c : store.list()) {
      CheckpointStore.verify(c.path());
      assertThat(c.path().resolve(LoraAdapter.WEIGHTS)).isRegularFile();
      assertThat(c.path().resolve(LoraAdapter.CONFIG)).isRegularFile();
      assertThat(c.path().resolve(TrainingCheckpoint.OPTIMIZER)).isRegularFile();
      assertThat(c.path().resolve("tokenizer_config.json")).isRegularFile();
    }
    Path fin = result.finalModel();
    assertThat(fin).isEqualTo(out.toAbsolutePath().resolve(CheckpointStore.FINAL_MODEL));
    CheckpointStore.verify(fin);
    TrainerState state = TrainerState.read(fin.resolve(TrainerState.FILE));
    assertThat(state.globalStep()).isEqualTo(12);
    assertThat(state.bestMetric()).isEqualTo(result.bestEvalLoss());
    assertThat(state.logHistory()).hasSize(16);
    assertThat(state.configHash()).isEqualTo(RunFingerprint.hash(state.fingerprint()));
    assertThat(sink.end().outcome()).isEqualTo(MetricsSink.Outcome.COMPLETED);
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("."));
    }
  }

  private static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }

  @Test
  void interruptedRunWritesCheckpointAndResumesToTheSameBits() throws IOException {
    Path straight = out.resolve("straight");
    lora(straight).go();

    Path broken = out.resolve("broken");
    Run first = lora(broken);
    int[] steps = {0};
    Run interrupted =
        first.afterStep(
            s -> {
              if (++steps[0] == 5) {
                first.cancel().cancel("SIGINT");
              }
            });
    assertThatThrownBy(interrupted::go)
        .isInstanceOfSatisfying(
            TrainingStoppedException.class,
            e -> {
              assertThat(e.outcome()).isEqualTo(MetricsSink.Outcome.INTERRUPTED);
              assertThat(e.step()).isEqualTo(5);
              assertThat(e.lastCheckpoint()).endsWith(Path.of("checkpoint-5"));
              assertThat(e.getMessage())
                  .contains("SIGINT")
                  .contains("To resume: entity-train train --resume ")
                  .contains("checkpoint-5");
            });
    assertThat(((InMemoryMetricsSink) first.sink()).end().outcome())
        .isEqualTo(MetricsSink.Outcome.INTERRUPTED);
    CheckpointStore.verify(broken.resolve("checkpoint-5"));
    assertThat(broken.resolve(CheckpointStore.FINAL_MODEL)).doesNotExist();

    Trainer.Result resumed = lora(broken).resume("latest").go();
    assertThat(resumed.steps()).isEqualTo(12);
    assertThat(adapterBytes(resumed.finalModel()))
        .isEqualTo(adapterBytes(straight.resolve(CheckpointStore.FINAL_MODEL)));
  }

  @Test
  void cancelInsideAStepAbandonsItAndResumesFromItsStart() throws IOException {
    Path straight = out.resolve("straight");
    lora(straight).go();
    Path broken = out.resolve("broken");
    Run first = lora(broken);
    Run cancelledMidStep =
        first.faults(
            (step, micro) -> {
              if (step == 4) { // the fifth step, after its first micro-batch was drawn
                first.cancel().cancel("SIGINT");
              }
            });
    assertThatThrownBy(cancelledMidStep::go)
        .isInstanceOfSatisfying(
            TrainingStoppedException.class,
            e -> {
              assertThat(e.step()).isEqualTo(4);
              assertThat(e.lastCheckpoint()).endsWith(Path.of("checkpoint-4"));
            });
    TrainerState saved =
        TrainerState.read(broken.resolve("checkpoint-4").resolve(TrainerState.FILE));
    assertThat(saved.globalStep()).isEqualTo(4);
    assertThat(saved.dataIndex()).isEqualTo(2); // step 5 starts at batch 8 = epoch 1, batch 2
    assertThat(saved.dataEpoch()).isEqualTo(1);
    Trainer.Result resumed = lora(broken).resume("latest").go();
    assertThat(adapterBytes(resumed.finalModel()))
        .isEqualTo(adapterBytes(straight.resolve(CheckpointStore.FINAL_MODEL)));
  }

  @Test
  void fullFineTuningResumesToTheSameBits() throws IOException {
    TrainingConfig full = TinyTraining.config(model, out.resolve("a"), "full").with("max_steps", 6);
    Trainer.Result straight = new Run(full).go();
    Path weights = straight.finalModel().resolve("model.safetensors");
    assertThat(weights).isRegularFile();
    assertThat(straight.finalModel().resolve("config.json")).isRegularFile();

    TrainingConfig half = full.with("output_dir", out.resolve("b").toString());
    Run first = new Run(half);
    assertThatThrownBy(
            first.afterStep(
                    s -> {
                      if (s.optimizer().stepCount() == 4) {
                        first.cancel().cancel("SIGTERM");
                      }
                    })
                ::go)
        .isInstanceOf(TrainingStoppedException.class);
    Trainer.Result resumed = new Run(half).resume(out.resolve("b/checkpoint-4").toString()).go();
    assertThat(Files.readAllBytes(resumed.finalModel().resolve("model.safetensors")))
        .isEqualTo(Files.readAllBytes(weights));
  }

  @Test
  void checkpointOfAnotherConfigIsRefusedWithTheDifferences() {
    lora(out).go();
    TrainingConfig other =
        TinyTraining.config(model, out, "lora").with("learning_rate", 1e-3).with("lora_r", 8);
    assertThatThrownBy(() -> new Run(other).resume("latest").go())
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("belongs to a different run (config hash")
        .hasMessageContaining("config.learning_rate: checkpoint 0.005, now 0.001")
        .hasMessageContaining("config.lora_r: checkpoint 4, now 8")
        .hasMessageContaining("trainable.parameters");
  }

  @Test
  void resumeWithoutCheckpointOrFromDamagedOneIsAClearError() throws IOException {
    assertThatThrownBy(() -> lora(out).resume("latest").go())
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("no complete checkpoint in");
    assertThatThrownBy(() -> lora(out).resume(out.resolve("nope").toString()).go())
        .hasMessageContaining("no such checkpoint folder");
    lora(out).go();
    Path ckpt = out.resolve("checkpoint-12");
    byte[] bytes = Files.readAllBytes(ckpt.resolve(LoraAdapter.WEIGHTS));
    bytes[bytes.length - 1] ^= 1;
    Files.write(ckpt.resolve(LoraAdapter.WEIGHTS), bytes);
    assertThatThrownBy(() -> lora(out).resume(ckpt.toString()).go())
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("adapter_model.safetensors does not match its sha256");
  }

  @Test
  void outOfMemoryHalvesTheMicroBatchAndKeepsTheEffectiveBatch() throws IOException {
    // without dropout, so smaller pieces compute the same objective (dropout masks are per piece)
    TrainingConfig c =
        TinyTraining.config(model, out.resolve("a"), "lora").with("lora_dropout", 0.0);
    Trainer.Result straight = new Run(c).go();
    Run run =
        new Run(c.with("output_dir", out.resolve("b").toString()))
            .faults(
                (step, micro) -> {
                  if (step >= 4 && micro > 1) {
                    throw new OutOfMemoryError("injected: cannot allocate 64 MiB");
                  }
                });
    Trainer.Result result = run.go();
    assertThat(result.outcome()).isEqualTo(MetricsSink.Outcome.COMPLETED);
    assertThat(result.steps()).isEqualTo(12);
    assertThat(result.microBatchSize()).isEqualTo(1);
    assertThat(run.notices())
        .anyMatch(
            n ->
                n.contains("out of memory at step 5 with a micro-batch of 2")
                    && n.contains("retrying the step with 1 sequences per micro-batch and 4")
                    && n.contains("same effective batch of 4"));
    List<MetricRecord> train = ((InMemoryMetricsSink) run.sink()).records(MetricRecord.Kind.TRAIN);
    assertThat(train.get(3).value(MetricRecord.MICRO_BATCH_SIZE)).hasValue(2.0);
    assertThat(train.get(4).value(MetricRecord.MICRO_BATCH_SIZE)).hasValue(1.0);
    // same objective in smaller pieces: the same weights up to float summation order
    float[] a = floats(straight.finalModel());
    float[] b = floats(result.finalModel());
    for (int i = 0; i < a.length; i++) {
      assertThat(b[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(2e-4f));
    }
    // the state of a resumed run keeps the smaller micro-batch
    TrainerState st = TrainerState.read(result.finalModel().resolve(TrainerState.FILE));
    assertThat(st.microBatchSize()).isEqualTo(1);
  }

  @Test
  void aRunResumedAfterAnOutOfMemoryKeepsTheSmallerMicroBatchAndTheSameBits() throws IOException {
    TrainingConfig c =
        TinyTraining.config(model, out.resolve("a"), "lora").with("lora_dropout", 0.0);
    Trainer.FaultInjector oom =
        (step, micro) -> {
          if (step >= 4 && micro > 1) {
            throw new OutOfMemoryError("injected");
          }
        };
    Trainer.Result straight = new Run(c).faults(oom).go();

    TrainingConfig b = c.with("output_dir", out.resolve("b").toString());
    Run first = new Run(b).faults(oom);
    assertThatThrownBy(
            first.afterStep(
                    s -> {
                      if (s.optimizer().stepCount() == 7) {
                        first.cancel().cancel("SIGTERM");
                      }
                    })
                ::go)
        .isInstanceOf(TrainingStoppedException.class);
    TrainerState saved =
        TrainerState.read(out.resolve("b/checkpoint-7").resolve(TrainerState.FILE));
    assertThat(saved.microBatchSize()).isEqualTo(1);
    // 7 steps of 2 batches of 2 rows over 6 batches an epoch: epoch 2, row 4, counted in
    // micro-batches of 1 row
    assertThat(saved.dataPosition()).isEqualTo(new dev.entity.training.data.BatchPosition(2, 4));
    // resumed without any fault: the saved micro-batch of 1 is used from the start
    Trainer.Result resumed = new Run(b).resume("latest").go();
    assertThat(resumed.microBatchSize()).isEqualTo(1);
    assertThat(Files.readAllBytes(resumed.finalModel().resolve(LoraAdapter.WEIGHTS)))
        .isEqualTo(Files.readAllBytes(straight.finalModel().resolve(LoraAdapter.WEIGHTS)));
  }

  @Test
  void theMicroBatchIsHalvedToADivisorSoSmallerPiecesTileTheOldOnes() {
    assertThat(Trainer.halved(8)).isEqualTo(4);
    assertThat(Trainer.halved(6)).isEqualTo(3);
    assertThat(Trainer.halved(12)).isEqualTo(6);
    assertThat(Trainer.halved(10)).isEqualTo(5);
    assertThat(Trainer.halved(5)).isEqualTo(1);
    assertThat(Trainer.halved(3)).isEqualTo(1);
    assertThat(Trainer.halved(2)).isEqualTo(1);
  }

  static float[] floats(Path folder) {
    try (var f =
            dev.entity.engine.format.safetensors.SafetensorsFile.open(
                folder.resolve(LoraAdapter.WEIGHTS));
        Arena arena = Arena.ofConfined()) {
      List<Float> all = new ArrayList<>();
      for (String n : f.names()) {
        Tensor t = f.readF32(n, arena);
        for (long i = 0; i < t.elementCount(); i++) {
          all.add(t.data().getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
      }
      float[] out = new float[all.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = all.get(i);
      }
      return out;
    }
  }

  @Test
  void outOfMemoryAtMicroBatchOneGivesUpClearly() {
    Run run =
        lora(out)
            .faults(
                (step, micro) -> {
                  if (step == 7) {
                    throw new OutOfMemoryError("injected");
                  }
                });
    assertThatThrownBy(run::go)
        .isInstanceOfSatisfying(
            TrainingStoppedException.class,
            e -> {
              assertThat(e.outcome()).isEqualTo(MetricsSink.Outcome.FAILED);
              assertThat(e.getMessage())
                  .contains("out of memory at step 8 even with a micro-batch of 1")
                  .contains("gradient_checkpointing")
                  .contains("last good checkpoint: ")
                  .contains("checkpoint-6");
            });
    assertThat(out.resolve(CheckpointStore.FINAL_MODEL)).doesNotExist();
  }

  @Test
  void nanLossStopsTheRunWithoutWritingGarbage() {
    Run run =
        lora(out)
            .afterStep(
                s -> {
                  if (s.optimizer().stepCount() == 4) {
                    String name = s.decoder().store().trainableSlots().getFirst().name();
                    try (Arena arena = Arena.ofConfined()) {
                      long n = s.decoder().store().slot(name).count();
                      Tensor nan =
                          new Tensor(
                              DType.F32,
                              new long[] {n},
                              arena.allocate(ValueLayout.JAVA_FLOAT, n),
                              Device.CPU);
                      for (long i = 0; i < n; i++) {
                        nan.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.NaN);
                      }
                      s.decoder().store().copyFromHost(name, nan);
                    }
                  }
                });
    assertThatThrownBy(run::go)
        .isInstanceOfSatisfying(
            TrainingStoppedException.class,
            e -> {
              assertThat(e.outcome()).isEqualTo(MetricsSink.Outcome.DIVERGED);
              assertThat(e.getMessage())
                  .contains("training diverged at step 5: loss NaN")
                  .contains("last good checkpoint: ")
                  .contains("checkpoint-3")
                  .contains("Lower learning_rate");
            });
    assertThat(new CheckpointStore(out).list())
        .extracting(CheckpointStore.Checkpoint::step)
        .containsExactly(3L);
    assertThat(out.resolve(CheckpointStore.FINAL_MODEL)).doesNotExist();
    assertThat(((InMemoryMetricsSink) run.sink()).end().outcome())
        .isEqualTo(MetricsSink.Outcome.DIVERGED);
  }

  @Test
  void earlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement() {
    TrainingConfig c =
        TinyTraining.config(model, out, "lora")
            .with("max_steps", 40)
            .with("evaluation_steps", 1)
            .with("early_stopping_patience", 2)
            .with("early_stopping_min_delta", 10.0);
    Run run = new Run(c);
    Trainer.Result r = run.go();
    assertThat(r.outcome()).isEqualTo(MetricsSink.Outcome.EARLY_STOPPED);
    // the first evaluation sets the best; no later one improves by 10 nats: stop after two more
    assertThat(r.steps()).isEqualTo(3);
    assertThat(r.bestStep()).isEqualTo(1);
    assertThat(r.finalModel()).isDirectory();
    assertThat(out.resolve("checkpoint-3")).isDirectory();
  }
}
