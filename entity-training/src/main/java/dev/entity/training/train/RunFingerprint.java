// Convention: every value is a string, compared exactly, so a float setting differs only when its
// Java text form differs; keys are grouped by prefix (config., model., trainable., data.).
package dev.entity.training.train;

import dev.entity.core.EntityException;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.model.ParameterStore;
import dev.entity.training.data.BatchSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What must be the same for a checkpoint to continue a run exactly: the training settings that
 * change the trajectory (not output_dir, logging, saving or device), the model's shape, the
 * trainable parameters by name and shape, and the data (rows and batches per epoch, the order's
 * seed). A checkpoint whose fingerprint differs is refused with {@link #diff}.
 */
public final class RunFingerprint {

  /** Settings that do not change the weights a run ends with. */
  private static final Set<String> OPERATIONAL =
      Set.of(
          "model_name_or_path",
          "output_dir",
          "logging_steps",
          "save_steps",
          "save_total_limit",
          "device",
          "gradient_checkpointing");

  private RunFingerprint() {}

  /** The fingerprint of a run, sorted by key. */
  public static Map<String, String> of(TrainingConfig config, Decoder decoder, BatchSource data) {
    Map<String, String> f = new TreeMap<>();
    config
        .toMap()
        .forEach(
            (k, v) -> {
              if (!OPERATIONAL.contains(k)) {
                f.put("config." + k, String.valueOf(v));
              }
            });
    f.put("model.config_sha256", sha256(decoder.config().toJson()));
    f.put("model.model_type", decoder.config().modelType());
    f.put("model.parameters", Long.toString(decoder.store().parameterCount()));
    StringBuilder names = new StringBuilder();
    for (ParameterStore.Slot s : decoder.store().trainableSlots()) {
      names.append(s).append('\n');
    }
    f.put("trainable.parameters", Long.toString(decoder.store().trainableCount()));
    f.put("trainable.slots_sha256", sha256(names.toString()));
    f.put("model.frozen_dtype", decoder.options().frozenDType().name());
    f.put("data.batches_per_epoch", Long.toString(data.batchesPerEpoch()));
    f.put("data.rows_per_epoch", Long.toString(data.rowsPerEpoch()));
    f.put("data.micro_batch_size", Long.toString(data.microBatchSize()));
    f.put("data.seed", Long.toString(data.seed()));
    return f;
  }

  /** sha256 over the sorted {@code key=value} lines. */
  public static String hash(Map<String, String> fingerprint) {
    StringBuilder s = new StringBuilder();
    new TreeMap<>(fingerprint).forEach((k, v) -> s.append(k).append('=').append(v).append('\n'));
    return sha256(s.toString());
  }

  /**
   * The differences as lines {@code key: checkpoint X, now Y} (empty when equal); keys only one
   * side has show "(absent)".
   */
  public static List<String> diff(Map<String, String> saved, Map<String, String> now) {
    Set<String> keys = new TreeSet<>(saved.keySet());
    keys.addAll(now.keySet());
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      String a = saved.getOrDefault(k, "(absent)");
      String b = now.getOrDefault(k, "(absent)");
      if (!a.equals(b)) {
        out.add(k + ": checkpoint " + a + ", now " + b);
      }
    }
    return out;
  }

  /**
   * Refuses a checkpoint whose fingerprint differs from this run's, saying what differs.
   *
   * @throws EntityException naming the folder, both config hashes and every differing key
   */
  public static void requireSame(Path folder, Map<String, String> saved, Map<String, String> now) {
    List<String> diff = diff(saved, now);
    if (!diff.isEmpty()) {
      throw new EntityException(
          folder
              + " belongs to a different run (config hash "
              + hash(saved).substring(0, 12)
              + ", this run "
              + hash(now).substring(0, 12)
              + "); what differs:\n  "
              + String.join("\n  ", diff)
              + "\nUse the model and settings it was trained with, or start without --resume");
    }
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
