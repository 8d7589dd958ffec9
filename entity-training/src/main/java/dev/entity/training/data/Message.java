package dev.entity.training.data;

import java.util.Objects;

/**
 * One turn of a {@link Conversation}: a role and its text. The content is never null and, once a
 * record has been validated, never blank.
 */
public record Message(Role role, String content) {

  public Message {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }

  public static Message system(String content) {
    return new Message(Role.SYSTEM, content);
  }

  public static Message user(String content) {
    return new Message(Role.USER, content);
  }

  public static Message assistant(String content) {
    return new Message(Role.ASSISTANT, content);
  }
}
