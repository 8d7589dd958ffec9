package dev.entity.training.data;

/**
 * Who speaks a {@link Message}: the system prompt, the user, or the assistant whose turns the model
 * is trained to produce. Every dataset format's role names ({@code human}, {@code gpt}, {@code
 * model}, ...) are mapped onto these three when a record is read.
 */
public enum Role {
  SYSTEM,
  USER,
  ASSISTANT;

  /** The lowercase name used by the openai and chat-template conventions. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
