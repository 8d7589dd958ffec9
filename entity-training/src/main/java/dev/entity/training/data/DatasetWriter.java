package dev.entity.training.data;

// Output goes to a temporary file in the target's folder and is renamed over the target only when
// every record has been written, so a failure (a record that does not fit the format, a full disk)
// leaves no half-written file and never touches an existing one.

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.core.EntityException;
import dev.entity.core.resource.Storage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes conversations as JSON Lines in any {@link DatasetFormat} but auto. Alpaca holds only an
 * optional system message, one user and one assistant turn; json holds a plain text (one assistant
 * turn) or one user + one assistant turn. A conversation that does not fit is an error that names
 * its source and suggests openai or sharegpt, which hold any conversation.
 */
public final class DatasetWriter {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private DatasetWriter() {}

  /**
   * Writes {@code conversations} to {@code target}; refuses an existing target unless {@code
   * overwrite}.
   */
  public static void write(
      List<Conversation> conversations, Path target, DatasetFormat format, boolean overwrite) {
    if (format == DatasetFormat.AUTO) {
      throw new EntityException(
          "output format: choose alpaca, sharegpt, openai or json; auto only applies to reading");
    }
    if (!overwrite && Files.exists(target)) {
      throw new EntityException(
          target + " already exists; choose another output path or ask to overwrite it");
    }
    // Serialize everything first, so a record that cannot be written leaves no file behind.
    StringBuilder text = new StringBuilder();
    for (Conversation c : conversations) {
      try {
        text.append(MAPPER.writeValueAsString(toRecord(c, format))).append('\n');
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("a JSON tree failed to serialize", e);
      }
    }
    Storage.writeAtomically(
        target, out -> out.write(text.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /** One conversation as a record of the given format. */
  public static ObjectNode toRecord(Conversation c, DatasetFormat format) {
    ObjectNode record = MAPPER.createObjectNode();
    switch (format) {
      case ALPACA -> {
        List<Message> turns = withoutSystem(c);
        if (turns.size() != 2
            || turns.get(0).role() != Role.USER
            || turns.get(1).role() != Role.ASSISTANT) {
          throw doesNotFit(
              c, "alpaca", "an optional system message, one user and one assistant turn");
        }
        if (c.systemPrompt() != null) {
          record.put("system", c.systemPrompt());
        }
        record.put("instruction", turns.get(0).content());
        record.put("input", "");
        record.put("output", turns.get(1).content());
      }
      case JSON -> {
        if (c.isPlainText()) {
          record.put("text", c.messages().getFirst().content());
        } else if (c.messages().size() == 2 && c.messages().getFirst().role() == Role.USER) {
          record.put("prompt", c.messages().get(0).content());
          record.put("completion", c.messages().get(1).content());
        } else {
          throw doesNotFit(
              c,
              "json",
              "a plain text, or one user and one assistant turn without a system message");
        }
      }
      case SHAREGPT -> {
        ArrayNode turns = record.putArray("conversations");
        for (Message m : c.messages()) {
          String from =
              switch (m.role()) {
                case SYSTEM -> "system";
                case USER -> "human";
                case ASSISTANT -> "gpt";
              };
          turns.addObject().put("from", from).put("value", m.content());
        }
      }
      case OPENAI -> {
        ArrayNode turns = record.putArray("messages");
        for (Message m : c.messages()) {
          turns.addObject().put("role", m.role().wireName()).put("content", m.content());
        }
      }
      case AUTO -> throw new IllegalArgumentException("AUTO is not a writable format");
    }
    return record;
  }

  private static List<Message> withoutSystem(Conversation c) {
    return c.systemPrompt() == null ? c.messages() : c.messages().subList(1, c.messages().size());
  }

  private static EntityException doesNotFit(Conversation c, String format, String holds) {
    return new EntityException(
        SourceRecord.location(c.source(), c.line(), false)
            + ": this conversation ("
            + c.messages().size()
            + " turns) does not fit the "
            + format
            + " format, which holds "
            + holds
            + "; write openai or sharegpt instead, which hold any conversation");
  }
}
