package dev.entity.training.hub;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.entity.core.EntityException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Downloads the files a model needs from the Hugging Face Hub into the shared Hub cache and returns
 * the snapshot folder, which is an ordinary Hugging Face model folder. Files are listed with {@code
 * /api/models/{id}/revision/{rev}} and fetched from {@code /{id}/resolve/{commit}/{file}}; each
 * goes to {@code blobs/<etag>.incomplete} first, is resumed with a Range request when a previous
 * attempt was cut off, and is checked against its ETag (sha256 for LFS files, git blob sha1 for the
 * rest) before it is renamed into place. Redirects are followed by hand so the token is sent only
 * to the Hub endpoint itself, never to the storage host a download is redirected to.
 */
public final class HubDownloader {

  private static final Pattern REPO_ID =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?");
  private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,199}");
  private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_-]{8,128}");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
  private static final List<String> MODEL_FILES =
      List.of(
          "config.json",
          "generation_config.json",
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "added_tokens.json",
          "tokenizer.model",
          "vocab.json",
          "merges.txt",
          "chat_template.jinja",
          "chat_template.json",
          "adapter_config.json");
  private static final long MAX_API_BYTES = 64L << 20;
  private static final int MAX_REDIRECTS = 5;

  private final HubSettings settings;
  private final HubCache cache;
  private final Consumer<String> log;

  public HubDownloader(HubSettings settings) {
    this(settings, message -> {});
  }

  /** {@code log} receives one line per file fetched. */
  public HubDownloader(HubSettings settings, Consumer<String> log) {
    this.settings = settings;
    this.cache = new HubCache(settings.hubCache());
    this.log = log;
  }

  /** True for the top-level files a model folder needs: weights, index, config, tokenizer. */
  public static boolean isModelFile(String name) {
    return !name.contains("/")
        && !name.contains("\\")
        && (MODEL_FILES.contains(name)
            || name.endsWith(".safetensors")
            || name.endsWith(".safetensors.index.json"));
  }

  /** {@link #download(String, String)} of the {@code main} branch. */
  public Path download(String repoId) {
    return download(repoId, "main");
  }

  /**
   * The snapshot folder of {@code repoId} at {@code revision} (branch, tag or commit), downloading
   * what is missing; offline, the cached snapshot or a clear error.
   */
  public Path download(String repoId, String revision) {
    if (!REPO_ID.matcher(repoId).matches() || repoId.contains("..") || repoId.contains("--")) {
      throw new EntityException(
          "\""
              + repoId
              + "\" is not a Hugging Face model id; expected org/name, e.g. Qwen/Qwen2.5-0.5B");
    }
    if (!REVISION.matcher(revision).matches() || revision.contains("..")) {
      throw new EntityException(
          "\"" + revision + "\" is not a valid revision (branch, tag or commit)");
    }
    if (settings.offline()) {
      return cache.offlineSnapshot(repoId, revision);
    }
    HttpClient http =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(30))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    try {
      return new Session(http, repoId, revision).run();
    } catch (IOException e) {
      throw new EntityException(
          "cannot reach the Hugging Face Hub at "
              + settings.endpoint()
              + " ("
              + e.getMessage()
              + "); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use the cache",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EntityException("download of " + repoId + " was interrupted; run again to resume");
    } finally {
      http.shutdownNow(); // close() would wait for idle keep-alive connections
    }
  }

  /** One download of one repository at one revision. */
  private final class Session {
    private final HttpClient http;
    private final String repoId;
    private final String revision;

    Session(HttpClient http, String repoId, String revision) {
      this.http = http;
      this.repoId = repoId;
      this.revision = revision;
    }

    Path run() throws IOException, InterruptedException {
      URI api =
          URI.create(
              settings.endpoint()
                  + "/api/models/"
                  + repoId
                  + "/revision/"
                  + URLEncoder.encode(revision, StandardCharsets.UTF_8));
      HttpResponse<InputStream> r = send(api, "GET", -1);
      JsonNode info;
      try (InputStream body = r.body()) {
        check(r, null);
        info = new ObjectMapper().readTree(readCapped(body, api));
      } catch (JacksonException e) {
        throw new EntityException("the Hub answered " + api + " with malformed JSON");
      }
      String commit = info == null ? "" : info.path("sha").asText("");
      if (!SHA1.matcher(commit).matches()) {
        throw new EntityException("the Hub's answer for " + repoId + " has no valid commit sha");
      }
      List<String> files = new ArrayList<>();
      for (JsonNode sibling : info.path("siblings")) {
        String name = sibling.path("rfilename").asText("");
        if (isModelFile(name)) {
          files.add(name);
        }
      }
      if (files.stream().noneMatch(f -> f.endsWith(".safetensors"))) {
        throw new EntityException(
            "model "
                + repoId
                + " has no safetensors weights at revision "
                + revision
                + "; only safetensors checkpoints can be loaded (convert .bin weights with"
                + " transformers' save_pretrained first)");
      }
      for (String file : files) {
        fetch(commit, file);
      }
      cache.writeRef(repoId, revision, commit);
      return cache.snapshot(repoId, commit);
    }

    private void fetch(String commit, String file) throws IOException, InterruptedException {
      URI url =
          URI.create(
              settings.endpoint()
                  + "/"
                  + repoId
                  + "/resolve/"
                  + commit
                  + "/"
                  + URLEncoder.encode(file, StandardCharsets.UTF_8).replace("+", "%20"));
      HttpResponse<InputStream> head = send(url, "HEAD", -1);
      head.body().close();
      if (head.statusCode() / 100 != 3) {
        check(head, file);
      }
      String etag =
          head.headers()
              .firstValue("X-Linked-Etag")
              .or(() -> head.headers().firstValue("ETag"))
              .map(HubDownloader::normalizeEtag)
              .orElse("");
      if (!ETAG.matcher(etag).matches()) {
        throw new EntityException(
            "the Hub gave no usable ETag for " + repoId + "/" + file + "; cannot cache it safely");
      }
      OptionalLong size = sizeOf(head);
      Path blob = cache.blob(repoId, etag);
      if (!Files.isRegularFile(blob)) {
        Files.createDirectories(blob.getParent());
        Path partial = blob.resolveSibling(etag + ".incomplete");
        downloadTo(url, partial, file, size);
        verify(partial, etag, size, file);
        Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
      }
      cache.link(repoId, commit, file, etag);
    }

    private void downloadTo(URI url, Path partial, String file, OptionalLong size)
        throws IOException, InterruptedException {
      long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
      if (size.isPresent() && have > size.getAsLong()) {
        Files.delete(partial);
        have = 0;
      }
      log.accept(
          (have > 0 ? "resuming " : "downloading ")
              + repoId
              + "/"
              + file
              + (size.isPresent() ? " (" + size.getAsLong() + " bytes)" : "")
              + (have > 0 ? " from byte " + have : ""));
      HttpResponse<InputStream> r = send(url, "GET", have > 0 ? have : -1);
      try (InputStream body = r.body()) {
        if (r.statusCode()
            == 416) { // our partial file is not a prefix the server knows: start over
          Files.deleteIfExists(partial);
          r.body().close();
          downloadTo(url, partial, file, size);
          return;
        }
        check(r, file);
        boolean append = r.statusCode() == 206;
        if (append
            && !r.headers()
                .firstValue("Content-Range")
                .orElse("")
                .startsWith("bytes " + have + "-")) {
          throw new EntityException(
              "the Hub answered a resumed download of " + file + " with the wrong range");
        }
        long written = append ? have : 0;
        try (FileChannel out =
            FileChannel.open(
                partial,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
          byte[] buf = new byte[1 << 16];
          try {
            for (int n; (n = body.read(buf)) > 0; ) {
              ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
              while (bb.hasRemaining()) {
                out.write(bb);
              }
              written += n;
            }
          } catch (IOException e) {
            out.force(false);
            throw new EntityException(
                "download of "
                    + repoId
                    + "/"
                    + file
                    + " stopped after "
                    + written
                    + " bytes ("
                    + e.getMessage()
                    + "); run the same command again to resume it",
                e);
          }
          out.force(false);
        }
      }
    }

    private void verify(Path partial, String etag, OptionalLong size, String file)
        throws IOException {
      long actual = Files.size(partial);
      String problem = null;
      if (size.isPresent() && actual != size.getAsLong()) {
        problem = "has " + actual + " bytes instead of " + size.getAsLong();
      } else if (SHA256.matcher(etag).matches()) {
        String got = digest(partial, "SHA-256", null);
        problem = got.equals(etag) ? null : "has sha256 " + got + " instead of " + etag;
      } else if (SHA1.matcher(etag).matches()) {
        String got = digest(partial, "SHA-1", "blob " + actual + "\0");
        problem = got.equals(etag) ? null : "has git sha1 " + got + " instead of " + etag;
      }
      if (problem != null) {
        Files.deleteIfExists(partial);
        throw new EntityException(
            "downloaded "
                + repoId
                + "/"
                + file
                + " "
                + problem
                + "; it was deleted, run again to retry");
      }
    }

    /** Sends a request, following redirects itself; the token goes only to the endpoint's host. */
    private HttpResponse<InputStream> send(URI uri, String method, long rangeFrom)
        throws IOException, InterruptedException {
      URI current = uri;
      for (int hop = 0; ; hop++) {
        HttpRequest.Builder b =
            HttpRequest.newBuilder(current)
                .timeout(Duration.ofMinutes(5))
                .header("User-Agent", "entity-training")
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (sameOrigin(current, settings.endpoint()) && settings.token().isPresent()) {
          b.header("Authorization", "Bearer " + settings.token().get());
        }
        if (rangeFrom > 0) {
          b.header("Range", "bytes=" + rangeFrom + "-");
        }
        HttpResponse<InputStream> r =
            http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        int status = r.statusCode();
        boolean redirect =
            status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
        if (!redirect || (method.equals("HEAD") && hasEtag(r))) {
          return r;
        }
        r.body().close();
        if (hop >= MAX_REDIRECTS) {
          throw new EntityException("too many redirects from the Hub for " + uri.getPath());
        }
        String location =
            r.headers()
                .firstValue("Location")
                .orElseThrow(
                    () ->
                        new EntityException(
                            "the Hub sent a redirect without a Location for " + uri.getPath()));
        current = current.resolve(location);
      }
    }

    private void check(HttpResponse<?> r, String file) {
      int status = r.statusCode();
      if (status == 200 || status == 206) {
        return;
      }
      String code = r.headers().firstValue("X-Error-Code").orElse("");
      String what = file == null ? "model " + repoId : "file " + file + " of model " + repoId;
      String hint =
          switch (status) {
            case 401 ->
                settings.token().isPresent()
                    ? "the Hub rejected your token (HF_TOKEN or the token file): it is invalid or"
                        + " expired, or the model does not exist"
                    : "the model was not found, or it is private or gated and needs a token: check"
                        + " the id, or set HF_TOKEN";
            case 403 ->
                code.equals("GatedRepo") || !settings.token().isPresent()
                    ? "it is a gated model: accept its terms on "
                        + settings.endpoint()
                        + "/"
                        + repoId
                        + " and set HF_TOKEN to a token of that account"
                    : "your token does not grant access to it";
            case 404 ->
                switch (code) {
                  case "RevisionNotFound" -> "revision \"" + revision + "\" does not exist";
                  case "EntryNotFound" -> "the file does not exist at this revision";
                  default -> "it was not found on " + settings.endpoint() + "; check the model id";
                };
            case 429 -> "the Hub is rate-limiting requests; wait and run again";
            default -> "the Hub answered HTTP " + status + "; try again later";
          };
      throw new EntityException("cannot download " + what + ": " + hint);
    }
  }

  private static boolean hasEtag(HttpResponse<?> r) {
    return r.headers().firstValue("X-Linked-Etag").isPresent()
        || r.headers().firstValue("ETag").isPresent();
  }

  private static OptionalLong sizeOf(HttpResponse<?> head) {
    String s =
        head.headers()
            .firstValue("X-Linked-Size")
            .or(
                () ->
                    head.statusCode() == 200
                        ? head.headers().firstValue("Content-Length")
                        : java.util.Optional.empty())
            .orElse("");
    try {
      long v = Long.parseLong(s.strip());
      return v >= 0 ? OptionalLong.of(v) : OptionalLong.empty();
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  static String normalizeEtag(String etag) {
    String e = etag.strip();
    if (e.startsWith("W/")) {
      e = e.substring(2);
    }
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    return e;
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost() != null
        && a.getHost().toLowerCase(Locale.ROOT).equals(b.getHost().toLowerCase(Locale.ROOT))
        && a.getPort() == b.getPort();
  }

  private static byte[] readCapped(InputStream in, URI from) throws IOException {
    byte[] bytes = in.readNBytes((int) MAX_API_BYTES + 1);
    if (bytes.length > MAX_API_BYTES) {
      throw new EntityException("the Hub's answer for " + from.getPath() + " is larger than 64 MB");
    }
    return bytes;
  }

  private static String digest(Path file, String algorithm, String prefix) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    if (prefix != null) {
      md.update(prefix.getBytes(StandardCharsets.UTF_8));
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
