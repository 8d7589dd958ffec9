// Convention: each micro-batch's loss is weighted by its share of the step's target tokens, so a
// step's gradient is that of the mean token loss over all its micro-batches, whatever the
// micro-batch size; this is what lets an out-of-memory retry re-cut the data source into smaller
// micro-batches (BatchSource.withMicroBatchSize) without changing the objective. The state of a
// run between steps is (weights, AdamW moments and step, data position counted in micro-batches
// of the current size, that size, early-stopping counters); a checkpoint holds all of it.
package dev.entity.training.train;

import dev.entity.core.Cancellation;
import dev.entity.core.EntityException;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.TrainingSession;
import dev.entity.training.data.BatchPosition;
import dev.entity.training.data.BatchSource;
import dev.entity.training.train.metrics.MemoryProbe;
import dev.entity.training.train.metrics.MetricRecord;
import dev.entity.training.train.metrics.MetricsSink;
import dev.entity.training.train.metrics.MetricsSink.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The training loop. Read {@link #train()} top to bottom: resume if asked, then per optimizer step
 * draw up to {@code gradient_accumulation_steps} batches, run forward/backward on micro-batches,
 * check for divergence, clip and take an AdamW step with the scheduled learning rate; every {@code
 * logging_steps} log, every {@code evaluation_steps} evaluate (and maybe stop early), every {@code
 * save_steps} checkpoint; at the end write {@code final-model/}.
 *
 * <p>Failure paths: an allocation failure in a step halves the micro-batch (to a divisor, so the
 * data source re-cut with {@code withMicroBatchSize} reads the same sequences in more pieces and
 * the effective batch is unchanged) and retries the step from its start; at micro-batch 1 it stops
 * with an error. A cancellation (Ctrl-C) abandons the current step, writes a checkpoint and stops
 * with the command to resume. A NaN or infinite loss or gradient stops before the optimizer touches
 * the weights, naming the step and the last good checkpoint. The trainer does not own the session:
 * the caller closes it (and so frees native memory) on every path.
 */
public final class Trainer {

  private final MemoryProbe memoryProbe;

  /**
   * Settings of a run that are not in {@link TrainingConfig}.
   *
   * @param runId the pipeline run's id, for the sinks
   * @param baseModel the base model's name or folder, recorded in adapter_config.json
   * @param modelFolder the base model folder whose tokenizer files each checkpoint copies, or null
   * @param resumeFrom null (start fresh), {@code latest} (the newest complete checkpoint in
   *     output_dir) or a checkpoint folder
   * @param resumeCommand the command that restarts this run, printed with {@code --resume PATH}
   *     when interrupted
   * @param notices where lines for people go (resume, retries, interrupts)
   */
  public record Options(
      String runId,
      String baseModel,
      Path modelFolder,
      String resumeFrom,
      String resumeCommand,
      Consumer<String> notices) {

    /** Defaults for a run started from code: no resume, notices to standard error. */
    public static Options defaults() {
      return new Options("run", null, null, null, "entity-train train", System.err::println);
    }

    public Options withResumeFrom(String resume) {
      return new Options(runId, baseModel, modelFolder, resume, resumeCommand, notices);
    }

    public Options withModel(String base, Path folder) {
      return new Options(runId, base, folder, resumeFrom, resumeCommand, notices);
    }
  }

  /** Called before every micro-batch's forward/backward; tests throw allocation failures here. */
  @FunctionalInterface
  public interface FaultInjector {
    void beforeMicroBatch(long step, int microBatchSize);
  }

  /**
   * What a finished run did.
   *
   * @param outcome COMPLETED or EARLY_STOPPED (the other outcomes are thrown)
   * @param steps optimizer steps taken in total
   * @param lastLoss the last step's training loss
   * @param bestEvalLoss the best validation loss, or null
   * @param bestStep its step, or -1
   * @param bestCheckpoint the checkpoint of the best step if it was saved, or null
   * @param finalModel the final-model folder
   * @param microBatchSize the micro-batch in use at the end
   * @param tokens training tokens seen
   * @param seconds wall time of this process's training
   */
  public record Result(
      Outcome outcome,
      long steps,
      double lastLoss,
      Double bestEvalLoss,
      long bestStep,
      Path bestCheckpoint,
      Path finalModel,
      int microBatchSize,
      long tokens,
      double seconds) {}

  private record StepStats(double loss, double gradNorm, double lr, long tokens, long targets) {}

  private final TrainingSession session;
  private final TrainingConfig config;
  private BatchSource data; // re-cut into smaller micro-batches after an out-of-memory
  private final List<Batch> validation;
  private final Options options;
  private final MetricsSink sink;
  private final Cancellation cancellation;
  private final CheckpointStore checkpoints;
  private FaultInjector faults = (step, micro) -> {};

  private long maxSteps;
  private LearningRateSchedule schedule;
  private Map<String, String> fingerprint;
  private long step;
  private int microBatch;
  private Double best;
  private long bestStep = -1;
  private int evaluationsWithoutImprovement;
  private long tokensSeen;
  private final List<Map<String, Object>> history = new ArrayList<>();
  private final Map<Long, Double> evalLossByStep = new HashMap<>();
  private Path lastCheckpoint;
  private long lastSavedStep = -1;
  private long startNanos;
  private long startStep;

  public Trainer(
      TrainingSession session,
      TrainingConfig config,
      BatchSource data,
      List<Batch> validation,
      Options options,
      MetricsSink sink,
      Cancellation cancellation) {
    List<String> problems = config.violations(session.decoder().config());
    if (!problems.isEmpty()) {
      throw new EntityException("training_config: " + String.join("; ", problems));
    }
    if (data.batchesPerEpoch() <= 0) {
      throw new EntityException("the training set has no batches; add data or lower batch_size");
    }
    this.session = session;
    this.memoryProbe = MemoryProbe.of(session.decoder().backend());
    this.config = config;
    this.data = data;
    this.validation = List.copyOf(validation);
    this.options = options;
    this.sink = sink;
    this.cancellation = cancellation;
    this.checkpoints = new CheckpointStore(Path.of(config.outputDir()));
  }

  public void setFaultInjector(FaultInjector faults) {
    this.faults = faults;
  }

  /** The run's checkpoint folders (tests hook into saves through it). */
  public CheckpointStore checkpoints() {
    return checkpoints;
  }

  /** Runs the whole training; see the class comment for how it stops early. */
  public Result train() {
    startNanos = System.nanoTime();
    checkpoints.cleanTemporary();
    maxSteps =
        config.maxSteps() > 0
            ? config.maxSteps()
            : data.stepsPerEpoch(config.gradientAccumulationSteps()) * config.numEpochs();
    schedule = LearningRateSchedule.of(config, maxSteps);
    fingerprint = RunFingerprint.of(config, session.decoder(), data);
    microBatch = config.batchSize();
    data.seek(BatchPosition.start());
    if (options.resumeFrom() != null) {
      resume(checkpoints.resolveResume(options.resumeFrom()));
    }
    startStep = step;
    sink.begin(
        new MetricsSink.RunStart(
            options.runId(),
            checkpoints.root(),
            config.toMap(),
            step,
            maxSteps,
            data.batchesPerEpoch(),
            validation.size(),
            session.decoder().store().trainableCount(),
            session.decoder().store().parameterCount()));
    try {
      Result result = loop();
      sink.end(
          new MetricsSink.RunEnd(
              result.outcome(),
              step,
              best,
              bestStep,
              result.finalModel(),
              seconds(),
              "final model in " + result.finalModel()));
      return result;
    } catch (TrainingStoppedException e) {
      sink.end(
          new MetricsSink.RunEnd(
              e.outcome(), step, best, bestStep, null, seconds(), e.getMessage()));
      throw e;
    } catch (RuntimeException | Error e) {
      sink.end(
          new MetricsSink.RunEnd(
              Outcome.FAILED,
              step,
              best,
              bestStep,
              null,
              seconds(),
              String.valueOf(e.getMessage())));
      throw e;
    }
  }

  private Result loop() {
    double windowLossSum = 0;
    long windowTargets = 0;
    long windowTokens = 0;
    long windowStart = System.nanoTime();
    double lastLoss = Double.NaN;
    Outcome outcome = Outcome.COMPLETED;
    while (step < maxSteps) {
      StepStats s = takeStep();
      step++;
      tokensSeen += s.tokens();
      lastLoss = s.loss();
      windowLossSum += s.loss() * s.targets();
      windowTargets += s.targets();
      windowTokens += s.tokens();

      if (step % config.loggingSteps() == 0 || step == maxSteps) {
        double seconds = (System.nanoTime() - windowStart) / 1e9;
        Map<String, Double> v = new LinkedHashMap<>();
        v.put(MetricRecord.LOSS, windowTargets == 0 ? 0 : windowLossSum / windowTargets);
        v.put(MetricRecord.LEARNING_RATE, s.lr());
        v.put(MetricRecord.GRAD_NORM, s.gradNorm());
        v.put(MetricRecord.TOKENS_PER_SECOND, seconds > 0 ? windowTokens / seconds : 0);
        v.put(MetricRecord.TOKENS_SEEN, (double) tokensSeen);
        v.put(MetricRecord.ELAPSED_SECONDS, seconds());
        v.put(MetricRecord.ETA_SECONDS, etaSeconds());
        v.putAll(memoryProbe.sample().values());
        v.put(MetricRecord.MICRO_BATCH_SIZE, (double) microBatch);
        record(MetricRecord.Kind.TRAIN, v);
        windowLossSum = 0;
        windowTargets = 0;
        windowTokens = 0;
        windowStart = System.nanoTime();
      }

      boolean stopEarly = false;
      if (!validation.isEmpty() && (step % config.evaluationSteps() == 0 || step == maxSteps)) {
        stopEarly = evaluate();
      }

      if (step % config.saveSteps() == 0 || (stopEarly && step < maxSteps)) {
        saveCheckpoint();
      }
      if (stopEarly) {
        outcome = Outcome.EARLY_STOPPED;
        options
            .notices()
            .accept(
                String.format(
                    Locale.ROOT,
                    "early stopping at step %d: validation loss has not improved by more than %s"
                        + " for %d evaluations (best %.6f at step %d)",
                    step,
                    config.earlyStoppingMinDelta(),
                    evaluationsWithoutImprovement,
                    best,
                    bestStep));
        break;
      }
    }
    Path finalModel = saveFinal();
    Path bestCheckpoint =
        bestStep >= 0 && Files.isDirectory(checkpoints.checkpointPath(bestStep))
            ? checkpoints.checkpointPath(bestStep)
            : null;
    return new Result(
        outcome,
        step,
        lastLoss,
        best,
        bestStep,
        bestCheckpoint,
        finalModel,
        microBatch,
        tokensSeen,
        seconds());
  }

  // ---------------------------------------------------------------- one optimizer step

  /**
   * Draws the step's batches and trains on them; after an allocation failure, restores the state
   * from before the step (gradients zeroed, the same batches) and retries with half the
   * micro-batch.
   */
  private StepStats takeStep() {
    if (cancellation.isCancelled()) {
      throw interrupted();
    }
    while (true) {
      BatchPosition before = data.position();
      List<Batch> batches = drawStepBatches();
      long targets = 0;
      long tokens = 0;
      for (Batch b : batches) {
        targets += b.targetCount();
        tokens += MicroBatches.tokenCount(b);
      }
      try {
        session.zeroGrad();
        double lossSum = 0;
        for (Batch part : batches) {
          if (cancellation.isCancelled()) {
            session.zeroGrad();
            data.seek(before); // abandon the step: the checkpoint resumes at its start
            throw interrupted();
          }
          faults.beforeMicroBatch(step, microBatch);
          long n = part.targetCount();
          if (n == 0) {
            continue;
          }
          float loss = session.accumulate(part, (float) ((double) n / targets));
          lossSum += (double) loss * n;
        }
        double loss = targets == 0 ? 0 : lossSum / targets;
        double norm = session.gradNorm();
        if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
          throw diverged(loss, norm);
        }
        double lr = schedule.lr(step);
        session.step((float) lr, config.maxGradNorm());
        return new StepStats(loss, norm, lr, tokens, targets);
      } catch (OutOfMemoryError | RuntimeException e) {
        if (!isAllocationFailure(e)) {
          throw e;
        }
        session.zeroGrad();
        if (microBatch == 1) {
          throw new TrainingStoppedException(
              Outcome.FAILED,
              step,
              lastCheckpoint,
              "out of memory at step "
                  + (step + 1)
                  + " even with a micro-batch of 1 sequence ("
                  + e.getMessage()
                  + "); lower max_seq_length, set gradient_checkpointing: true, use"
                  + " training_method: lora or qlora, or free memory"
                  + lastCheckpointHint(),
              e);
        }
        int old = microBatch;
        microBatch = halved(microBatch);
        // the same rows, cut finer: the step is drawn again from its first row
        data.seek(before);
        data = data.withMicroBatchSize(microBatch);
        options
            .notices()
            .accept(
                "out of memory at step "
                    + (step + 1)
                    + " with a micro-batch of "
                    + old
                    + ": retrying the step with "
                    + microBatch
                    + " sequences per micro-batch and "
                    + ((long) config.gradientAccumulationSteps()
                        * divideUp(config.batchSize(), microBatch))
                    + " micro-batches per step (same effective batch of "
                    + config.effectiveBatchSize()
                    + ")");
      }
    }
  }

  /**
   * The micro-batches of one optimizer step: gradient_accumulation_steps x (batch_size / current
   * micro-batch) of them, fewer at the end of an epoch (a step never crosses an epoch boundary).
   */
  private List<Batch> drawStepBatches() {
    List<Batch> out = new ArrayList<>();
    int n =
        data.microBatchesInNextStep(
            config.gradientAccumulationSteps() * (config.batchSize() / microBatch));
    for (int k = 0; k < n; k++) {
      out.add(data.next());
    }
    return out;
  }

  /**
   * The largest divisor of {@code size} that is at most half of it, so the smaller micro-batches
   * tile the old ones exactly (and batch_size, which every micro-batch size divides).
   */
  static int halved(int size) {
    for (int d = size / 2; d > 1; d--) {
      if (size % d == 0) {
        return d;
      }
    }
    return 1;
  }

  private static boolean isAllocationFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        return true;
      }
    }
    return false;
  }

  private static long divideUp(long a, long b) {
    return (a + b - 1) / b;
  }

  private TrainingStoppedException diverged(double loss, double norm) {
    session.zeroGrad();
    return new TrainingStoppedException(
        Outcome.DIVERGED,
        step,
        lastCheckpoint,
        String.format(
                Locale.ROOT,
                "training diverged at step %d: loss %s, gradient norm %s; the weights of this step"
                    + " were not updated and nothing was saved after it",
                step + 1,
                loss,
                norm)
            + lastCheckpointHint()
            + ". Lower learning_rate (now "
            + config.learningRate()
            + "), add warmup, or set max_grad_norm",
        null);
  }

  private String lastCheckpointHint() {
    return lastCheckpoint == null
        ? "; no checkpoint was written yet"
        : "; last good checkpoint: " + lastCheckpoint;
  }

  // ---------------------------------------------------------------- evaluation

  /** Logs validation loss and perplexity; returns whether early stopping says stop. */
  private boolean evaluate() {
    double sum = 0;
    long n = 0;
    for (Batch b : validation) {
      for (Batch part : MicroBatches.split(b, microBatch)) {
        long c = part.targetCount();
        if (c > 0) {
          sum += (double) session.evalLoss(part) * c;
          n += c;
        }
      }
    }
    if (n == 0) {
      return false;
    }
    double loss = sum / n;
    Map<String, Double> v = new LinkedHashMap<>();
    v.put(MetricRecord.EVAL_LOSS, loss);
    v.put(MetricRecord.EVAL_PERPLEXITY, Math.exp(loss));
    record(MetricRecord.Kind.EVAL, v);
    evalLossByStep.put(step, loss);
    if (!Double.isFinite(loss)) {
      throw diverged(loss, Double.NaN);
    }
    if (best == null || loss < best - config.earlyStoppingMinDelta()) {
      best = loss;
      bestStep = step;
      evaluationsWithoutImprovement = 0;
    } else {
      evaluationsWithoutImprovement++;
    }
    return config.earlyStoppingPatience() > 0
        && evaluationsWithoutImprovement >= config.earlyStoppingPatience();
  }

  private void record(MetricRecord.Kind kind, Map<String, Double> values) {
    MetricRecord r = new MetricRecord(kind, step, maxSteps, epoch(), values, Instant.now());
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("step", step);
    h.put("epoch", r.epoch());
    h.put("kind", kind.name().toLowerCase(Locale.ROOT));
    h.putAll(values);
    history.add(h);
    sink.log(r);
  }

  // ---------------------------------------------------------------- checkpoints and resume

  private void saveCheckpoint() {
    TrainerState state = state();
    Path p =
        checkpoints.save(
            "checkpoint-" + step,
            folder ->
                TrainingCheckpoint.write(
                    folder, session, state, options.baseModel(), options.modelFolder(), true));
    CheckpointStore.verify(p);
    TrainingCheckpoint.checkLoadable(p, session);
    lastCheckpoint = p;
    lastSavedStep = step;
    List<Path> deleted = checkpoints.prune(config.saveTotalLimit(), evalLossByStep);
    sink.checkpoint(new MetricsSink.CheckpointSaved(step, p, evalLossByStep.get(step), deleted));
  }

  private Path saveFinal() {
    TrainerState state = state();
    Path p =
        checkpoints.save(
            CheckpointStore.FINAL_MODEL,
            folder ->
                TrainingCheckpoint.write(
                    folder, session, state, options.baseModel(), options.modelFolder(), false));
    CheckpointStore.verify(p);
    return p;
  }

  private TrainerState state() {
    BatchPosition pos = data.position();
    Decoder d = session.decoder();
    return new TrainerState(
        TrainerState.FORMAT,
        step,
        epoch(),
        maxSteps,
        microBatch,
        data.seed(),
        pos.epoch(),
        pos.batchIndex(),
        config.seed(),
        d.options().lora() == null ? 0 : d.options().lora().seed(),
        best,
        bestStep,
        evaluationsWithoutImprovement,
        tokensSeen,
        schedule,
        session.optimizer().stepCount(),
        RunFingerprint.hash(fingerprint),
        fingerprint,
        history);
  }

  private void resume(Path folder) {
    CheckpointStore.verify(folder);
    TrainerState saved = TrainerState.read(folder.resolve(TrainerState.FILE));
    RunFingerprint.requireSame(folder, saved.fingerprint(), fingerprint);
    TrainingCheckpoint.restore(folder, session);
    step = saved.globalStep();
    microBatch = saved.microBatchSize();
    if (microBatch != data.microBatchSize()) {
      // the saved position counts micro-batches of the size the run had then
      data = data.withMicroBatchSize(microBatch);
    }
    best = saved.bestMetric();
    bestStep = saved.bestStep();
    evaluationsWithoutImprovement = saved.evaluationsWithoutImprovement();
    tokensSeen = saved.tokensSeen();
    history.addAll(saved.logHistory());
    for (Map<String, Object> h : saved.logHistory()) {
      if (h.get(MetricRecord.EVAL_LOSS) instanceof Number loss
          && h.get("step") instanceof Number s) {
        evalLossByStep.put(s.longValue(), loss.doubleValue());
      }
    }
    data.seek(saved.dataPosition());
    lastCheckpoint = folder;
    lastSavedStep = step;
    options.notices().accept("resumed from " + folder + " at step " + step + " of " + maxSteps);
  }

  /** Writes a checkpoint (unless this step has one) and builds the interrupt error. */
  private TrainingStoppedException interrupted() {
    Path p = lastCheckpoint;
    if (step > 0 && lastSavedStep != step) {
      saveCheckpoint();
      p = lastCheckpoint;
    }
    String why = cancellation.reason() == null ? "cancelled" : cancellation.reason();
    String message =
        "training interrupted ("
            + why
            + ") after step "
            + step
            + " of "
            + maxSteps
            + (p == null
                ? "; no step was completed, nothing to resume"
                : "; checkpoint "
                    + p
                    + "\nTo resume: "
                    + options.resumeCommand()
                    + " --resume "
                    + p);
    options.notices().accept(message);
    return new TrainingStoppedException(Outcome.INTERRUPTED, step, p, message, null);
  }

  // ---------------------------------------------------------------- progress

  private double epoch() {
    BatchPosition p = data.position();
    return p.epoch() + (double) p.batchIndex() / data.batchesPerEpoch();
  }

  private double seconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private double etaSeconds() {
    long done = step - startStep;
    return done <= 0 ? 0 : seconds() / done * (maxSteps - step);
  }
}
