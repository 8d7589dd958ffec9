package dev.entity.training.data;

// Conversion never throws for a bad record: every problem of the record is added to the list the
// caller passes, so one pass over a file can report all its bad records at once.

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a raw JSON record of a given {@link DatasetFormat} into a {@link Conversation}, checking
 * required fields, types, roles, empty strings and turn order, and detects a record's format from
 * its keys. Unknown extra keys (ids, sources, metadata) are ignored.
 */
final class ConversationConverter {

  private ConversationConverter() {}

  /** The keys that identify each format, for error messages. */
  static final String SIGNATURES =
      "alpaca {instruction, input, output}, sharegpt {conversations: [{from, value}]}, "
          + "openai {messages: [{role, content}]}, json {text} or {prompt, completion}";

  /**
   * The format a record's keys point to, or null when none or several do; {@link #describeKeys}
   * explains which.
   */
  static DatasetFormat detect(JsonNode record) {
    List<DatasetFormat> matches = matches(record);
    return matches.size() == 1 ? matches.getFirst() : null;
  }

  /** Why {@link #detect} found no single format for a record. */
  static String describeKeys(JsonNode record) {
    List<String> keys = new ArrayList<>();
    record.fieldNames().forEachRemaining(keys::add);
    List<DatasetFormat> matches = matches(record);
    if (matches.isEmpty()) {
      return "record has keys "
          + keys
          + " which match no dataset format; expected one of "
          + SIGNATURES;
    }
    return "record has keys "
        + keys
        + " which match several formats ("
        + matches.stream().map(DatasetFormat::configName).toList()
        + "); keep the keys of one format, or set dataset_format explicitly";
  }

  private static List<DatasetFormat> matches(JsonNode record) {
    List<DatasetFormat> found = new ArrayList<>();
    if (record.has("instruction")) {
      found.add(DatasetFormat.ALPACA);
    }
    if (record.has("conversations")) {
      found.add(DatasetFormat.SHAREGPT);
    }
    if (record.has("messages")) {
      found.add(DatasetFormat.OPENAI);
    }
    if (record.has("text") || record.has("prompt")) {
      found.add(DatasetFormat.JSON);
    }
    return found;
  }

  /**
   * Converts one record; returns null and adds to {@code problems} when the record is bad.
   *
   * @param format a concrete format, never {@link DatasetFormat#AUTO}
   */
  static Conversation convert(
      SourceRecord source, DatasetFormat format, List<RecordProblem> problems) {
    Problems p = new Problems(source.location(), problems);
    JsonNode record = source.value();
    if (!record.isObject()) {
      p.add("", "record must be a JSON object, found " + kind(record));
      return null;
    }
    List<Message> messages = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    switch (format) {
      case ALPACA -> alpaca(record, p, messages, paths);
      case SHAREGPT -> turns(record, "conversations", "from", "value", p, messages, paths);
      case OPENAI -> turns(record, "messages", "role", "content", p, messages, paths);
      case JSON -> json(record, p, messages, paths);
      case AUTO -> throw new IllegalArgumentException("AUTO must be resolved before conversion");
    }
    if (p.count > 0) {
      return null;
    }
    checkTurnOrder(messages, paths, p);
    return p.count > 0 ? null : new Conversation(messages, source.file(), source.position());
  }

  private static void alpaca(JsonNode r, Problems p, List<Message> out, List<String> paths) {
    String system = optionalString(r, "system", p);
    String instruction = requiredString(r.get("instruction"), "instruction", p);
    String input = optionalString(r, "input", p);
    String output = requiredString(r.get("output"), "output", p);
    if (system != null && !system.isBlank()) {
      out.add(Message.system(system));
      paths.add("system");
    }
    if (instruction != null) {
      out.add(
          Message.user(
              input == null || input.isBlank() ? instruction : instruction + "\n\n" + input));
      paths.add("instruction");
    }
    if (output != null) {
      out.add(Message.assistant(output));
      paths.add("output");
    }
  }

  private static void json(JsonNode r, Problems p, List<Message> out, List<String> paths) {
    if (r.has("text")) {
      if (r.has("prompt") || r.has("completion")) {
        p.add("text", "a record has either 'text' or 'prompt'/'completion', not both");
        return;
      }
      String text = requiredString(r.get("text"), "text", p);
      if (text != null) {
        out.add(Message.assistant(text));
        paths.add("text");
      }
      return;
    }
    String prompt = requiredString(r.get("prompt"), "prompt", p);
    String completion = requiredString(r.get("completion"), "completion", p);
    if (prompt != null && completion != null) {
      out.add(Message.user(prompt));
      out.add(Message.assistant(completion));
      paths.add("prompt");
      paths.add("completion");
    }
  }

  private static void turns(
      JsonNode r,
      String listKey,
      String roleKey,
      String contentKey,
      Problems p,
      List<Message> out,
      List<String> paths) {
    JsonNode list = r.get(listKey);
    if (list == null || list.isNull()) {
      p.add(listKey, "missing; add a list of {" + roleKey + ", " + contentKey + "} objects");
      return;
    }
    if (!list.isArray()) {
      p.add(
          listKey,
          "must be a list of {" + roleKey + ", " + contentKey + "} objects, found " + kind(list));
      return;
    }
    if (list.isEmpty()) {
      p.add(listKey, "is empty; a conversation needs at least one assistant turn");
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      String path = listKey + "[" + i + "]";
      JsonNode turn = list.get(i);
      if (!turn.isObject()) {
        p.add(path, "must be an object {" + roleKey + ", " + contentKey + "}, found " + kind(turn));
        continue;
      }
      String roleName = requiredString(turn.get(roleKey), path + "." + roleKey, p);
      String content = requiredString(turn.get(contentKey), path + "." + contentKey, p);
      Role role = roleName == null ? null : role(roleName, listKey.equals("conversations"));
      if (roleName != null && role == null) {
        p.add(
            path + "." + roleKey,
            "unknown role '"
                + roleName
                + "'; use "
                + (listKey.equals("conversations")
                    ? "human/user, gpt/assistant/model or system"
                    : "system, user or assistant"));
      }
      if (role != null && content != null) {
        out.add(new Message(role, content));
        paths.add(path + "." + roleKey);
      }
    }
  }

  private static Role role(String name, boolean sharegpt) {
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "system" -> Role.SYSTEM;
      case "user" -> Role.USER;
      case "assistant" -> Role.ASSISTANT;
      case "human" -> sharegpt ? Role.USER : null;
      case "gpt", "model" -> sharegpt ? Role.ASSISTANT : null;
      default -> null;
    };
  }

  /**
   * An optional system message first, then user and assistant alternating from a user turn and
   * ending with an assistant turn; a lone assistant turn (plain text) is the one other shape.
   */
  private static void checkTurnOrder(List<Message> messages, List<String> paths, Problems p) {
    if (messages.size() == 1 && messages.getFirst().role() == Role.ASSISTANT) {
      return;
    }
    int start = 0;
    if (!messages.isEmpty() && messages.getFirst().role() == Role.SYSTEM) {
      start = 1;
    }
    if (start == messages.size()) {
      p.add(
          paths.isEmpty() ? "" : paths.getFirst(),
          "has no user or assistant turn; add a user and an assistant turn");
      return;
    }
    for (int i = start; i < messages.size(); i++) {
      Role expected = (i - start) % 2 == 0 ? Role.USER : Role.ASSISTANT;
      Role actual = messages.get(i).role();
      if (actual != expected) {
        p.add(
            paths.get(i),
            actual == Role.SYSTEM
                ? "a system message may only come first"
                : "turn order: expected "
                    + expected.wireName()
                    + " but found "
                    + actual.wireName()
                    + "; after an optional system message, user and assistant turns alternate,"
                    + " starting with user");
        return;
      }
    }
    if (messages.getLast().role() != Role.ASSISTANT) {
      p.add(
          paths.getLast(),
          "the conversation must end with an assistant turn; the last turn is "
              + messages.getLast().role().wireName()
              + " and would train nothing");
    }
  }

  private static String requiredString(JsonNode value, String field, Problems p) {
    if (value == null || value.isNull()) {
      p.add(field, "missing; add a non-empty string");
      return null;
    }
    if (!value.isTextual()) {
      p.add(field, "must be a string, found " + kind(value));
      return null;
    }
    if (value.asText().isBlank()) {
      p.add(field, "is empty; give it some text or remove the record");
      return null;
    }
    return value.asText();
  }

  private static String optionalString(JsonNode record, String field, Problems p) {
    JsonNode value = record.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      p.add(field, "must be a string, found " + kind(value));
      return null;
    }
    return value.asText();
  }

  static String kind(JsonNode v) {
    return switch (v.getNodeType()) {
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      case NUMBER -> "a number (" + v.asText() + ")";
      case BOOLEAN -> "a boolean (" + v.asText() + ")";
      case STRING -> "a string";
      case NULL, MISSING -> "null";
      case BINARY, POJO -> "a " + v.getNodeType().name().toLowerCase(Locale.ROOT);
    };
  }

  /** Collects one record's problems under its location. */
  private static final class Problems {
    private final String location;
    private final List<RecordProblem> sink;
    private int count;

    Problems(String location, List<RecordProblem> sink) {
      this.location = location;
      this.sink = sink;
    }

    void add(String field, String message) {
      sink.add(new RecordProblem(location, field, message));
      count++;
    }
  }
}
