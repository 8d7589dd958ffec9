package dev.entity.training.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.entity.core.EntityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubDownloaderTest {

  @TempDir Path home;
  private TinyHub hub;
  private byte[] weights;
  private final List<String> log = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    hub = new TinyHub();
    weights = new byte[300_000];
    new SplittableRandom(1).nextBytes(weights);
    hub.add("config.json", "{\"model_type\":\"llama\"}".getBytes(StandardCharsets.UTF_8), false);
    hub.add("model.safetensors", weights, true);
    hub.add("tokenizer.json", "{}".getBytes(StandardCharsets.UTF_8), false);
    hub.add("README.md", "# tiny".getBytes(StandardCharsets.UTF_8), false);
    hub.add("pytorch_model.bin", new byte[10], true);
    hub.add("original/params.json", new byte[2], false);
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  private HubSettings settings(Map<String, String> extra) {
    var env = new java.util.HashMap<String, String>(extra);
    env.put("HF_ENDPOINT", hub.endpoint());
    env.put("HF_HOME", home.resolve("hf").toString());
    return HubSettings.fromEnvironment(env, home);
  }

  private HubDownloader downloader(Map<String, String> extra) {
    return new HubDownloader(settings(extra), log::add);
  }

  @Test
  void downloadsOnlyModelFilesIntoTheStandardCacheLayout() throws IOException {
    Path snap = downloader(Map.of()).download("org/tiny");
    Path repo = home.resolve("hf/hub/models--org--tiny");
    assertThat(snap).isEqualTo(repo.resolve("snapshots").resolve(TinyHub.COMMIT));
    assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(TinyHub.COMMIT);
    assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
    assertThat(Files.readString(snap.resolve("config.json"))).contains("llama");
    assertThat(Files.exists(snap.resolve("tokenizer.json"))).isTrue();
    assertThat(Files.exists(snap.resolve("README.md"))).isFalse();
    assertThat(Files.exists(snap.resolve("pytorch_model.bin"))).isFalse();
    assertThat(Files.isSymbolicLink(snap.resolve("model.safetensors"))).isTrue();
    assertThat(repo.resolve("blobs").resolve(TinyHub.etag(weights, true))).exists();
    assertThat(hub.seen.stream().map(TinyHub.Seen::path))
        .noneMatch(
            p -> p.contains("README") || p.contains("pytorch_model") || p.contains("params"));
    try (var blobs = Files.list(repo.resolve("blobs"))) {
      assertThat(blobs.map(Path::toString)).noneMatch(p -> p.endsWith(".incomplete"));
    }

    // A second download finds every blob cached and fetches no content again.
    hub.seen.clear();
    assertThat(downloader(Map.of()).download("org/tiny")).isEqualTo(snap);
    assertThat(hub.seen).noneMatch(s -> s.method().equals("GET") && !s.path().startsWith("/api/"));
  }

  @Test
  void resumesACutOffDownloadWithARangeRequest() throws IOException {
    hub.truncateNextLfsAt = 100_000;
    HubDownloader d = downloader(Map.of());
    assertThatThrownBy(() -> d.download("org/tiny"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("model.safetensors")
        .hasMessageContaining("run the same command again to resume");
    Path partial =
        home.resolve("hf/hub/models--org--tiny/blobs")
            .resolve(TinyHub.etag(weights, true) + ".incomplete");
    long have = Files.size(partial);
    assertThat(have).isPositive().isLessThan(weights.length);

    hub.seen.clear();
    Path snap = d.download("org/tiny");
    assertThat(Files.readAllBytes(snap.resolve("model.safetensors"))).isEqualTo(weights);
    assertThat(hub.seen)
        .anyMatch(s -> s.path().startsWith("/cdn/") && ("bytes=" + have + "-").equals(s.range()));
    assertThat(partial).doesNotExist();
    assertThat(log).anyMatch(l -> l.startsWith("resuming org/tiny/model.safetensors"));
  }

  @Test
  void aCorruptDownloadIsRefusedAndDeleted() {
    hub.corruptLfs = true;
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("sha256");
    Path blobs = home.resolve("hf/hub/models--org--tiny/blobs");
    assertThat(blobs.resolve(TinyHub.etag(weights, true))).doesNotExist();
    assertThat(blobs.resolve(TinyHub.etag(weights, true) + ".incomplete")).doesNotExist();
  }

  @Test
  void theTokenGoesToTheHubButNotToTheStorageHost() throws IOException {
    Files.createDirectories(home.resolve("hf"));
    Files.writeString(home.resolve("hf/token"), "hf_secret_from_file\n");
    hub.requiredToken = "hf_secret_from_file";
    downloader(Map.of()).download("org/tiny");
    assertThat(hub.seen)
        .filteredOn(s -> !s.path().startsWith("/cdn/"))
        .allMatch(s -> "Bearer hf_secret_from_file".equals(s.authorization()));
    assertThat(hub.seen)
        .filteredOn(s -> s.path().startsWith("/cdn/"))
        .isNotEmpty()
        .allMatch(s -> s.authorization() == null);
  }

  @Test
  void clearErrorsForBadTokenGatedAndMissingModels() {
    hub.requiredToken = "hf_right";
    assertThatThrownBy(() -> downloader(Map.of("HF_TOKEN", "hf_wrong_token")).download("org/tiny"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("rejected your token")
        .message()
        .doesNotContain("hf_wrong_token");
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .hasMessageContaining("set HF_TOKEN");
    hub.requiredToken = null;
    assertThatThrownBy(() -> downloader(Map.of()).download("org/gated"))
        .hasMessageContaining("gated")
        .hasMessageContaining("accept its terms");
    assertThatThrownBy(() -> downloader(Map.of()).download("org/missing"))
        .hasMessageContaining("model org/missing")
        .hasMessageContaining("not found");
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny", "v9"))
        .hasMessageContaining("revision \"v9\" does not exist");
    assertThatThrownBy(() -> downloader(Map.of()).download("../etc"))
        .hasMessageContaining("not a Hugging Face model id");
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny", "../x"))
        .hasMessageContaining("not a valid revision");
  }

  @Test
  void aRepositoryWithoutSafetensorsIsRefused() {
    hub.files.remove("model.safetensors");
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .hasMessageContaining("no safetensors weights");
  }

  @Test
  void hostileHubAnswersAreRefused() {
    hub.apiOverride = "{\"sha\": ";
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("malformed JSON");
    hub.apiOverride =
        "{\"sha\":\"../../../etc\",\"siblings\":[{\"rfilename\":\"model.safetensors\"}]}";
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .hasMessageContaining("no valid commit sha");
    hub.apiOverride =
        "{\"sha\":\""
            + TinyHub.COMMIT
            + "\",\"siblings\":[{\"rfilename\":\"../model.safetensors\"},{\"rfilename\":7}]}";
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .hasMessageContaining("no safetensors weights");
    hub.apiOverride = null;
    hub.etagOverride = "\"../../outside\"";
    assertThatThrownBy(() -> downloader(Map.of()).download("org/tiny"))
        .hasMessageContaining("no usable ETag");
    assertThat(home.resolve("hf/hub/outside")).doesNotExist();
  }

  @Test
  void offlineUsesTheCacheOrSaysWhatIsMissing() {
    assertThatThrownBy(() -> downloader(Map.of("HF_HUB_OFFLINE", "1")).download("org/tiny"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("HF_HUB_OFFLINE")
        .hasMessageContaining("org/tiny");
    assertThat(hub.seen).isEmpty();
    Path snap = downloader(Map.of()).download("org/tiny");
    hub.seen.clear();
    assertThat(downloader(Map.of("HF_HUB_OFFLINE", "true")).download("org/tiny")).isEqualTo(snap);
    assertThat(downloader(Map.of("HF_HUB_OFFLINE", "1")).download("org/tiny", TinyHub.COMMIT))
        .isEqualTo(snap);
    assertThat(hub.seen).isEmpty();
  }

  @Test
  void unreachableHubSuggestsOfflineMode() {
    HubSettings s =
        new HubSettings(
            java.net.URI.create("http://127.0.0.1:1"), Optional.empty(), home.resolve("c"), false);
    assertThatThrownBy(() -> new HubDownloader(s).download("org/tiny"))
        .isInstanceOf(EntityException.class)
        .hasMessageContaining("cannot reach")
        .hasMessageContaining("HF_HUB_OFFLINE");
  }

  @Test
  void allowListCoversWhatAModelNeeds() {
    assertThat(HubDownloader.isModelFile("model-00001-of-00002.safetensors")).isTrue();
    assertThat(HubDownloader.isModelFile("model.safetensors.index.json")).isTrue();
    assertThat(HubDownloader.isModelFile("tokenizer_config.json")).isTrue();
    assertThat(HubDownloader.isModelFile("generation_config.json")).isTrue();
    assertThat(HubDownloader.isModelFile("pytorch_model.bin")).isFalse();
    assertThat(HubDownloader.isModelFile("onnx/model.safetensors")).isFalse();
    assertThat(HubDownloader.normalizeEtag("W/\"abc\"")).isEqualTo("abc");
  }
}
