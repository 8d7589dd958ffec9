package dev.entity.training.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubSettingsTest {

  @TempDir Path home;

  @Test
  void defaultsFollowHuggingfaceHub() {
    HubSettings s = HubSettings.fromEnvironment(Map.of(), home);
    assertThat(s.endpoint().toString()).isEqualTo("https://huggingface.co");
    assertThat(s.hubCache()).isEqualTo(home.resolve(".cache/huggingface/hub"));
    assertThat(s.token()).isEmpty();
    assertThat(s.offline()).isFalse();
  }

  @Test
  void environmentOverrides() throws IOException {
    Path tokenFile = Files.writeString(home.resolve("tok"), "  hf_from_path \n");
    HubSettings s =
        HubSettings.fromEnvironment(
            Map.of(
                "HF_ENDPOINT",
                "https://mirror.example/",
                "HF_HOME",
                home.resolve("h").toString(),
                "HF_TOKEN_PATH",
                tokenFile.toString(),
                "HF_HUB_OFFLINE",
                "yes"),
            home);
    assertThat(s.endpoint().toString()).isEqualTo("https://mirror.example");
    assertThat(s.hubCache()).isEqualTo(home.resolve("h/hub"));
    assertThat(s.token()).contains("hf_from_path");
    assertThat(s.offline()).isTrue();
    assertThat(s.toString()).doesNotContain("hf_from_path").contains("token=set");

    HubSettings t =
        HubSettings.fromEnvironment(
            Map.of(
                "HF_HUB_CACHE",
                home.resolve("c").toString(),
                "HF_TOKEN",
                "hf_env",
                "HF_HUB_OFFLINE",
                "0"),
            home);
    assertThat(t.hubCache()).isEqualTo(home.resolve("c"));
    assertThat(t.token()).contains("hf_env");
    assertThat(t.offline()).isFalse();
    assertThat(t.withOffline(true).offline()).isTrue();
  }
}
