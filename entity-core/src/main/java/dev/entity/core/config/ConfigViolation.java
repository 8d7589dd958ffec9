package dev.entity.core.config;

/**
 * One thing wrong with a config: the field path as the user wrote it (e.g. {@code config.lora_r},
 * {@code config.targets[2]}) and what is wrong with it.
 *
 * @param path dotted field path with list indexes, in the snake_case keys of the YAML
 * @param message what is wrong and, where it helps, what is allowed
 */
public record ConfigViolation(String path, String message) {

  /** A violation of a field relative to the config root, for {@link CrossFieldRules}. */
  public static ConfigViolation of(String field, String message) {
    return new ConfigViolation(field, message);
  }

  /** The same violation with {@code prefix.} put in front of its path. */
  ConfigViolation under(String prefix) {
    if (prefix.isEmpty()) {
      return this;
    }
    return new ConfigViolation(path.isEmpty() ? prefix : prefix + "." + path, message);
  }

  @Override
  public String toString() {
    return path + ": " + message;
  }
}
