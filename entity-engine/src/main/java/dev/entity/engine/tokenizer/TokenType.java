package dev.entity.engine.tokenizer;

/**
 * The kind of a vocabulary entry, with the codes GGUF's {@code tokenizer.ggml.token_type} uses:
 * normal tokens, the unknown token, control (special) tokens, user-defined (added, non-special)
 * tokens, unused ids and the {@code <0xNN>} byte-fallback tokens.
 */
public enum TokenType {
  NORMAL(1),
  UNKNOWN(2),
  CONTROL(3),
  USER_DEFINED(4),
  UNUSED(5),
  BYTE(6);

  private final int ggufCode;

  TokenType(int ggufCode) {
    this.ggufCode = ggufCode;
  }

  /** The value GGUF stores for this type. */
  public int ggufCode() {
    return ggufCode;
  }
}
