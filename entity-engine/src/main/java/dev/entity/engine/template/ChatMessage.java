package dev.entity.engine.template;

import java.util.Locale;
import java.util.Objects;

/**
 * One message of a conversation, the engine's own type: a role (system, user or assistant) and its
 * text. Chat templates see it as {@code {"role": "user", "content": "..."}}.
 */
public record ChatMessage(Role role, String content) {

  /** Who speaks; {@link #wireName()} is the lower-case name templates compare against. */
  public enum Role {
    SYSTEM,
    USER,
    ASSISTANT;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }

  public static ChatMessage system(String content) {
    return new ChatMessage(Role.SYSTEM, content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage(Role.USER, content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage(Role.ASSISTANT, content);
  }
}
