package dev.entity.training.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

  @TempDir Path out;

  private Path save(CheckpointStore store, long step, String text) {
    return store.save(
        "checkpoint-" + step, folder -> Files.writeString(folder.resolve("a.txt"), text));
  }

  @Test
  void savedFolderHasAManifestAndVerifies() throws IOException {
    CheckpointStore store = new CheckpointStore(out);
    Path p = save(store, 5, "hello");
    assertThat(p).isEqualTo(out.toAbsolutePath().resolve("checkpoint-5"));
    CheckpointStore.verify(p);
    String manifest = Files.readString(p.resolve(CheckpointStore.MANIFEST));
    assertThat(manifest)
        .contains("\"a.txt\"")
        .contains("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assertThat(store.list()).extracting(CheckpointStore.Checkpoint::step).containsExactly(5L);
    // saving the same name again replaces it whole
    save(store, 5, "again");
    assertThat(Files.readString(p.resolve("a.txt"))).isEqualTo("again");
    CheckpointStore.verify(p);
  }

  @Test
  void tamperedTruncatedExtraOrMissingFilesFailVerification() throws IOException {
    CheckpointStore store = new CheckpointStore(out);
    Path p = save(store, 1, "hello");
    Files.writeString(p.resolve("a.txt"), "hellp");
    assertThatThrownBy(() -> CheckpointStore.verify(p))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("a.txt does not match its sha256");
    Files.writeString(p.resolve("a.txt"), "hell");
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("has 4 bytes");
    Files.writeString(p.resolve("a.txt"), "hello");
    Files.writeString(p.resolve("b.txt"), "x");
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("b.txt is not in");
    Files.delete(p.resolve("b.txt"));
    Files.delete(p.resolve("a.txt"));
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("a.txt is listed");
    Files.writeString(p.resolve(CheckpointStore.MANIFEST), "{\"files\": ");
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("unreadable manifest");
    Files.writeString(p.resolve(CheckpointStore.MANIFEST), "{\"files\": {}}");
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("lists no files");
    Files.writeString(
        p.resolve(CheckpointStore.MANIFEST), "{\"files\": {\"../x\": {\"bytes\": 1}}}");
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("missing");
    Files.delete(p.resolve(CheckpointStore.MANIFEST));
    assertThatThrownBy(() -> CheckpointStore.verify(p)).hasMessageContaining("no manifest.json");
    assertThat(store.list()).isEmpty();
  }

  @Test
  void latestValidSkipsDamagedCheckpoints() throws IOException {
    CheckpointStore store = new CheckpointStore(out);
    save(store, 2, "two");
    Path four = save(store, 4, "four");
    Files.writeString(four.resolve("a.txt"), "f0ur");
    assertThat(store.latestValid().orElseThrow().step()).isEqualTo(2);
  }

  @Test
  void failedWriteLeavesNothingAndTemporaryFoldersAreCleaned() throws IOException {
    CheckpointStore store = new CheckpointStore(out);
    assertThatThrownBy(
            () ->
                store.save(
                    "checkpoint-3",
                    folder -> {
                      Files.writeString(folder.resolve("a.txt"), "half");
                      throw new IOException("disk full");
                    }))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("disk full");
    assertThat(out.resolve("checkpoint-3")).doesNotExist();
    Files.createDirectories(out.resolve(".tmp-checkpoint-9-abc"));
    Files.createDirectories(out.resolve(".trash-checkpoint-1-abc"));
    assertThat(store.cleanTemporary()).hasSize(2);
    try (Stream<Path> s = Files.list(out)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void pruneKeepsTheBestByValidationLossPlusTheLatest() {
    CheckpointStore store = new CheckpointStore(out);
    for (long step : List.of(1L, 2L, 3L, 4L, 5L)) {
      save(store, step, "s" + step);
    }
    Map<Long, Double> losses = Map.of(1L, 3.0, 2L, 1.0, 3L, 2.0, 4L, 1.5);
    List<Path> deleted = store.prune(2, losses);
    assertThat(deleted)
        .extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder("checkpoint-1", "checkpoint-3");
    assertThat(store.list())
        .extracting(CheckpointStore.Checkpoint::step)
        .containsExactly(2L, 4L, 5L);
    assertThat(store.prune(0, losses)).isEmpty();
    // without losses the newest are kept
    assertThat(store.prune(1, Map.of()))
        .extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder("checkpoint-2", "checkpoint-4");
  }
}
