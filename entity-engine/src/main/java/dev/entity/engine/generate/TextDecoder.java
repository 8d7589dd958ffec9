package dev.entity.engine.generate;

/**
 * Turns token ids into text for streaming and stop strings; a tokenizer's {@code decode(ids,
 * true)}, or anything else that maps ids to text (tests use a one-character-per-id table).
 */
@FunctionalInterface
public interface TextDecoder {

  String decode(int[] ids);
}
