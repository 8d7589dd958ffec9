package dev.entity.engine.template;

/**
 * A tokenized conversation ready for training: {@code ids} and {@code labels} of equal length,
 * unshifted as in Hugging Face (label {@code i} is the target for position {@code i}; the loss
 * shifts), with {@link #IGNORE} where a token is not trained.
 */
public record TrainingExample(int[] ids, int[] labels) {

  /** The label of a token that is not trained (PyTorch's ignore_index). */
  public static final int IGNORE = -100;

  public TrainingExample {
    if (ids.length != labels.length) {
      throw new IllegalArgumentException(
          "ids and labels differ in length: " + ids.length + " vs " + labels.length);
    }
  }

  /** Number of tokens. */
  public int length() {
    return ids.length;
  }

  /** Number of trained tokens. */
  public int labelCount() {
    int n = 0;
    for (int l : labels) {
      if (l != IGNORE) {
        n++;
      }
    }
    return n;
  }
}
