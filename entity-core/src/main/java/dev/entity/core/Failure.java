package dev.entity.core;

/**
 * Why a pipeline stopped: the stage and plugin that failed and the cause. The message is the
 * cause's message for an {@link EntityException}, otherwise the exception's simple class name and
 * message, so an unexpected error still reads as one line.
 *
 * @param stage the stage of the failing plugin
 * @param plugin the failing plugin's name
 * @param message one line saying what went wrong
 * @param cause the exception, for {@code --debug} stack traces
 */
public record Failure(Stage stage, String plugin, String message, Throwable cause) {

  /** The failure of {@code plugin} in {@code stage} with {@code cause}. */
  public static Failure of(Stage stage, String plugin, Throwable cause) {
    String text = cause.getMessage();
    String message =
        cause instanceof EntityException && text != null
            ? text
            : cause.getClass().getSimpleName() + (text == null ? "" : ": " + text);
    return new Failure(stage, plugin, message, cause);
  }

  @Override
  public String toString() {
    return "plugin '" + plugin + "' failed in stage " + stage + ": " + message;
  }
}
