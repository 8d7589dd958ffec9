// Convention: the token is attached only to requests for the endpoint's own origin and appears in
// no message: every text taken from a server answer is passed through scrub() before it is shown.
package dev.entity.training.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.entity.core.EntityException;
import dev.entity.training.checksum.FileChecksums;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Pushes a local folder to a Hugging Face Hub model repository over the Hub's HTTP API, as {@code
 * huggingface_hub.upload_folder} does: create the repository ({@code POST /api/repos/create}; 409
 * means it exists), ask which files go to LFS ({@code POST /api/models/{id}/preupload/{rev}}),
 * upload those through the Git LFS batch API (basic PUT, or multipart with one presigned URL per
 * chunk and a completion call), then commit everything in one NDJSON request ({@code POST
 * /api/models/{id}/commit/{rev}}: a header line, small files inline in base64, LFS files by sha256
 * oid and size). 5xx answers and connection failures are retried with exponential backoff.
 */
public final class HubUploader {

  /** Files per preupload request, as huggingface_hub batches them. */
  static final int PREUPLOAD_BATCH = 256;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LFS_JSON = "application/vnd.git-lfs+json";

  /**
   * How to push.
   *
   * @param privateRepo create the repository private
   * @param revision the branch to commit to
   * @param commitMessage the commit's summary
   * @param maxAttempts tries per request (5xx and connection failures are retried)
   * @param firstBackoff the wait before the first retry, doubled for each further one
   */
  public record Options(
      boolean privateRepo,
      String revision,
      String commitMessage,
      int maxAttempts,
      Duration firstBackoff) {
    public Options {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1");
      }
    }

    /** Public or private, to main, 5 attempts from 1 s. */
    public static Options of(boolean privateRepo, String message) {
      return new Options(privateRepo, "main", message, 5, Duration.ofSeconds(1));
    }
  }

  /** What was pushed: the repository URL, and how many files went inline and through LFS. */
  public record Result(String url, int regularFiles, int lfsFiles, boolean created) {}

  private record LocalFile(String path, Path file, long size, String sha256, byte[] sample) {}

  private final HubSettings settings;
  private final Consumer<String> log;

  /** An uploader that logs progress lines (never the token) to {@code log}. */
  public HubUploader(HubSettings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
  }

  /** Pushes every file under {@code folder} to the model repository {@code repoId}. */
  public Result push(Path folder, String repoId, Options options) {
    if (settings.offline()) {
      throw new EntityException("push: HF_HUB_OFFLINE is set; unset it to push to the Hub");
    }
    if (settings.token().isEmpty()) {
      throw new EntityException(
          "push: no Hugging Face token; set HF_TOKEN or log in with `hf auth login` (a token"
              + " with write access)");
    }
    if (repoId == null
        || !repoId.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
        || repoId.contains("..")
        || repoId.length() > 200) {
      throw new EntityException(
          "hub_model_id: '"
              + repoId
              + "' is not a repository id; use owner/name, e.g. me/my-model");
    }
    List<LocalFile> files = list(folder);
    HttpClient http =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(30))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    try {
      return new Session(http, repoId, options).run(files);
    } finally {
      http.shutdownNow();
    }
  }

  private static List<LocalFile> list(Path folder) {
    if (!Files.isDirectory(folder)) {
      throw new EntityException("push: " + folder + " is not a folder");
    }
    List<LocalFile> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(folder)) {
      for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
        String rel = folder.relativize(f).toString().replace('\\', '/');
        if (rel.startsWith(".") || rel.contains("/.")) {
          continue; // .git, .cache and other hidden files are not model files
        }
        long size = Files.size(f);
        byte[] sample;
        try (InputStream in = Files.newInputStream(f)) {
          sample = in.readNBytes(512);
        }
        out.add(new LocalFile(rel, f, size, FileChecksums.sha256(f), sample));
      }
    } catch (IOException e) {
      throw new EntityException("push: cannot read " + folder + ": " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new EntityException("push: " + folder + " holds no files to push");
    }
    return out;
  }

  private final class Session {
    private final HttpClient http;
    private final String repoId;
    private final Options options;
    private final String rev;

    Session(HttpClient http, String repoId, Options options) {
      this.http = http;
      this.repoId = repoId;
      this.options = options;
      this.rev = URLEncoder.encode(options.revision(), StandardCharsets.UTF_8);
    }

    Result run(List<LocalFile> files) {
      boolean created = createRepo();
      Map<String, String> modes = preupload(files);
      List<LocalFile> lfs = new ArrayList<>();
      List<LocalFile> regular = new ArrayList<>();
      for (LocalFile f : files) {
        String mode = modes.get(f.path());
        if (mode == null) {
          continue; // ignored by the repository's .gitignore
        }
        (mode.equals("lfs") ? lfs : regular).add(f);
      }
      if (!lfs.isEmpty()) {
        uploadLfs(lfs);
      }
      commit(regular, lfs);
      String url = settings.endpoint() + "/" + repoId;
      log.accept("pushed " + files.size() + " files to " + url);
      return new Result(url, regular.size(), lfs.size(), created);
    }

    private boolean createRepo() {
      String[] parts = repoId.split("/", 2);
      ObjectNode body =
          JSON.createObjectNode()
              .put("name", parts[1])
              .put("organization", parts[0])
              .put("private", options.privateRepo())
              .put("type", "model");
      HttpResponse<String> r =
          send(api("/api/repos/create"), "POST", json(body), "application/json");
      if (r.statusCode() == 409) {
        log.accept("repository " + repoId + " exists; committing to it");
        return false;
      }
      check(r, "create the repository " + repoId);
      log.accept(
          "created " + (options.privateRepo() ? "private" : "public") + " repository " + repoId);
      return true;
    }

    private Map<String, String> preupload(List<LocalFile> files) {
      Map<String, String> modes = new HashMap<>();
      for (int from = 0; from < files.size(); from += PREUPLOAD_BATCH) {
        ArrayNode list = JSON.createArrayNode();
        for (LocalFile f : files.subList(from, Math.min(files.size(), from + PREUPLOAD_BATCH))) {
          list.addObject()
              .put("path", f.path())
              .put("sample", Base64.getEncoder().encodeToString(f.sample()))
              .put("size", f.size());
        }
        ObjectNode body = JSON.createObjectNode();
        body.set("files", list);
        HttpResponse<String> r =
            send(
                api("/api/models/" + repoId + "/preupload/" + rev),
                "POST",
                json(body),
                "application/json");
        check(r, "prepare the upload to " + repoId);
        for (JsonNode f : parse(r).path("files")) {
          if (!f.path("shouldIgnore").asBoolean(false)) {
            modes.put(f.path("path").asText(), f.path("uploadMode").asText("regular"));
          }
        }
      }
      return modes;
    }

    private void uploadLfs(List<LocalFile> lfs) {
      ObjectNode body =
          JSON.createObjectNode().put("operation", "upload").put("hash_algo", "sha256");
      body.putArray("transfers").add("basic").add("multipart");
      body.putObject("ref").put("name", options.revision());
      ArrayNode objects = body.putArray("objects");
      Map<String, LocalFile> byOid = new HashMap<>();
      for (LocalFile f : lfs) {
        objects.addObject().put("oid", f.sha256()).put("size", f.size());
        byOid.put(f.sha256(), f);
      }
      HttpResponse<String> r =
          send(
              URI.create(settings.endpoint() + "/" + repoId + ".git/info/lfs/objects/batch"),
              "POST",
              json(body),
              LFS_JSON);
      check(r, "start the LFS upload to " + repoId);
      JsonNode answer = parse(r);
      String transfer = answer.path("transfer").asText("basic");
      for (JsonNode o : answer.path("objects")) {
        LocalFile f = byOid.get(o.path("oid").asText());
        if (f == null) {
          throw new EntityException("push: the Hub's LFS answer names an object we did not send");
        }
        if (o.has("error")) {
          throw new EntityException(
              "push: the Hub refused " + f.path() + ": " + scrub(o.get("error").toString()));
        }
        JsonNode upload = o.path("actions").path("upload");
        if (upload.isMissingNode()) {
          log.accept(f.path() + " is already on the Hub");
          continue;
        }
        log.accept("uploading " + f.path() + " (" + f.size() + " bytes, " + transfer + ")");
        if (transfer.equals("multipart")) {
          multipart(f, upload);
        } else {
          basic(f, upload);
        }
        JsonNode verify = o.path("actions").path("verify");
        if (!verify.isMissingNode()) {
          ObjectNode v = JSON.createObjectNode().put("oid", f.sha256()).put("size", f.size());
          HttpResponse<String> vr =
              send(
                  URI.create(verify.path("href").asText()),
                  "POST",
                  json(v),
                  LFS_JSON,
                  headers(verify));
          check(vr, "verify the upload of " + f.path());
        }
      }
    }

    private void basic(LocalFile f, JsonNode upload) {
      URI href = URI.create(upload.path("href").asText());
      HttpResponse<String> r = sendFile(href, f.file(), 0, f.size(), headers(upload));
      check(r, "upload " + f.path());
    }

    private void multipart(LocalFile f, JsonNode upload) {
      JsonNode header = upload.path("header");
      long chunk = header.path("chunk_size").asLong(0);
      if (chunk <= 0) {
        throw new EntityException(
            "push: the Hub's multipart answer for " + f.path() + " has no chunk_size");
      }
      List<String> keys = new ArrayList<>();
      for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (k.matches("\\d+")) {
          keys.add(k);
        }
      }
      keys.sort((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)));
      long expectedParts = (f.size() + chunk - 1) / chunk;
      if (keys.size() != expectedParts) {
        throw new EntityException(
            "push: the Hub sent "
                + keys.size()
                + " part URLs for "
                + f.path()
                + " but "
                + expectedParts
                + " chunks of "
                + chunk
                + " bytes are needed");
      }
      ArrayNode parts = JSON.createArrayNode();
      for (int i = 0; i < keys.size(); i++) {
        long from = i * chunk;
        long len = Math.min(chunk, f.size() - from);
        URI url = URI.create(header.get(keys.get(i)).asText());
        HttpResponse<String> r = sendFile(url, f.file(), from, len, Map.of());
        check(r, "upload part " + (i + 1) + " of " + f.path());
        String etag =
            r.headers()
                .firstValue("ETag")
                .orElseThrow(
                    () ->
                        new EntityException(
                            "push: part " + keys.size() + " of " + f.path() + " got no ETag"));
        parts.addObject().put("partNumber", Integer.parseInt(keys.get(i))).put("etag", etag);
      }
      ObjectNode done = JSON.createObjectNode().put("oid", f.sha256());
      done.set("parts", parts);
      HttpResponse<String> r =
          send(URI.create(upload.path("href").asText()), "POST", json(done), LFS_JSON);
      check(r, "complete the upload of " + f.path());
    }

    private void commit(List<LocalFile> regular, List<LocalFile> lfs) {
      StringBuilder nd = new StringBuilder();
      ObjectNode header = JSON.createObjectNode();
      header.put("key", "header");
      header.putObject("value").put("summary", options.commitMessage()).put("description", "");
      nd.append(header).append('\n');
      for (LocalFile f : regular) {
        byte[] content;
        try {
          content = Files.readAllBytes(f.file());
        } catch (IOException e) {
          throw new EntityException("push: cannot read " + f.file() + ": " + e.getMessage(), e);
        }
        ObjectNode line = JSON.createObjectNode().put("key", "file");
        line.putObject("value")
            .put("content", Base64.getEncoder().encodeToString(content))
            .put("path", f.path())
            .put("encoding", "base64");
        nd.append(line).append('\n');
      }
      for (LocalFile f : lfs) {
        ObjectNode line = JSON.createObjectNode().put("key", "lfsFile");
        line.putObject("value")
            .put("path", f.path())
            .put("algo", "sha256")
            .put("oid", f.sha256())
            .put("size", f.size());
        nd.append(line).append('\n');
      }
      HttpResponse<String> r =
          send(
              api("/api/models/" + repoId + "/commit/" + rev),
              "POST",
              nd.toString().getBytes(StandardCharsets.UTF_8),
              "application/x-ndjson");
      check(r, "commit to " + repoId);
    }

    private URI api(String path) {
      return URI.create(settings.endpoint() + path);
    }

    private HttpResponse<String> send(URI uri, String method, byte[] body, String type) {
      return send(uri, method, body, type, Map.of());
    }

    private HttpResponse<String> send(
        URI uri, String method, byte[] body, String type, Map<String, String> extra) {
      return retrying(
          uri,
          () -> {
            HttpRequest.Builder b =
                request(uri, extra)
                    .header("Content-Type", type)
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
            if (type.equals(LFS_JSON)) {
              b.header("Accept", LFS_JSON);
            }
            return b.build();
          });
    }

    private HttpResponse<String> sendFile(
        URI uri, Path file, long from, long length, Map<String, String> extra) {
      return retrying(
          uri,
          () -> {
            byte[] bytes = new byte[Math.toIntExact(length)];
            try (FileChannel ch = FileChannel.open(file)) {
              ByteBuffer buf = ByteBuffer.wrap(bytes);
              while (buf.hasRemaining()) {
                if (ch.read(buf, from + buf.position()) < 0) {
                  throw new IOException(file + " shrank while being pushed");
                }
              }
            }
            return request(uri, extra).PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
          });
    }

    private HttpRequest.Builder request(URI uri, Map<String, String> extra) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(uri)
              .timeout(Duration.ofMinutes(10))
              .header("User-Agent", "entity-training");
      if (settings.isEndpointOrigin(uri)) {
        b.header("Authorization", "Bearer " + settings.token().orElseThrow());
      }
      extra.forEach(
          (k, v) -> {
            if (!k.equalsIgnoreCase("authorization") || settings.isEndpointOrigin(uri)) {
              b.setHeader(k, v);
            }
          });
      return b;
    }

    private HttpResponse<String> retrying(URI uri, RequestSource source) {
      Duration wait = options.firstBackoff();
      for (int attempt = 1; ; attempt++) {
        String failure;
        try {
          HttpResponse<String> r = http.send(source.build(), HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() < 500 || attempt >= options.maxAttempts()) {
            return r;
          }
          failure = "HTTP " + r.statusCode();
        } catch (IOException e) {
          if (attempt >= options.maxAttempts()) {
            throw new EntityException(
                "push: cannot reach "
                    + uri.getHost()
                    + " ("
                    + scrub(String.valueOf(e.getMessage()))
                    + ") after "
                    + attempt
                    + " attempts",
                e);
          }
          failure = e.getClass().getSimpleName();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new EntityException("push: interrupted", e);
        }
        log.accept(
            "the Hub answered "
                + failure
                + " for "
                + uri.getPath()
                + "; retrying in "
                + wait.toMillis()
                + " ms");
        try {
          Thread.sleep(wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new EntityException("push: interrupted", e);
        }
        wait = wait.multipliedBy(2);
      }
    }

    private void check(HttpResponse<String> r, String what) {
      int s = r.statusCode();
      if (s >= 200 && s < 300) {
        return;
      }
      String hint =
          switch (s) {
            case 401 ->
                "the Hub rejected the token (HF_TOKEN or the token file): it is invalid or expired";
            case 403 ->
                "the token may not write to "
                    + repoId
                    + ": use a token with write access, and a repository you own or whose"
                    + " organization you belong to";
            case 404 -> "not found: check the repository id and revision";
            case 409 ->
                "conflict: " + repoId + " changed while pushing, or the name is taken; push again";
            case 413 -> "a file is too large for this request";
            case 429 -> "the Hub is rate-limiting requests; wait and push again";
            default -> "the Hub answered HTTP " + s;
          };
      String body = r.body() == null ? "" : r.body().strip();
      if (body.length() > 300) {
        body = body.substring(0, 300) + "...";
      }
      throw new EntityException(
          "push: cannot " + what + ": " + hint + (body.isEmpty() ? "" : " (" + scrub(body) + ")"));
    }

    private Map<String, String> headers(JsonNode action) {
      Map<String, String> out = new HashMap<>();
      action
          .path("header")
          .fields()
          .forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    }
  }

  @FunctionalInterface
  private interface RequestSource {
    HttpRequest build() throws IOException;
  }

  private static byte[] json(JsonNode node) {
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  private JsonNode parse(HttpResponse<String> r) {
    try {
      JsonNode n = JSON.readTree(r.body());
      if (n == null || !n.isObject()) {
        throw new EntityException("push: the Hub answered with something other than a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new EntityException(
          "push: the Hub answered with invalid JSON: " + scrub(e.getMessage()), e);
    }
  }

  /** A server text with the token (should a server echo it) replaced. */
  String scrub(String text) {
    String t = settings.token().orElse(null);
    return t == null || t.isEmpty() || text == null ? text : text.replace(t, "***");
  }
}
