package dev.entity.engine.tokenizer;

/**
 * A token of the {@code added_tokens} list of a {@code tokenizer.json}: matched in the input before
 * the model runs. {@code special} tokens (BOS, EOS, chat markers) are control tokens skipped by
 * {@code decode(ids, true)}; {@code normalized} tokens are matched after normalization, others in
 * the raw text; {@code lstrip}/{@code rstrip} absorb neighbouring whitespace; {@code singleWord}
 * tokens match only between non-word characters.
 */
public record AddedToken(
    int id,
    String content,
    boolean singleWord,
    boolean lstrip,
    boolean rstrip,
    boolean normalized,
    boolean special) {}
