package dev.entity.training.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A local stand-in for the Hub in tests: the model API, resolve URLs (LFS files redirect to a "CDN"
 * path on another host name, as the real Hub does), Range requests, and failure injection.
 */
final class TinyHub implements AutoCloseable {

  /** What one request looked like. */
  record Seen(String method, String path, String authorization, String range) {}

  static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

  final HttpServer server;
  final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Map<String, byte[]> files = new LinkedHashMap<>();
  final Map<String, Boolean> lfs = new LinkedHashMap<>();
  volatile String requiredToken;
  volatile int truncateNextLfsAt = -1;
  volatile boolean corruptLfs;
  volatile String apiOverride; // a hostile answer for the model API
  volatile String etagOverride; // a hostile ETag for non-LFS files

  TinyHub() throws IOException {
    server = HttpServer.create(new InetSocketAddress(0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  void add(String name, byte[] content, boolean isLfs) {
    files.put(name, content);
    lfs.put(name, isLfs);
  }

  static String hex(String algorithm, byte[] prefix, byte[] content) {
    try {
      MessageDigest md = MessageDigest.getInstance(algorithm);
      md.update(prefix);
      md.update(content);
      return HexFormat.of().formatHex(md.digest());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String etag(byte[] content, boolean isLfs) {
    return isLfs
        ? hex("SHA-256", new byte[0], content)
        : hex("SHA-1", ("blob " + content.length + "\0").getBytes(StandardCharsets.UTF_8), content);
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String method = ex.getRequestMethod();
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    seen.add(new Seen(method, path, auth, ex.getRequestHeaders().getFirst("Range")));
    try (ex) {
      if (path.startsWith("/cdn/")) {
        cdn(ex, path.substring(5));
        return;
      }
      boolean authorized = requiredToken == null || ("Bearer " + requiredToken).equals(auth);
      if (path.startsWith("/api/models/org/gated/")) {
        ex.getResponseHeaders().add("X-Error-Code", "GatedRepo");
        send(ex, 403, "Access to model org/gated is restricted.".getBytes(StandardCharsets.UTF_8));
      } else if (!authorized) {
        send(ex, 401, "Invalid credentials".getBytes(StandardCharsets.UTF_8));
      } else if (apiOverride != null && path.startsWith("/api/")) {
        send(ex, 200, apiOverride.getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/api/models/org/tiny/revision/main")
          || path.equals("/api/models/org/tiny/revision/" + COMMIT)) {
        StringBuilder json =
            new StringBuilder("{\"id\":\"org/tiny\",\"sha\":\"" + COMMIT + "\",\"siblings\":[");
        String sep = "";
        for (String f : files.keySet()) {
          json.append(sep).append("{\"rfilename\":\"").append(f).append("\"}");
          sep = ",";
        }
        send(ex, 200, json.append("]}").toString().getBytes(StandardCharsets.UTF_8));
      } else if (path.startsWith("/org/tiny/resolve/" + COMMIT + "/")) {
        resolve(ex, path.substring(("/org/tiny/resolve/" + COMMIT + "/").length()));
      } else if (path.startsWith("/api/models/org/tiny/revision/")) {
        ex.getResponseHeaders().add("X-Error-Code", "RevisionNotFound");
        send(ex, 404, new byte[0]);
      } else {
        ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
        send(ex, 404, new byte[0]);
      }
    }
  }

  private void resolve(HttpExchange ex, String name) throws IOException {
    byte[] content = files.get(name);
    if (content == null) {
      ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
      send(ex, 404, new byte[0]);
      return;
    }
    String etag = etag(content, lfs.get(name));
    if (lfs.get(name)) {
      ex.getResponseHeaders().add("X-Linked-Etag", "\"" + etag + "\"");
      ex.getResponseHeaders().add("X-Linked-Size", Long.toString(content.length));
      // Another host name for the same server: the token must not follow the redirect.
      ex.getResponseHeaders()
          .add("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + name);
      ex.sendResponseHeaders(302, -1);
      return;
    }
    ex.getResponseHeaders().add("ETag", etagOverride != null ? etagOverride : "\"" + etag + "\"");
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(200, -1);
    } else {
      send(ex, 200, content);
    }
  }

  private void cdn(HttpExchange ex, String name) throws IOException {
    byte[] content = files.get(name).clone();
    if (corruptLfs) {
      content[content.length / 2] ^= 1;
    }
    String range = ex.getRequestHeaders().getFirst("Range");
    int from = 0;
    int status = 200;
    if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
      from = Integer.parseInt(range.substring(6, range.length() - 1));
      status = 206;
      ex.getResponseHeaders()
          .add(
              "Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
    }
    int length = content.length - from;
    int cut = truncateNextLfsAt;
    ex.sendResponseHeaders(status, length);
    OutputStream out = ex.getResponseBody();
    if (cut >= 0) {
      truncateNextLfsAt = -1;
      out.write(content, from, cut);
      out.flush();
      // Dropping the connection short of the declared length is what a network failure looks like.
      throw new IOException("simulated connection drop");
    }
    out.write(content, from, length);
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
