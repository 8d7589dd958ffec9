package dev.entity.training.hub;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The Hugging Face Hub cache layout, shared with Python's {@code huggingface_hub}: {@code
 * <cache>/models--org--name/} holds {@code blobs/<etag>} (file contents, named by their ETag: the
 * sha256 for LFS files, the git blob sha1 otherwise), {@code snapshots/<commit>/<file>} (relative
 * symbolic links into blobs, or copies where links are not allowed) and {@code refs/<revision>}
 * (the commit a branch or tag pointed to when last resolved).
 */
public final class HubCache {

  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

  private final Path root;

  public HubCache(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** {@code models--org--name} under the cache root. */
  public Path repoFolder(String repoId) {
    return root.resolve("models--" + repoId.replace("/", "--"));
  }

  public Path blob(String repoId, String etag) {
    return repoFolder(repoId).resolve("blobs").resolve(etag);
  }

  public Path snapshot(String repoId, String commit) {
    return repoFolder(repoId).resolve("snapshots").resolve(commit);
  }

  static boolean isCommit(String revision) {
    return COMMIT.matcher(revision).matches();
  }

  /**
   * The commit {@code revision} resolves to in the cache: itself if it is a commit, else its ref.
   */
  public Optional<String> commitOf(String repoId, String revision) {
    if (isCommit(revision)) {
      return Optional.of(revision);
    }
    Path ref = repoFolder(repoId).resolve("refs").resolve(revision);
    try {
      if (!ref.normalize().startsWith(repoFolder(repoId).resolve("refs"))) {
        return Optional.empty();
      }
      String commit = Files.isRegularFile(ref) ? Files.readString(ref).strip() : "";
      return isCommit(commit) ? Optional.of(commit) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Records that {@code revision} pointed to {@code commit}. */
  public void writeRef(String repoId, String revision, String commit) throws IOException {
    if (isCommit(revision)) {
      return;
    }
    Path ref = repoFolder(repoId).resolve("refs").resolve(revision);
    Files.createDirectories(ref.getParent());
    Path tmp = ref.resolveSibling(ref.getFileName() + ".tmp");
    Files.writeString(tmp, commit, StandardCharsets.UTF_8);
    Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Makes {@code snapshots/<commit>/<file>} point at {@code blobs/<etag>}. */
  public void link(String repoId, String commit, String file, String etag) throws IOException {
    Path target = snapshot(repoId, commit).resolve(file);
    Path blob = blob(repoId, etag);
    Files.createDirectories(target.getParent());
    Files.deleteIfExists(target);
    try {
      Files.createSymbolicLink(target, target.getParent().relativize(blob));
    } catch (UnsupportedOperationException | FileSystemException e) {
      Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * The cached snapshot of {@code revision} when it holds a {@code config.json}, for offline use.
   */
  public Path offlineSnapshot(String repoId, String revision) {
    Optional<String> commit = commitOf(repoId, revision);
    Path snap = commit.map(c -> snapshot(repoId, c)).orElse(null);
    if (snap == null || !Files.isRegularFile(snap.resolve("config.json"))) {
      throw new EntityException(
          "HF_HUB_OFFLINE is set and model "
              + repoId
              + " (revision "
              + revision
              + ") is not in the Hub cache at "
              + root
              + "; download it once online (unset HF_HUB_OFFLINE) or give a local model folder");
    }
    return snap;
  }
}
