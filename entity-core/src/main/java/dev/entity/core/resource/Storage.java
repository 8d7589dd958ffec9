package dev.entity.core.resource;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The {@code storage} resource: the run folder. Paths given to it are relative to the folder and
 * may not leave it. Files are written atomically (a temporary file in the same folder, flushed to
 * disk, then renamed over the target), so a reader never sees half a file and a crash leaves the
 * previous version intact.
 */
public final class Storage implements Resource {

  private static final java.util.concurrent.atomic.AtomicLong TEMP_COUNTER =
      new java.util.concurrent.atomic.AtomicLong();

  /** Writes the content of a file being written atomically. */
  @FunctionalInterface
  public interface Writer {
    /** Writes everything to {@code out}; the stream is closed by the caller. */
    void write(OutputStream out) throws IOException;
  }

  private final Path root;

  private Storage(Path root) {
    this.root = root;
  }

  /**
   * The run folder at {@code root}, created with its parents if missing.
   *
   * @throws EntityException when it cannot be created or is not a folder
   */
  public static Storage open(Path root) {
    Path absolute = root.toAbsolutePath().normalize();
    try {
      Files.createDirectories(absolute);
    } catch (IOException e) {
      throw new EntityException(
          "cannot create the run folder " + absolute + ": " + e + "; choose another output folder",
          e);
    }
    return new Storage(absolute);
  }

  /** The run folder, absolute. */
  public Path root() {
    return root;
  }

  /**
   * The path of {@code relative} inside the run folder.
   *
   * @throws EntityException when {@code relative} is absolute or leaves the folder
   */
  public Path resolve(String relative) {
    Path path = root.resolve(relative).normalize();
    if (Path.of(relative).isAbsolute() || !path.startsWith(root)) {
      throw new EntityException(
          "path '" + relative + "' leaves the run folder " + root + "; use a path inside it");
    }
    return path;
  }

  /** Creates the folder {@code relative} inside the run folder (and its parents) and returns it. */
  public Path createDirectories(String relative) {
    Path path = resolve(relative);
    try {
      return Files.createDirectories(path);
    } catch (IOException e) {
      throw new EntityException("cannot create folder " + path + ": " + e, e);
    }
  }

  /** Writes {@code content} to {@code relative} atomically and returns the file's path. */
  public Path writeAtomically(String relative, Writer content) {
    Path target = resolve(relative);
    writeAtomically(target, content);
    return target;
  }

  /** Writes UTF-8 {@code text} to {@code relative} atomically and returns the file's path. */
  public Path writeString(String relative, String text) {
    return writeAtomically(relative, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * Writes {@code content} to {@code target} (anywhere) atomically: a temporary sibling file is
   * written, forced to disk and renamed over the target. On failure the temporary file is removed
   * and the target is untouched.
   *
   * @throws EntityException when writing or renaming fails
   */
  public static void writeAtomically(Path target, Writer content) {
    Path absolute = target.toAbsolutePath();
    Path folder = absolute.getParent();
    Path temporary = null;
    try {
      Files.createDirectories(folder);
      // Not Files.createTempFile: that makes the file owner-only (0600); a run's reports and
      // exports should get the usual permissions (umask), like any file the user writes.
      temporary =
          folder.resolve(
              "."
                  + absolute.getFileName()
                  + "."
                  + ProcessHandle.current().pid()
                  + "."
                  + TEMP_COUNTER.incrementAndGet()
                  + ".tmp");
      try (FileChannel channel =
              FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
        content.write(out);
        out.flush();
        channel.force(true);
      }
      try {
        Files.move(
            temporary,
            absolute,
            StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING);
      }
      temporary = null;
    } catch (IOException e) {
      throw new EntityException("cannot write " + absolute + ": " + e, e);
    } finally {
      if (temporary != null) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException ignored) {
          // the write already failed; that error is the one to report
        }
      }
    }
  }

  /** Nothing to release: the folder stays. */
  @Override
  public void close() {}
}
