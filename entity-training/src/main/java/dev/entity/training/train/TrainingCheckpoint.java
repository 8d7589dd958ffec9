// Convention: the model files of a checkpoint are exactly what PEFT (LoRA) or save_pretrained
// (full) writes, so any checkpoint folder is also a usable adapter or model; the optimizer's
// moments sit beside them under AdamW's own names (exp_avg.<name>, exp_avg_sq.<name>).
package dev.entity.training.train;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.format.safetensors.SafetensorsFile;
import dev.entity.engine.format.safetensors.SafetensorsFolder;
import dev.entity.engine.format.safetensors.SafetensorsWriter;
import dev.entity.engine.format.safetensors.TensorSource;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.HfCheckpoint;
import dev.entity.engine.model.ParameterStore;
import dev.entity.engine.model.TrainingSession;
import dev.entity.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of a checkpoint folder and how they go in and out of a {@link TrainingSession}: the
 * trainable weights (PEFT adapter for LoRA, Hugging Face safetensors + config.json for full
 * fine-tuning, tokenizer files copied from the base model folder), {@code optimizer.safetensors}
 * (AdamW moments, step count in its metadata) and {@code trainer_state.json}.
 */
public final class TrainingCheckpoint {

  /** AdamW's moments. */
  public static final String OPTIMIZER = "optimizer.safetensors";

  /** Hugging Face's shard limit for save_pretrained (5 GB). */
  static final long MAX_SHARD_BYTES = 5_000_000_000L;

  /** Tokenizer and generation files a model folder may hold; copied into every checkpoint. */
  static final List<String> TOKENIZER_FILES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "vocab.json",
          "merges.txt",
          "tokenizer.model",
          "added_tokens.json",
          "generation_config.json",
          "chat_template.jinja");

  private TrainingCheckpoint() {}

  /**
   * Writes the session's weights, optionally its optimizer state, and {@code state} into {@code
   * folder}.
   *
   * @param baseModel the base model's name or folder, recorded in adapter_config.json
   * @param modelFolder the base model folder whose tokenizer files are copied, or null
   */
  public static void write(
      Path folder,
      TrainingSession session,
      TrainerState state,
      String baseModel,
      Path modelFolder,
      boolean withOptimizer)
      throws IOException {
    Decoder d = session.decoder();
    if (d.options().lora() != null) {
      LoraAdapter.save(d, folder, baseModel);
    } else {
      HfCheckpoint.save(d, folder, MAX_SHARD_BYTES);
    }
    if (modelFolder != null) {
      for (String name : TOKENIZER_FILES) {
        Path src = modelFolder.resolve(name);
        if (Files.isRegularFile(src)) {
          Files.copy(src, folder.resolve(name));
        }
      }
    }
    if (withOptimizer) {
      try (Arena arena = Arena.ofConfined()) {
        Map<String, Tensor> moments = session.optimizer().stateToHost(arena);
        SafetensorsWriter.write(
            folder.resolve(OPTIMIZER),
            moments,
            Map.of("optimizer", "adamw", "step", Long.toString(session.optimizer().stepCount())));
      }
    }
    state.write(folder.resolve(TrainerState.FILE));
  }

  /**
   * Checks that a checkpoint holds what {@link #restore} needs and that its weights load back into
   * {@code session}'s model (names and shapes), without changing anything.
   */
  public static TrainerState checkLoadable(Path folder, TrainingSession session) {
    TrainerState state = TrainerState.read(folder.resolve(TrainerState.FILE));
    Decoder d = session.decoder();
    List<String> expected = trainableNames(d);
    try (SafetensorsFile opt = SafetensorsFile.open(folder.resolve(OPTIMIZER))) {
      for (String n : expected) {
        for (String role : List.of("exp_avg.", "exp_avg_sq.")) {
          if (!opt.contains(role + n)) {
            throw new EntityException(folder + ": " + OPTIMIZER + " has no " + role + n);
          }
        }
      }
    } catch (EngineException e) {
      throw new EntityException(folder + ": " + e.getMessage(), e);
    }
    // the weights must hold every trainable parameter with its shape (what restore will copy)
    boolean lora = d.options().lora() != null;
    Path single =
        folder.resolve(lora ? LoraAdapter.WEIGHTS : SafetensorsFolder.MODEL + ".safetensors");
    boolean sharded =
        !lora
            && Files.isRegularFile(
                folder.resolve(SafetensorsFolder.MODEL + ".safetensors.index.json"));
    if (!Files.isRegularFile(single) && !sharded) {
      throw new EntityException(folder + ": no model weights (" + single.getFileName() + ")");
    }
    try (TensorSource files =
        lora ? SafetensorsFile.open(single) : SafetensorsFolder.open(folder)) {
      for (ParameterStore.Slot s : d.store().trainableSlots()) {
        long[] want = lora ? s.shape() : s.fileShape();
        if (!files.contains(s.name())
            || !java.util.Arrays.equals(files.entry(s.name()).shape(), want)) {
          throw new EntityException(
              folder
                  + ": the saved weights lack "
                  + s.name()
                  + " "
                  + java.util.Arrays.toString(want)
                  + "; the checkpoint does not belong to this model");
        }
      }
    } catch (EngineException e) {
      throw new EntityException(folder + ": " + e.getMessage(), e);
    }
    return state;
  }

  /**
   * Loads the trainable weights and the optimizer state of {@code folder} into {@code session} and
   * returns the trainer state; the caller has compared fingerprints.
   */
  public static TrainerState restore(Path folder, TrainingSession session) {
    TrainerState state = checkLoadable(folder, session);
    Decoder d = session.decoder();
    try {
      if (d.options().lora() != null) {
        LoraAdapter.load(d, folder);
      } else {
        try (SafetensorsFolder files = SafetensorsFolder.open(folder)) {
          HfCheckpoint.load(d, files, folder.toString());
        }
      }
      try (SafetensorsFile opt = SafetensorsFile.open(folder.resolve(OPTIMIZER))) {
        Map<String, Tensor> moments = new LinkedHashMap<>();
        for (String n : opt.names()) {
          moments.put(n, opt.tensor(n));
        }
        session.optimizer().restore(moments, state.optimizerStep());
      }
    } catch (EngineException e) {
      throw new EntityException(folder + ": " + e.getMessage(), e);
    }
    return state;
  }

  private static List<String> trainableNames(Decoder d) {
    List<String> names = new ArrayList<>();
    for (ParameterStore.Slot s : d.store().trainableSlots()) {
      names.add(s.name());
    }
    return names;
  }
}
