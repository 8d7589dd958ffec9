// Convention: a folder named checkpoint-{step} or final-model only ever appears through an atomic
// rename of a complete, fsynced temporary folder that already holds manifest.json; anything whose
// name starts with ".tmp-" or ".trash-" is an abandoned write and is deleted, never read.
package dev.entity.training.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.core.EntityException;
import dev.entity.training.checksum.FileChecksums;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoint folders of a run's output directory: {@code checkpoint-{step}/} during training
 * and {@code final-model/} at the end. Each is written into a temporary folder, every file fsynced,
 * checksummed (sha256) into {@code manifest.json}, then renamed into place, so a crash at any
 * moment leaves either no checkpoint of that name or a complete one. {@link #verify} checks a
 * folder against its manifest; {@link #prune} keeps the best checkpoints by validation loss plus
 * the latest.
 */
public final class CheckpointStore {

  /** The manifest's file name. */
  public static final String MANIFEST = "manifest.json";

  /** The final model's folder name. */
  public static final String FINAL_MODEL = "final-model";

  private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");
  private static final String TEMP_PREFIX = ".tmp-";
  private static final String TRASH_PREFIX = ".trash-";

  /** Where a save is; a {@link Hook} sees each phase (tests kill the process there). */
  public enum Phase {
    /** The temporary folder exists and is empty. */
    STARTED,
    /** Every content file is written and fsynced; no manifest yet. */
    FILES_WRITTEN,
    /** The manifest is written; the folder is still temporary. */
    MANIFEST_WRITTEN,
    /** The folder has its final name. */
    RENAMED
  }

  /** Observes a save; used by tests to crash or pause at a precise point. */
  @FunctionalInterface
  public interface Hook {
    void at(Phase phase, String name, Path folder);
  }

  /** Writes a checkpoint's content files into a folder. */
  @FunctionalInterface
  public interface Content {
    void writeTo(Path folder) throws IOException;
  }

  /**
   * A checkpoint folder found on disk.
   *
   * @param step its step
   * @param path its folder
   */
  public record Checkpoint(long step, Path path) {}

  private final Path root;
  private Hook hook = (phase, name, folder) -> {};

  public CheckpointStore(Path outputDir) {
    this.root = outputDir.toAbsolutePath().normalize();
  }

  /** The output directory. */
  public Path root() {
    return root;
  }

  public void setHook(Hook hook) {
    this.hook = hook;
  }

  /** The folder of the checkpoint at {@code step}. */
  public Path checkpointPath(long step) {
    return root.resolve("checkpoint-" + step);
  }

  /**
   * Writes {@code content} as the folder {@code name} (replacing an older one of that name only
   * once the new one is complete) and returns its path.
   */
  public Path save(String name, Content content) {
    Path target = root.resolve(name);
    Path tmp = root.resolve(TEMP_PREFIX + name + "-" + randomSuffix());
    try {
      Files.createDirectories(root);
      Files.createDirectory(tmp);
      hook.at(Phase.STARTED, name, tmp);
      content.writeTo(tmp);
      List<Path> files = contentFiles(tmp);
      for (Path f : files) {
        fsync(f);
      }
      hook.at(Phase.FILES_WRITTEN, name, tmp);
      ObjectNode manifest = TrainerState.JSON.createObjectNode();
      manifest.put("format", 1);
      manifest.put("name", name);
      ObjectNode entries = manifest.putObject("files");
      for (Path f : files) {
        ObjectNode e = entries.putObject(f.getFileName().toString());
        e.put("bytes", Files.size(f));
        e.put("sha256", FileChecksums.hashFile(f));
      }
      Path manifestFile = tmp.resolve(MANIFEST);
      Files.write(manifestFile, TrainerState.JSON.writeValueAsBytes(manifest));
      fsync(manifestFile);
      fsyncDirectory(tmp);
      hook.at(Phase.MANIFEST_WRITTEN, name, tmp);
      Path trash = null;
      if (Files.exists(target)) {
        trash = root.resolve(TRASH_PREFIX + name + "-" + randomSuffix());
        move(target, trash);
      }
      move(tmp, target);
      fsyncDirectory(root);
      hook.at(Phase.RENAMED, name, target);
      if (trash != null) {
        deleteTree(trash);
      }
      return target;
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new EntityException(
          "cannot write checkpoint " + target + ": " + e.getMessage() + "; check free disk space",
          e);
    } catch (RuntimeException | Error e) {
      deleteQuietly(tmp);
      throw e;
    }
  }

  /**
   * Checks every file listed in the folder's manifest (size and sha256) and that no content file is
   * unlisted.
   *
   * @throws EntityException naming the folder and the first file that does not match
   */
  public static void verify(Path folder) {
    Path manifestFile = folder.resolve(MANIFEST);
    if (!Files.isRegularFile(manifestFile)) {
      throw new EntityException(
          folder
              + ": no "
              + MANIFEST
              + "; it is not a complete checkpoint written by entity-train");
    }
    JsonNode files;
    try {
      files = TrainerState.JSON.readTree(manifestFile.toFile()).get("files");
    } catch (IOException | RuntimeException e) {
      throw new EntityException(manifestFile + ": unreadable manifest: " + e.getMessage());
    }
    if (files == null || !files.isObject() || files.isEmpty()) {
      throw new EntityException(manifestFile + ": the manifest lists no files");
    }
    Set<String> listed = new LinkedHashSet<>();
    try {
      for (Map.Entry<String, JsonNode> e : files.properties()) {
        String name = e.getKey();
        listed.add(name);
        Path f = folder.resolve(name).normalize();
        if (!f.getParent().equals(folder.normalize()) || !Files.isRegularFile(f)) {
          throw new EntityException(
              folder + ": " + name + " is listed in the manifest but missing");
        }
        long bytes = e.getValue().path("bytes").asLong(-1);
        if (Files.size(f) != bytes) {
          throw new EntityException(
              folder
                  + ": "
                  + name
                  + " has "
                  + Files.size(f)
                  + " bytes, the manifest says "
                  + bytes
                  + "; the checkpoint is damaged");
        }
        if (!FileChecksums.hashFile(f).equals(e.getValue().path("sha256").asText())) {
          throw new EntityException(
              folder
                  + ": "
                  + name
                  + " does not match its sha256 in the manifest; the checkpoint"
                  + " is damaged");
        }
      }
      for (Path f : contentFiles(folder)) {
        if (!listed.contains(f.getFileName().toString())) {
          throw new EntityException(
              folder + ": " + f.getFileName() + " is not in the manifest; the folder was changed");
        }
      }
    } catch (IOException e) {
      throw new EntityException(folder + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The checkpoint-{step} folders that have a manifest, by step (not verified; see verify). */
  public List<Checkpoint> list() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Checkpoint> out = new ArrayList<>();
    try (Stream<Path> entries = Files.list(root)) {
      for (Path p : entries.toList()) {
        Matcher m = CHECKPOINT.matcher(p.getFileName().toString());
        if (m.matches() && Files.isRegularFile(p.resolve(MANIFEST))) {
          out.add(new Checkpoint(Long.parseLong(m.group(1)), p));
        }
      }
    } catch (IOException e) {
      throw new EntityException("cannot list " + root + ": " + e.getMessage(), e);
    }
    out.sort(Comparator.comparingLong(Checkpoint::step));
    return out;
  }

  /** The checkpoint with the highest step that passes {@link #verify}, if any. */
  public Optional<Checkpoint> latestValid() {
    List<Checkpoint> all = list();
    for (int i = all.size() - 1; i >= 0; i--) {
      try {
        verify(all.get(i).path());
        return Optional.of(all.get(i));
      } catch (EntityException e) {
        // a damaged checkpoint is skipped in favour of an older complete one
      }
    }
    return Optional.empty();
  }

  /**
   * The folder {@code --resume} names: {@code latest} is the newest complete checkpoint here,
   * anything else a checkpoint folder.
   *
   * @throws EntityException when there is none
   */
  public Path resolveResume(String r) {
    if (r.equals("latest")) {
      return latestValid()
          .map(CheckpointStore.Checkpoint::path)
          .orElseThrow(
              () ->
                  new EntityException(
                      "--resume latest: no complete checkpoint in "
                          + root
                          + "; start without --resume"));
    }
    Path p = Path.of(r).toAbsolutePath().normalize();
    if (!Files.isDirectory(p)) {
      throw new EntityException(
          "--resume " + r + ": no such checkpoint folder; pass a checkpoint-N folder or latest");
    }
    return p;
  }

  /**
   * Deletes checkpoints beyond {@code limit}: the {@code limit} best by validation loss (those
   * without one rank last, newer first among equals) are kept, and always the latest; 0 keeps all.
   * Returns the deleted folders.
   */
  public List<Path> prune(int limit, Map<Long, Double> evalLossByStep) {
    List<Checkpoint> all = list();
    if (limit <= 0 || all.size() <= limit) {
      return List.of();
    }
    Checkpoint latest = all.getLast();
    List<Checkpoint> ranked = new ArrayList<>(all);
    ranked.sort(
        Comparator.comparingDouble(
                (Checkpoint c) -> {
                  Double loss = evalLossByStep.get(c.step());
                  return loss == null || loss.isNaN() ? Double.POSITIVE_INFINITY : loss;
                })
            .thenComparing(Comparator.comparingLong(Checkpoint::step).reversed()));
    Set<Checkpoint> keep = new LinkedHashSet<>(ranked.subList(0, limit));
    keep.add(latest);
    List<Path> deleted = new ArrayList<>();
    for (Checkpoint c : all) {
      if (!keep.contains(c)) {
        // rename first so a crash mid-delete never leaves a half-deleted checkpoint-N behind
        Path trash = root.resolve(TRASH_PREFIX + c.path().getFileName() + "-" + randomSuffix());
        try {
          move(c.path(), trash);
          deleteTree(trash);
        } catch (IOException e) {
          throw new EntityException("cannot delete old checkpoint " + c.path() + ": " + e, e);
        }
        deleted.add(c.path());
      }
    }
    return deleted;
  }

  /** Deletes abandoned temporary and trash folders of earlier, interrupted saves. */
  public List<Path> cleanTemporary() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    List<Path> removed = new ArrayList<>();
    try (Stream<Path> entries = Files.list(root)) {
      for (Path p : entries.toList()) {
        String n = p.getFileName().toString();
        if (Files.isDirectory(p) && (n.startsWith(TEMP_PREFIX) || n.startsWith(TRASH_PREFIX))) {
          deleteTree(p);
          removed.add(p);
        }
      }
    } catch (IOException e) {
      throw new EntityException("cannot clean " + root + ": " + e.getMessage(), e);
    }
    return removed;
  }

  private static List<Path> contentFiles(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().equals(MANIFEST))
          .sorted()
          .toList();
    }
  }

  private static void fsync(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // not every platform can fsync a directory; the rename itself is still atomic
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      deleteTree(p);
    } catch (IOException ignored) {
      // a leftover temporary folder is ignored and cleaned by the next run
    }
  }

  private static String randomSuffix() {
    return Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
  }
}
