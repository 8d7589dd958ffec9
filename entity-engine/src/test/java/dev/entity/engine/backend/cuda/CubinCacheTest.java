package dev.entity.engine.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CubinCacheTest {

  @TempDir Path dir;

  @Test
  void keyChangesWithEachInputAndIsStable() {
    String base = CubinCache.key("src", List.of("--gpu-architecture=sm_86"), "12.4", "sm_86");
    assertThat(base).hasSize(64).matches("[0-9a-f]+");
    assertThat(CubinCache.key("src", List.of("--gpu-architecture=sm_86"), "12.4", "sm_86"))
        .isEqualTo(base);
    assertThat(CubinCache.key("src2", List.of("--gpu-architecture=sm_86"), "12.4", "sm_86"))
        .isNotEqualTo(base);
    assertThat(CubinCache.key("src", List.of("--gpu-architecture=sm_90"), "12.4", "sm_86"))
        .isNotEqualTo(base);
    assertThat(CubinCache.key("src", List.of("--gpu-architecture=sm_86"), "13.0", "sm_86"))
        .isNotEqualTo(base);
    assertThat(CubinCache.key("src", List.of("--gpu-architecture=sm_86"), "12.4", "sm_89"))
        .isNotEqualTo(base);
    assertThat(CubinCache.key("src", List.of(), "12.4", "sm_86")).isNotEqualTo(base);
  }

  @Test
  void partsDoNotRunIntoEachOther() {
    assertThat(CubinCache.key("ab", List.of("c"), "1", "x"))
        .isNotEqualTo(CubinCache.key("a", List.of("bc"), "1", "x"));
    assertThat(CubinCache.key("a", List.of("b", "c"), "1", "x"))
        .isNotEqualTo(CubinCache.key("a", List.of("bc"), "1", "x"));
  }

  @Test
  void writesAtomicallyAndReadsBack() throws IOException {
    CubinCache cache = new CubinCache(dir.resolve("entity-training/cuda"));
    String key = CubinCache.key("s", List.of(), "13.0", "sm_90");
    assertThat(cache.read(key)).isEmpty();
    byte[] cubin = {0x7f, 'E', 'L', 'F', 1, 2, 3};
    assertThat(cache.write(key, cubin)).isTrue();
    assertThat(cache.read(key)).hasValueSatisfying(b -> assertThat(b).isEqualTo(cubin));
    byte[] again = {9, 9};
    assertThat(cache.write(key, again)).isTrue();
    assertThat(cache.read(key)).hasValueSatisfying(b -> assertThat(b).isEqualTo(again));
    try (Stream<Path> files = Files.list(cache.folder())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly(key + ".cubin");
    }
  }

  @Test
  void anEmptyEntryIsAMissAndAnUnwritableFolderIsNotAnError() throws IOException {
    CubinCache cache = new CubinCache(dir);
    Files.write(cache.entry("k"), new byte[0]);
    assertThat(cache.read("k")).isEmpty();
    Path blocker = Files.writeString(dir.resolve("file"), "x");
    CubinCache broken = new CubinCache(blocker.resolve("sub"));
    assertThat(broken.write("k", new byte[] {1})).isFalse();
    assertThat(broken.read("k")).isEmpty();
  }

  @Test
  void folderFollowsXdgCacheHomeElseHome() {
    Path home = Path.of("/home/u");
    assertThat(CubinCache.defaultFolder(Map.of(), home))
        .isEqualTo(Path.of("/home/u/.cache/entity-training/cuda"));
    assertThat(CubinCache.defaultFolder(Map.of("XDG_CACHE_HOME", "/tmp/c"), home))
        .isEqualTo(Path.of("/tmp/c/entity-training/cuda"));
    assertThat(CubinCache.defaultFolder(Map.of("XDG_CACHE_HOME", " "), home))
        .isEqualTo(Path.of("/home/u/.cache/entity-training/cuda"));
  }
}
