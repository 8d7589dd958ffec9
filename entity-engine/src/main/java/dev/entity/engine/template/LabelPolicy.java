package dev.entity.engine.template;

/**
 * Which tokens of a rendered conversation are training labels. With either policy the end-of-turn
 * (or EOS) token after every assistant message is a label, so the model learns to stop.
 */
public enum LabelPolicy {
  /** Only assistant messages and their end-of-turn tokens (the default). */
  ASSISTANT_ONLY,
  /** Every token, prompt included. */
  ALL_TOKENS
}
