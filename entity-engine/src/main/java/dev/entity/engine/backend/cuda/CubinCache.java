// Convention: a cache entry's name is its whole key (a SHA-256 of everything that shapes the
// cubin), so an entry is never updated in place: it is written once, atomically, or not at all.
package dev.entity.engine.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The on-disk cache of compiled kernel modules: {@code $XDG_CACHE_HOME/entity-training/cuda/} (or
 * {@code ~/.cache/...}), one {@code <key>.cubin} per source file, GPU architecture, compiler
 * options and NVRTC version. Entries are written to a temporary file in the same folder and moved
 * into place atomically, so concurrent processes and crashes never leave a half-written cubin; an
 * unreadable or unwritable cache only costs a recompile.
 */
final class CubinCache {

  private final Path folder;

  CubinCache(Path folder) {
    this.folder = folder;
  }

  /**
   * {@code $XDG_CACHE_HOME/entity-training/cuda}, or {@code <home>/.cache/entity-training/cuda}.
   */
  static Path defaultFolder(Map<String, String> env, Path home) {
    String xdg = env.get("XDG_CACHE_HOME");
    Path base = xdg == null || xdg.isBlank() ? home.resolve(".cache") : Path.of(xdg);
    return base.resolve("entity-training").resolve("cuda");
  }

  Path folder() {
    return folder;
  }

  /**
   * The key of one compilation: SHA-256 over the source, the options, the NVRTC version and the
   * architecture, each length-prefixed so no two different inputs concatenate alike.
   */
  static String key(String source, List<String> options, String nvrtcVersion, String arch) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      update(sha, source);
      update(sha, Integer.toString(options.size()));
      for (String option : options) {
        update(sha, option);
      }
      update(sha, nvrtcVersion);
      update(sha, arch);
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static void update(MessageDigest sha, String part) {
    byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
    sha.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
    sha.update((byte) ':');
    sha.update(bytes);
  }

  Path entry(String key) {
    return folder.resolve(key + ".cubin");
  }

  /** The cached cubin, or empty when absent, empty or unreadable. */
  Optional<byte[]> read(String key) {
    try {
      byte[] bytes = Files.readAllBytes(entry(key));
      return bytes.length == 0 ? Optional.empty() : Optional.of(bytes);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Stores {@code cubin} under {@code key}; false (and nothing left behind) when it cannot. */
  boolean write(String key, byte[] cubin) {
    Path tmp = null;
    try {
      Files.createDirectories(folder);
      tmp = Files.createTempFile(folder, key + ".", ".tmp");
      Files.write(tmp, cubin);
      try {
        Files.move(tmp, entry(key), StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, entry(key), StandardCopyOption.REPLACE_EXISTING);
      }
      return true;
    } catch (IOException | RuntimeException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the temporary file is all that is left; it never shadows an entry
        }
      }
      return false;
    }
  }
}
