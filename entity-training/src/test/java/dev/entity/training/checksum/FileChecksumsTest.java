package dev.entity.training.checksum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileChecksumsTest {

  // sha256("abc") from FIPS 180-2, appendix B.1
  private static final String ABC =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  @TempDir Path dir;

  @Test
  void fileAndByteDigestsAgreeWithTheStandardVector() throws IOException {
    Path f = Files.writeString(dir.resolve("abc.txt"), "abc", StandardCharsets.US_ASCII);
    assertThat(FileChecksums.sha256("abc".getBytes(StandardCharsets.US_ASCII))).isEqualTo(ABC);
    assertThat(FileChecksums.sha256(f)).isEqualTo(ABC);
    assertThat(FileChecksums.hashFile(f)).isEqualTo(ABC);
  }

  @Test
  void aMissingFileIsAnIoErrorOrAnEntityErrorNamingIt() {
    Path missing = dir.resolve("missing.bin");
    assertThatThrownBy(() -> FileChecksums.hashFile(missing))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> FileChecksums.sha256(missing))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("missing.bin");
  }

  @Test
  void manifestRoundTripsAndNamesTheChangedFile() throws IOException {
    Files.writeString(dir.resolve("a.txt"), "abc");
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/b.txt"), "b");
    var entries = FileChecksums.writeManifest(dir);
    assertThat(entries).extracting(FileChecksums.Entry::path).containsExactly("a.txt", "sub/b.txt");
    assertThat(Files.readString(dir.resolve(FileChecksums.MANIFEST))).startsWith(ABC + "  a.txt\n");
    FileChecksums.verifyManifest(dir);
    Files.writeString(dir.resolve("sub/b.txt"), "changed");
    assertThatThrownBy(() -> FileChecksums.verifyManifest(dir))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("sub/b.txt does not match");
  }

  @Test
  void malformedAndHostileManifestLinesAreRefused() throws IOException {
    Path manifest = dir.resolve(FileChecksums.MANIFEST);
    Files.writeString(manifest, "not a checksum line\n");
    assertThatThrownBy(() -> FileChecksums.verifyManifest(dir))
        .hasMessageContaining("line 1: expected '<64 hex digits>  <path>'");
    Files.writeString(manifest, ABC + "  ../outside.txt\n");
    assertThatThrownBy(() -> FileChecksums.verifyManifest(dir))
        .hasMessageContaining("../outside.txt is missing");
    Files.writeString(manifest, ABC.substring(0, 40)); // truncated
    assertThatThrownBy(() -> FileChecksums.verifyManifest(dir)).hasMessageContaining("line 1");
  }
}
