// Convention: the merge is checked in memory, not trusted: logits of a short probe sequence with
// the adapters active are compared with the merged weights' logits before anything is written.
package dev.entity.training.export;

import dev.entity.core.EntityException;
import dev.entity.engine.EngineException;
import dev.entity.engine.backend.Backend;
import dev.entity.engine.lora.LoraAdapter;
import dev.entity.engine.lora.LoraMerge;
import dev.entity.engine.model.Batch;
import dev.entity.engine.model.Decoder;
import dev.entity.engine.quant.Nf4Config;
import dev.entity.engine.tensor.DType;
import dev.entity.training.checksum.FileChecksums;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Folds a PEFT LoRA adapter into its base model and writes the result as a Hugging Face folder
 * ({@code merge-adapter}, {@code merge_adapter: true}). The base is loaded in F32, the adapter is
 * applied as {@code W += scale B A}, and the merged model's logits on a probe sequence must equal
 * the base+adapter logits before the folder is written.
 */
public final class AdapterMerge {

  /** Largest allowed logit difference, as a fraction of the logits' range, for F32 weights. */
  public static final double TOLERANCE = 1e-4;

  /** The result: where the merged folder is and the largest relative logit difference seen. */
  public record Result(
      Path folder, double maxRelativeDifference, List<FileChecksums.Entry> files) {}

  private AdapterMerge() {}

  /** Largest allowed difference when a QLoRA adapter is merged into the BF16-dequantized base. */
  public static final double QLORA_TOLERANCE = 2e-2;

  /** Opens base + adapter, merges, checks the probe logits and writes {@code out} in dtype. */
  public static Result merge(
      Backend backend, Path baseFolder, Path adapterFolder, Path out, DType dtype) {
    return merge(backend, baseFolder, adapterFolder, out, dtype, null);
  }

  /**
   * As {@link #merge(Backend, Path, Path, Path, DType)}; for an adapter trained with QLoRA pass the
   * run's {@code nf4} setting: the adapter learned against the NF4-rounded base, so it is merged
   * into that base dequantized to BF16 (as bitsandbytes + PEFT do), not into the original weights.
   */
  public static Result merge(
      Backend backend, Path baseFolder, Path adapterFolder, Path out, DType dtype, Nf4Config nf4) {
    Decoder d;
    try {
      Decoder.Options options =
          nf4 == null
              ? Decoder.Options.full()
              : Decoder.Options.qlora(LoraAdapter.readConfig(adapterFolder, 0), nf4);
      d = LoraAdapter.open(backend, baseFolder, adapterFolder, options);
    } catch (EngineException e) {
      throw new EntityException(
          "cannot open the adapter "
              + adapterFolder
              + " on the base "
              + baseFolder
              + ": "
              + e.getMessage(),
          e);
    }
    if (nf4 != null) {
      try (d;
          Decoder merged = LoraMerge.dequantizeAndMerge(d)) {
        double diff = probeDifference(d, merged);
        if (!(diff <= QLORA_TOLERANCE)) {
          throw new EntityException(
              "merging the QLoRA adapter into the BF16 base changed the output by "
                  + diff
                  + " of the logit range (allowed "
                  + QLORA_TOLERANCE
                  + "); the adapter or base weights may hold NaN or huge values");
        }
        List<FileChecksums.Entry> files =
            HfModelExport.write(merged, baseFolder, out, dtype, HfModelExport.DEFAULT_SHARD_BYTES);
        return new Result(out, diff, files);
      }
    }
    try (d) {
      double diff = mergeChecked(d);
      List<FileChecksums.Entry> files =
          HfModelExport.write(d, baseFolder, out, dtype, HfModelExport.DEFAULT_SHARD_BYTES);
      return new Result(out, diff, files);
    }
  }

  /** Relative difference of the probe logits of two decoders of the same model. */
  private static double probeDifference(Decoder a, Decoder b) {
    Batch probe = probe(a.config().vocabSize(), Math.min(8, a.config().maxPositions()));
    int[] rows = new int[probe.seqLen()];
    Arrays.setAll(rows, i -> i);
    return relativeDifference(a.logits(probe, rows), b.logits(probe, rows));
  }

  /**
   * Merges {@code d}'s adapters into its weights and returns the largest probe-logit difference
   * relative to the logits' range; throws when it exceeds {@link #TOLERANCE}.
   */
  public static double mergeChecked(Decoder d) {
    Batch probe = probe(d.config().vocabSize(), Math.min(8, d.config().maxPositions()));
    int[] rows = new int[probe.seqLen()];
    Arrays.setAll(rows, i -> i);
    float[] before = d.logits(probe, rows);
    LoraMerge.merge(d);
    float[] after = d.logits(probe, rows);
    double diff = relativeDifference(before, after);
    if (!(diff <= TOLERANCE)) {
      throw new EntityException(
          "merging the adapter changed the model's output (largest logit difference "
              + diff
              + " of the range); the adapter or base weights may hold NaN or huge values");
    }
    return diff;
  }

  /** A batch of one short sequence of distinct ids, positions 0.., no targets. */
  static Batch probe(int vocab, int length) {
    int[] ids = new int[length];
    int[] targets = new int[length];
    int[] positions = new int[length];
    for (int i = 0; i < length; i++) {
      ids[i] = (int) ((7L * i + 3) % vocab);
      targets[i] = -100;
      positions[i] = i;
    }
    return new Batch(1, length, ids, targets, positions, new int[length]);
  }

  /** max |a - b| divided by the range of a (NaN anywhere gives NaN). */
  public static double relativeDifference(float[] a, float[] b) {
    double max = Double.NEGATIVE_INFINITY;
    double min = Double.POSITIVE_INFINITY;
    double diff = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.isNaN(a[i]) || Float.isNaN(b[i])) {
        return Double.NaN;
      }
      max = Math.max(max, a[i]);
      min = Math.min(min, a[i]);
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
    }
    return diff / Math.max(max - min, 1e-12);
  }
}
