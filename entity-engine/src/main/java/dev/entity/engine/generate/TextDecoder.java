package dev.entity.engine.generate;

/**
 * Turns token ids into text for streaming and stop strings; a tokenizer's {@code decode(ids,
 * true)}, or anything else that maps ids to text (tests use a one-character-per-id table). Bytes
 * that do not (yet) form a whole UTF-8 character must come out as U+FFFD, as the tokenizer's lossy
 * decoding does: that is how the stream knows to wait for the rest of a character.
 */
@FunctionalInterface
public interface TextDecoder {

  String decode(int[] ids);
}
