// Convention: doubles are written by Jackson in Java's shortest round-trip form, so a state read
// back holds the same bits (best metric, epoch); the JSON keys are snake_case as in Hugging Face's
// trainer_state.json, whose core keys (global_step, epoch, best_metric, log_history) we share.
package dev.entity.training.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.entity.core.EntityException;
import dev.entity.training.data.BatchPosition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything besides weights and optimizer moments that a resumed run needs to continue exactly:
 * steps, data position and seed, the micro-batch in use, the RNG seeds (dropout masks are a
 * function of the LoRA seed, the optimizer step and the micro-batch index, so the seeds and the
 * step are the whole RNG state), early-stopping counters, the schedule, the run's fingerprint and
 * the log history. Saved as {@code trainer_state.json} in every checkpoint.
 *
 * @param formatVersion {@link #FORMAT}
 * @param globalStep optimizer steps taken
 * @param epoch fractional epoch reached
 * @param maxSteps optimizer steps of the whole run
 * @param microBatchSize rows per forward/backward (lower than batch_size after an out-of-memory
 *     retry)
 * @param dataSeed seed of the data order
 * @param dataEpoch epoch of the next training batch
 * @param dataIndex index within that epoch of the next training micro-batch, counted in
 *     micro-batches of {@code microBatchSize} rows
 * @param seed the run's seed (training config)
 * @param dropoutSeed the seed dropout masks derive from (the LoRA seed)
 * @param bestMetric the best validation loss so far, or null
 * @param bestStep the step of {@code bestMetric}, or -1
 * @param evaluationsWithoutImprovement early stopping's counter
 * @param tokensSeen training tokens seen since the run began
 * @param scheduler the learning rate schedule
 * @param optimizerStep AdamW's step count (equals {@code globalStep})
 * @param configHash sha256 of {@code fingerprint}
 * @param fingerprint what must match for a resume to continue this run exactly
 * @param logHistory every logged record, as Hugging Face's log_history
 */
public record TrainerState(
    int formatVersion,
    long globalStep,
    double epoch,
    long maxSteps,
    int microBatchSize,
    long dataSeed,
    long dataEpoch,
    long dataIndex,
    long seed,
    long dropoutSeed,
    Double bestMetric,
    long bestStep,
    int evaluationsWithoutImprovement,
    long tokensSeen,
    LearningRateSchedule scheduler,
    long optimizerStep,
    String configHash,
    Map<String, String> fingerprint,
    List<Map<String, Object>> logHistory) {

  /** The version of this layout. */
  public static final int FORMAT = 1;

  /** The file name in a checkpoint. */
  public static final String FILE = "trainer_state.json";

  static final ObjectMapper JSON =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  public TrainerState {
    // null survives construction so read() can name a file with missing fields
    fingerprint = fingerprint == null ? null : Map.copyOf(fingerprint);
    logHistory = logHistory == null ? List.of() : List.copyOf(logHistory);
  }

  /** The data position of the next batch. */
  public BatchPosition dataPosition() {
    return new BatchPosition(Math.toIntExact(dataEpoch), dataIndex);
  }

  /** Writes this state as JSON to {@code file} (the caller fsyncs the folder). */
  public void write(Path file) {
    try {
      Files.write(file, JSON.writeValueAsBytes(this));
    } catch (IOException e) {
      throw new EntityException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Reads the state in {@code file}; errors name the file and say what is wrong. */
  public static TrainerState read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new EntityException(file + ": not found; every checkpoint holds " + FILE);
    }
    TrainerState s;
    try {
      s = JSON.readValue(file.toFile(), TrainerState.class);
    } catch (IOException | RuntimeException e) {
      throw new EntityException(
          file
              + ": not a valid trainer state ("
              + e.getMessage().lines().findFirst().orElse("")
              + "); the checkpoint is damaged, resume from another one");
    }
    if (s == null || s.formatVersion() != FORMAT) {
      throw new EntityException(
          file
              + ": format_version "
              + (s == null ? "missing" : s.formatVersion())
              + " is not "
              + FORMAT
              + "; it was written by another version of entity-training");
    }
    if (s.globalStep() < 0
        || s.microBatchSize() <= 0
        || s.scheduler() == null
        || s.fingerprint() == null
        || s.dataEpoch() < 0
        || s.dataIndex() < 0) {
      throw new EntityException(
          file
              + ": the trainer state has missing or negative fields (global_step, micro_batch_size,"
              + " scheduler, fingerprint, data position); the checkpoint is damaged, resume from"
              + " another one");
    }
    return s;
  }
}
