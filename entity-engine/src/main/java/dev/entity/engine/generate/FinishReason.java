package dev.entity.engine.generate;

/** Why a generation ended. */
public enum FinishReason {
  /** The model produced one of the stop token ids (end of turn, EOS). */
  STOP_TOKEN,
  /** A stop string appeared in the text. */
  STOP_STRING,
  /** {@code max_new_tokens} were generated. */
  MAX_TOKENS,
  /** The sequence reached the model's context length. */
  CONTEXT_FULL
}
