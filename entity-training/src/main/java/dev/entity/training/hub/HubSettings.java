package dev.entity.training.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where and how to reach the Hugging Face Hub, read from the same environment variables {@code
 * huggingface_hub} reads: {@code HF_ENDPOINT} (default https://huggingface.co), {@code HF_TOKEN}
 * (else the token file {@code HF_TOKEN_PATH}, default {@code $HF_HOME/token}), {@code HF_HOME}
 * (default {@code ~/.cache/huggingface}), {@code HF_HUB_CACHE} (default {@code $HF_HOME/hub}) and
 * {@code HF_HUB_OFFLINE}. The token is never part of {@link #toString()} or of any message.
 */
public record HubSettings(URI endpoint, Optional<String> token, Path hubCache, boolean offline) {

  public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

  /** Settings from the process environment and the user's home folder. */
  public static HubSettings fromEnvironment() {
    return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
  }

  /** Settings from {@code env}, with {@code home} standing for {@code ~}. */
  public static HubSettings fromEnvironment(Map<String, String> env, Path home) {
    String endpoint = nonBlank(env.get("HF_ENDPOINT")).orElse(DEFAULT_ENDPOINT);
    while (endpoint.endsWith("/")) {
      endpoint = endpoint.substring(0, endpoint.length() - 1);
    }
    Path hfHome =
        nonBlank(env.get("HF_HOME"))
            .map(Path::of)
            .orElseGet(
                () ->
                    nonBlank(env.get("XDG_CACHE_HOME"))
                        .map(Path::of)
                        .orElse(home.resolve(".cache"))
                        .resolve("huggingface"));
    Path cache = nonBlank(env.get("HF_HUB_CACHE")).map(Path::of).orElse(hfHome.resolve("hub"));
    Optional<String> token = nonBlank(env.get("HF_TOKEN"));
    if (token.isEmpty()) {
      Path tokenFile =
          nonBlank(env.get("HF_TOKEN_PATH")).map(Path::of).orElse(hfHome.resolve("token"));
      token = readToken(tokenFile);
    }
    boolean offline = truthy(env.get("HF_HUB_OFFLINE"));
    return new HubSettings(URI.create(endpoint), token, cache, offline);
  }

  private static Optional<String> readToken(Path file) {
    try {
      return Files.isRegularFile(file) ? nonBlank(Files.readString(file)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> nonBlank(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
  }

  private static boolean truthy(String s) {
    return s != null
        && switch (s.strip().toLowerCase(Locale.ROOT)) {
          case "1", "true", "yes", "on" -> true;
          default -> false;
        };
  }

  /**
   * Whether {@code uri} has the endpoint's scheme, host and port: only such requests may carry the
   * token (never a storage URL the Hub redirects to or hands out for uploads).
   */
  public boolean isEndpointOrigin(URI uri) {
    return uri.getScheme() != null
        && uri.getScheme().equalsIgnoreCase(endpoint.getScheme())
        && uri.getHost() != null
        && endpoint.getHost() != null
        && uri.getHost().equalsIgnoreCase(endpoint.getHost())
        && uri.getPort() == endpoint.getPort();
  }

  /** The same settings, online or offline. */
  public HubSettings withOffline(boolean value) {
    return new HubSettings(endpoint, token, hubCache, value);
  }

  @Override
  public String toString() {
    return "HubSettings[endpoint="
        + endpoint
        + ", token="
        + (token.isPresent() ? "set" : "none")
        + ", hubCache="
        + hubCache
        + ", offline="
        + offline
        + "]";
  }
}
