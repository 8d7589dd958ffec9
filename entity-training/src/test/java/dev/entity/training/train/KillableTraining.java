package dev.entity.training.train;

import dev.entity.core.Cancellation;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.model.TrainingSession;
import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import java.nio.file.Path;

/**
 * The training process {@link KillAndResumeTest} starts and kills: the tiny LoRA run of {@link
 * TinyTraining}, printing {@code STEP n} after each step. Arguments: model folder, output folder,
 * resume ({@code none}, {@code latest} or a path). System properties {@code kill.step} and {@code
 * kill.phase} halt the JVM (status 137) inside the save of that checkpoint at that phase.
 */
public final class KillableTraining {

  private KillableTraining() {}

  public static void main(String[] args) {
    Path model = Path.of(args[0]);
    Path out = Path.of(args[1]);
    String resume = args[2].equals("none") ? null : args[2];
    TrainingConfig config = TinyTraining.config(model, out, "lora");
    Cancellation cancel = new Cancellation();
    int status = 0;
    try (InterruptHandler interrupts = InterruptHandler.install(cancel, KillableTraining::say);
        Backend backend = new CpuBackend(1, true); // scalar kernels, as the test's reference
        TrainingSession session = TinyTraining.session(backend, model, config)) {
      Trainer trainer =
          new Trainer(
              session,
              config,
              new TinyTraining.ListSource(TinyTraining.batches(1, 6, 2), 5),
              TinyTraining.batches(2, 2, 2),
              new Trainer.Options(
                  "kill-test",
                  model.toString(),
                  model,
                  resume,
                  "java KillableTraining " + model + " " + out,
                  KillableTraining::say),
              new MetricsSink() {
                @Override
                public void log(MetricRecord r) {
                  if (r.kind() == MetricRecord.Kind.TRAIN) {
                    say("STEP " + r.step());
                  }
                }
              },
              cancel);
      String killStep = System.getProperty("kill.step");
      if (killStep != null) {
        String name = "checkpoint-" + killStep;
        CheckpointStore.Phase phase =
            CheckpointStore.Phase.valueOf(System.getProperty("kill.phase"));
        trainer
            .checkpoints()
            .setHook(
                (p, n, folder) -> {
                  if (p == phase && n.equals(name)) {
                    say("HALT " + n + " " + p);
                    Runtime.getRuntime().halt(137);
                  }
                });
      }
      trainer.train();
      say("DONE");
    } catch (TrainingStoppedException e) {
      say("STOPPED " + e.outcome());
      status = 3;
    }
    System.exit(status);
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
