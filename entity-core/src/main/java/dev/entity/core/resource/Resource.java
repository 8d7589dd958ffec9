package dev.entity.core.resource;

/**
 * Something a workflow run opens once and shares with its plugins: the memory database, the event
 * log, the run folder, or one supplied by the application (e.g. a loaded model). The executor opens
 * resources before the first plugin and closes them, in reverse order, when the run ends, failed
 * runs included. A plugin reaches only the resources it declares in {@code Plugin.resources()}.
 */
public interface Resource extends AutoCloseable {

  /** Releases what the resource holds; must not throw for an already closed resource. */
  @Override
  void close();
}
