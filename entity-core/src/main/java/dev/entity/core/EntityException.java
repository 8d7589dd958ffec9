package dev.entity.core;

/**
 * An error the user can cause and fix: a bad dataset, config field, model folder or flag. The
 * message names the file, line or field and says what to do; the CLI prints it without a stack
 * trace unless {@code --debug} is given. Programming errors stay ordinary unchecked exceptions.
 */
public class EntityException extends RuntimeException {

  public EntityException(String message) {
    super(message);
  }

  public EntityException(String message, Throwable cause) {
    super(message, cause);
  }
}
