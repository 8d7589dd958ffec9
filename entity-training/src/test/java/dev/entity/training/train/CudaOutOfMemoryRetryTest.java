package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.entity.core.Cancellation;
import dev.entity.engine.backend.cpu.CpuBackend;
import dev.entity.engine.backend.cuda.CudaOutOfMemoryError;
import dev.entity.engine.model.TrainingSession;
import dev.entity.training.train.metrics.InMemoryMetricsSink;
import dev.entity.training.train.metrics.MetricsSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU's out-of-memory signal takes the trainer's existing retry path: the CUDA allocator throws
 * {@link CudaOutOfMemoryError} (after giving its cache back), and the trainer halves the
 * micro-batch exactly as for a host {@link OutOfMemoryError}. Runs on the CPU with the error
 * injected where the GPU would raise it.
 */
class CudaOutOfMemoryRetryTest {

  @TempDir Path dir;

  @Test
  void aCudaOutOfMemoryHalvesTheMicroBatch() throws IOException {
    Path model = TinyTraining.writeModel(Files.createDirectories(dir.resolve("model")));
    TrainingConfig config = TinyTraining.config(model, dir.resolve("out"), "lora");
    List<String> notices = new ArrayList<>();
    Trainer.Result result;
    try (CpuBackend backend = new CpuBackend(1);
        TrainingSession session = TinyTraining.session(backend, model, config)) {
      Trainer trainer =
          new Trainer(
              session,
              config,
              new TinyTraining.ListSource(TinyTraining.batches(1, 6, 2), 5),
              TinyTraining.batches(2, 2, 2),
              new Trainer.Options("run", model.toString(), model, null, "train", notices::add),
              new InMemoryMetricsSink(),
              new Cancellation());
      trainer.setFaultInjector(
          (step, micro) -> {
            if (step == 2 && micro > 1) {
              throw new CudaOutOfMemoryError("GPU out of memory allocating 64.00 MiB");
            }
          });
      result = trainer.train();
    }
    assertThat(result.outcome()).isEqualTo(MetricsSink.Outcome.COMPLETED);
    assertThat(result.microBatchSize()).isEqualTo(1);
    assertThat(notices)
        .anyMatch(n -> n.contains("out of memory at step 3 with a micro-batch of 2"));
  }
}
