package dev.entity.engine;

/**
 * An error in what the user gave the engine: a malformed safetensors or GGUF file, an unsupported
 * architecture, a broken tokenizer. The message names the file and field and says what to do. It is
 * the engine's counterpart of {@code dev.entity.core.EntityException} (the engine depends on
 * nothing of ours); the CLI treats both as user errors and prints them without a stack trace.
 */
public class EngineException extends RuntimeException {

  public EngineException(String message) {
    super(message);
  }

  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
