package dev.entity.training.data;

import java.util.List;
import java.util.Objects;

/**
 * The canonical training example every dataset format becomes: an optional system message, then
 * user and assistant turns alternating and ending with an assistant turn. A plain-text record is a
 * single assistant turn with no prompt (the whole text is trained); a prompt/completion record is
 * one user and one assistant turn. {@code source} and {@code line} say where the record came from
 * (line in JSON/JSONL, row in Parquet/CSV) so later errors can point back at the file.
 */
public record Conversation(List<Message> messages, String source, long line) {

  public Conversation {
    messages = List.copyOf(messages);
    Objects.requireNonNull(source, "source");
  }

  /** A conversation built in code, with no file behind it. */
  public static Conversation of(Message... messages) {
    return new Conversation(List.of(messages), "<memory>", 0);
  }

  /** The system message's text, or null when there is none. */
  public String systemPrompt() {
    return !messages.isEmpty() && messages.getFirst().role() == Role.SYSTEM
        ? messages.getFirst().content()
        : null;
  }

  /** Number of characters (Unicode code points) over all messages. */
  public long characters() {
    long total = 0;
    for (Message m : messages) {
      total += m.content().codePointCount(0, m.content().length());
    }
    return total;
  }

  /** True when the conversation is the form a plain-text record produces: one assistant turn. */
  public boolean isPlainText() {
    return messages.size() == 1 && messages.getFirst().role() == Role.ASSISTANT;
  }
}
