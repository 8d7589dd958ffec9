package dev.entity.training.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubUploaderTest {

  @TempDir Path folder;
  FakeHubServer hub;
  final List<String> log = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws Exception {
    hub = new FakeHubServer();
    Files.writeString(folder.resolve("README.md"), "---\nlicense: mit\n---\n# hi\n");
    Files.writeString(folder.resolve("config.json"), "{}");
    byte[] weights = new byte[700];
    new Random(1).nextBytes(weights);
    Files.write(folder.resolve("model.safetensors"), weights);
    Files.createDirectories(folder.resolve("sub"));
    Files.write(folder.resolve("sub/extra.bin"), new byte[150]);
    Files.writeString(folder.resolve(".hidden"), "not pushed");
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  private HubUploader.Options options(boolean priv) {
    return new HubUploader.Options(priv, "main", "Upload model", 4, Duration.ofMillis(1));
  }

  private HubUploader uploader() {
    return new HubUploader(hub.settings(FakeHubServer.TOKEN), log::add);
  }

  private void assertEverythingArrived() throws Exception {
    assertThat(hub.problems).isEmpty();
    List<String> expected =
        List.of("README.md", "config.json", "model.safetensors", "sub/extra.bin");
    assertThat(hub.committed.keySet()).containsExactlyElementsOf(expected);
    for (String p : expected) {
      assertThat(hub.committed.get(p)).as(p).isEqualTo(Files.readAllBytes(folder.resolve(p)));
    }
  }

  @Test
  void smallFilesGoInlineAndLargeOnesThroughLfsBasicUpload() throws Exception {
    HubUploader.Result r = uploader().push(folder, "me/tiny", options(true));
    assertEverythingArrived();
    assertThat(r.lfsFiles()).isEqualTo(2);
    assertThat(r.regularFiles()).isEqualTo(2);
    assertThat(r.created()).isTrue();
    assertThat(hub.createBody.path("private").asBoolean()).isTrue();
    assertThat(hub.createBody.path("name").asText()).isEqualTo("tiny");
    assertThat(hub.commitHeader.path("value").path("summary").asText()).isEqualTo("Upload model");
    assertThat(hub.requests).anyMatch(q -> q.startsWith("PUT localhost"));
  }

  @Test
  void largeFilesUseMultipartWithChunkUrlsAndCompletion() throws Exception {
    hub.multipartAbove = 100;
    hub.chunkSize = 256;
    uploader().push(folder, "me/tiny", options(false));
    assertEverythingArrived();
    assertThat(hub.parts.values()).anyMatch(p -> p.size() == 3); // 700 bytes in chunks of 256
    assertThat(hub.createBody.path("private").asBoolean()).isFalse();
  }

  @Test
  void existingRepositoryAndObjectsAlreadyStoredAreFine() throws Exception {
    hub.existingRepos.add("me/tiny");
    uploader().push(folder, "me/tiny", options(false));
    int uploads = (int) hub.requests.stream().filter(q -> q.startsWith("PUT")).count();
    HubUploader.Result again = uploader().push(folder, "me/tiny", options(false));
    assertThat(again.created()).isFalse();
    assertThat(hub.requests.stream().filter(q -> q.startsWith("PUT")).count()).isEqualTo(uploads);
    assertEverythingArrived();
    assertThat(log)
        .anyMatch(l -> l.contains("exists"))
        .anyMatch(l -> l.contains("already on the Hub"));
  }

  @Test
  void serverErrorsAreRetriedWithBackoff() throws Exception {
    hub.failCommitTimes = 2;
    uploader().push(folder, "me/tiny", options(false));
    assertEverythingArrived();
    assertThat(log.stream().filter(l -> l.contains("HTTP 503") && l.contains("retrying")))
        .hasSize(2);
    hub.failCommitTimes = 10;
    assertThatThrownBy(() -> uploader().push(folder, "me/tiny", options(false)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("HTTP 503");
  }

  @Test
  void authorizationAndConflictErrorsAreClear() {
    HubUploader wrongToken = new HubUploader(hub.settings("hf_wrong"), log::add);
    assertThatThrownBy(() -> wrongToken.push(folder, "me/tiny", options(false)))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("rejected the token");
    hub.commitStatus = 403;
    assertThatThrownBy(() -> uploader().push(folder, "me/tiny", options(false)))
        .hasMessageContaining("write access");
    hub.commitStatus = 409;
    assertThatThrownBy(() -> uploader().push(folder, "me/tiny", options(false)))
        .hasMessageContaining("conflict");
    hub.createStatus = 403;
    assertThatThrownBy(() -> uploader().push(folder, "me/tiny", options(false)))
        .hasMessageContaining("create the repository");
    assertThatThrownBy(
            () ->
                new HubUploader(hub.settings(null), log::add)
                    .push(folder, "me/tiny", options(false)))
        .hasMessageContaining("HF_TOKEN");
    for (String bad : List.of("noslash", "a/b/c", "../x", "me/..", "me/na me", "")) {
      assertThatThrownBy(() -> uploader().push(folder, bad, options(false)))
          .as(bad)
          .hasMessageContaining("owner/name");
    }
  }

  @Test
  void theTokenAppearsInNoLogMessageOrFile() throws Exception {
    hub.echoTokenInErrors = true;
    List<String> texts = new ArrayList<>();
    try {
      new HubUploader(hub.settings(FakeHubServer.TOKEN + "x"), log::add)
          .push(folder, "me/tiny", options(false));
    } catch (EntityException e) {
      texts.add(e.getMessage());
    }
    hub.echoTokenInErrors = false;
    hub.failCommitTimes = 1;
    uploader().push(folder, "me/tiny", options(false));
    texts.addAll(log);
    texts.add(hub.settings(FakeHubServer.TOKEN).toString());
    assertThat(texts).isNotEmpty().noneMatch(t -> t.contains(FakeHubServer.TOKEN));
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain(FakeHubServer.TOKEN);
      }
    }
    assertThat(hub.problems).isEmpty(); // no token ever reached the storage origin
  }
}
