package dev.entity.engine.tokenizer;

/**
 * The result of encoding a string: token ids and, for each token, the span {@code [start, end)} it
 * covers in the input, in UTF-16 units (Java {@code String} indexes). Special tokens added by the
 * post-processor have the empty span {@code (0, 0)}; tokens of one character split into several
 * byte tokens each span the whole character.
 */
public record Encoding(int[] ids, int[] starts, int[] ends) {

  /** Number of tokens. */
  public int size() {
    return ids.length;
  }
}
