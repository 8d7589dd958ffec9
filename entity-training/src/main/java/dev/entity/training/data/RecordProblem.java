package dev.entity.training.data;

/**
 * What is wrong with one record: where it is ({@code file:line} or {@code file row n}), the field
 * path inside the record ({@code messages[2].role}; empty when the whole record is at fault) and
 * what to do about it.
 */
public record RecordProblem(String location, String field, String message) {

  @Override
  public String toString() {
    return field.isEmpty() ? location + ": " + message : location + ": " + field + ": " + message;
  }
}
