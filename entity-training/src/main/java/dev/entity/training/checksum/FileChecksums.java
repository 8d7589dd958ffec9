// Convention: the manifest is written in sha256sum's own format ("<hex>  <relative path>"), so
// `sha256sum -c SHA256SUMS` checks an exported folder without this program.
package dev.entity.training.checksum;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * SHA-256 checksums of files: one file's digest (also the Git LFS object id the Hub push uses, and
 * what a checkpoint's manifest records) and the {@value #MANIFEST} manifest of an exported folder.
 */
public final class FileChecksums {

  /** The manifest's file name inside an exported folder. */
  public static final String MANIFEST = "SHA256SUMS";

  /** One file of a manifest: its path relative to the folder, size and SHA-256 (hex). */
  public record Entry(String path, long bytes, String sha256) {}

  private FileChecksums() {}

  /**
   * The lower-case hex SHA-256 of a file's bytes.
   *
   * @throws EntityException naming the file when it cannot be read
   */
  public static String sha256(Path file) {
    try {
      return hashFile(file);
    } catch (IOException e) {
      throw new EntityException("cannot read " + file + " to checksum it: " + e.getMessage(), e);
    }
  }

  /**
   * The lower-case hex SHA-256 of a file's bytes, for callers that handle I/O errors themselves (a
   * checkpoint save turns them into its own message).
   */
  public static String hashFile(Path file) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** The lower-case hex SHA-256 of bytes. */
  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * Checksums every regular file under {@code folder} (the manifest itself excluded), sorted by
   * path, and writes them to {@code folder/SHA256SUMS}.
   */
  public static List<Entry> writeManifest(Path folder) {
    List<Entry> entries = new ArrayList<>();
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        String rel = folder.relativize(f).toString().replace('\\', '/');
        if (!rel.equals(MANIFEST)) {
          entries.add(new Entry(rel, Files.size(f), sha256(f)));
        }
      }
      StringBuilder text = new StringBuilder();
      for (Entry e : entries) {
        text.append(e.sha256()).append("  ").append(e.path()).append('\n');
      }
      Files.writeString(folder.resolve(MANIFEST), text);
    } catch (IOException e) {
      throw new EntityException(
          "cannot write " + folder.resolve(MANIFEST) + ": " + e.getMessage(), e);
    }
    return List.copyOf(entries);
  }

  /**
   * Checks every line of {@code folder/SHA256SUMS} against the files; an {@link EntityException}
   * names the first file that is missing or differs.
   */
  public static void verifyManifest(Path folder) {
    Path manifest = folder.resolve(MANIFEST);
    List<String> lines;
    try {
      lines = Files.readAllLines(manifest);
    } catch (IOException e) {
      throw new EntityException(manifest + ": cannot read: " + e.getMessage(), e);
    }
    int lineNo = 0;
    for (String line : lines) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      int sep = line.indexOf("  ");
      if (sep != 64 || !line.substring(0, 64).matches("[0-9a-f]{64}")) {
        throw new EntityException(
            manifest + " line " + lineNo + ": expected '<64 hex digits>  <path>'");
      }
      String rel = line.substring(66);
      Path file = folder.resolve(rel).normalize();
      if (!file.startsWith(folder.normalize()) || !Files.isRegularFile(file)) {
        throw new EntityException(
            manifest + " line " + lineNo + ": " + rel + " is missing from " + folder);
      }
      if (!sha256(file).equals(line.substring(0, 64))) {
        throw new EntityException(
            manifest
                + " line "
                + lineNo
                + ": "
                + rel
                + " does not match its checksum; export again");
      }
    }
  }
}
