package dev.entity.training.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.entity.training.checksum.FileChecksums;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A local Hub for push tests: implements repo creation, preupload, the LFS batch API (basic and
 * multipart, storage URLs on another origin), verify and the NDJSON commit, and checks what arrives
 * (auth header, sha256 oids, NDJSON shape). Problems are collected in {@link #problems}.
 */
public final class FakeHubServer implements AutoCloseable {

  public static final String TOKEN = "hf_TESTtoken_do_not_leak_42";
  private static final ObjectMapper JSON = new ObjectMapper();

  final HttpServer server;
  public final List<String> problems = Collections.synchronizedList(new ArrayList<>());
  final List<String> requests = Collections.synchronizedList(new ArrayList<>());
  final Map<String, byte[]> lfsStore = new ConcurrentHashMap<>();
  public final Map<String, byte[]> committed = new TreeMap<>();
  final Map<String, Map<Integer, byte[]>> parts = new ConcurrentHashMap<>();
  final Set<String> existingRepos = new HashSet<>();
  JsonNode createBody;
  JsonNode commitHeader;
  long multipartAbove = Long.MAX_VALUE;
  long chunkSize = 256;
  int failCommitTimes;
  int commitStatus = 200;
  int createStatus = 200;
  boolean echoTokenInErrors;

  public FakeHubServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Storage URLs use another origin (localhost vs 127.0.0.1), as S3 does. */
  String storage() {
    return "http://localhost:" + server.getAddress().getPort();
  }

  public HubSettings settings(String token) {
    return new HubSettings(endpoint(), java.util.Optional.ofNullable(token), null, false);
  }

  private void handle(HttpExchange x) throws IOException {
    try {
      byte[] body = x.getRequestBody().readAllBytes();
      String path = x.getRequestURI().getPath();
      String host = x.getRequestHeaders().getFirst("Host");
      String auth = x.getRequestHeaders().getFirst("Authorization");
      requests.add(x.getRequestMethod() + " " + host + path);
      boolean storage = host != null && host.startsWith("localhost");
      if (storage) {
        if (auth != null) {
          problems.add("Authorization sent to storage: " + path);
        }
      } else if (!("Bearer " + TOKEN).equals(auth)) {
        reply(
            x,
            401,
            "{\"error\":\"Invalid credentials" + (echoTokenInErrors ? " " + auth : "") + "\"}");
        return;
      }
      if (path.equals("/api/repos/create")) {
        createBody = JSON.readTree(body);
        String id =
            createBody.path("organization").asText() + "/" + createBody.path("name").asText();
        if (existingRepos.contains(id)) {
          reply(x, 409, "{\"error\":\"You already created this model repo\"}");
        } else {
          reply(x, createStatus, "{\"url\":\"" + endpoint() + "/" + id + "\"}");
        }
      } else if (path.matches("/api/models/[^/]+/[^/]+/preupload/main")) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode files = out.putArray("files");
        for (JsonNode f : JSON.readTree(body).path("files")) {
          if (!f.path("sample").isTextual()) {
            problems.add("preupload without sample: " + f);
          }
          boolean lfs =
              f.path("size").asLong() > 100 || f.path("path").asText().endsWith(".safetensors");
          files
              .addObject()
              .put("path", f.path("path").asText())
              .put("uploadMode", lfs ? "lfs" : "regular")
              .put("shouldIgnore", false);
        }
        reply(x, 200, out.toString());
      } else if (path.matches("/[^/]+/[^/]+\\.git/info/lfs/objects/batch")) {
        lfsBatch(x, JSON.readTree(body));
      } else if (path.startsWith("/upload/")) {
        String oid = path.substring("/upload/".length());
        if (!"signed".equals(x.getRequestHeaders().getFirst("X-Amz-Signature"))) {
          problems.add("basic upload without the header the batch answer asked for");
        }
        if (!FileChecksums.sha256(body).equals(oid)) {
          problems.add("basic upload body does not hash to its oid " + oid);
        }
        lfsStore.put(oid, body);
        reply(x, 200, "");
      } else if (path.startsWith("/part/")) {
        String[] p = path.split("/");
        parts
            .computeIfAbsent(p[2], k -> new ConcurrentHashMap<>())
            .put(Integer.parseInt(p[3]), body);
        x.getResponseHeaders().add("ETag", "\"etag-" + p[3] + "\"");
        reply(x, 200, "");
      } else if (path.startsWith("/complete/")) {
        String oid = path.substring("/complete/".length());
        JsonNode done = JSON.readTree(body);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int expect = 1;
        for (JsonNode part : done.path("parts")) {
          int n = part.path("partNumber").asInt();
          if (n != expect++ || !part.path("etag").asText().equals("\"etag-" + n + "\"")) {
            problems.add("completion lists part " + part);
          }
          all.write(parts.getOrDefault(oid, Map.of()).getOrDefault(n, new byte[0]));
        }
        if (!FileChecksums.sha256(all.toByteArray()).equals(oid)
            || !done.path("oid").asText().equals(oid)) {
          problems.add("multipart parts do not hash to " + oid);
        }
        lfsStore.put(oid, all.toByteArray());
        reply(x, 200, "{}");
      } else if (path.equals("/verify")) {
        JsonNode v = JSON.readTree(body);
        byte[] stored = lfsStore.get(v.path("oid").asText());
        reply(x, stored != null && stored.length == v.path("size").asLong() ? 200 : 404, "{}");
      } else if (path.matches("/api/models/[^/]+/[^/]+/commit/main")) {
        if (failCommitTimes > 0) {
          failCommitTimes--;
          reply(x, 503, "busy");
          return;
        }
        if (!"application/x-ndjson".equals(x.getRequestHeaders().getFirst("Content-Type"))) {
          problems.add("commit content type " + x.getRequestHeaders().getFirst("Content-Type"));
        }
        commit(new String(body, StandardCharsets.UTF_8));
        reply(
            x,
            commitStatus,
            commitStatus == 200 ? "{\"commitOid\":\"abc\"}" : "{\"error\":\"no\"}");
      } else {
        problems.add("unexpected request " + x.getRequestMethod() + " " + path);
        reply(x, 404, "{}");
      }
    } catch (RuntimeException e) {
      problems.add("server error " + e);
      reply(x, 500, "");
    }
  }

  private void lfsBatch(HttpExchange x, JsonNode req) throws IOException {
    if (!"application/vnd.git-lfs+json".equals(x.getRequestHeaders().getFirst("Accept"))) {
      problems.add("LFS batch without the git-lfs Accept header");
    }
    if (!req.path("operation").asText().equals("upload")
        || !req.path("hash_algo").asText().equals("sha256")) {
      problems.add("LFS batch request " + req);
    }
    boolean multipart = false;
    for (JsonNode o : req.path("objects")) {
      multipart |= o.path("size").asLong() > multipartAbove;
    }
    ObjectNode out = JSON.createObjectNode().put("transfer", multipart ? "multipart" : "basic");
    ArrayNode objects = out.putArray("objects");
    for (JsonNode o : req.path("objects")) {
      String oid = o.path("oid").asText();
      long size = o.path("size").asLong();
      ObjectNode obj = objects.addObject().put("oid", oid).put("size", size);
      if (lfsStore.containsKey(oid)) {
        continue; // already there: no actions
      }
      ObjectNode actions = obj.putObject("actions");
      ObjectNode upload = actions.putObject("upload");
      if (multipart) {
        upload.put("href", endpoint() + "/complete/" + oid);
        ObjectNode header = upload.putObject("header").put("chunk_size", String.valueOf(chunkSize));
        long count = (size + chunkSize - 1) / chunkSize;
        for (int i = 1; i <= count; i++) {
          header.put(String.format("%05d", i), storage() + "/part/" + oid + "/" + i);
        }
      } else {
        upload.put("href", storage() + "/upload/" + oid);
        upload.putObject("header").put("X-Amz-Signature", "signed");
        actions.putObject("verify").put("href", endpoint() + "/verify");
      }
    }
    reply(x, 200, out.toString());
  }

  private void commit(String ndjson) throws IOException {
    String[] lines = ndjson.split("\n");
    commitHeader = JSON.readTree(lines[0]);
    if (!commitHeader.path("key").asText().equals("header")) {
      problems.add("first NDJSON line is not the header");
    }
    for (int i = 1; i < lines.length; i++) {
      JsonNode line = JSON.readTree(lines[i]);
      JsonNode v = line.path("value");
      switch (line.path("key").asText()) {
        case "file" -> {
          if (!v.path("encoding").asText().equals("base64")) {
            problems.add("file without base64 encoding");
          }
          committed.put(
              v.path("path").asText(), Base64.getDecoder().decode(v.path("content").asText()));
        }
        case "lfsFile" -> {
          byte[] stored = lfsStore.get(v.path("oid").asText());
          if (!v.path("algo").asText().equals("sha256")
              || stored == null
              || stored.length != v.path("size").asLong()) {
            problems.add("lfsFile not uploaded or wrong: " + v);
          } else {
            committed.put(v.path("path").asText(), stored);
          }
        }
        default -> problems.add("unknown NDJSON line " + line);
      }
    }
  }

  private static void reply(HttpExchange x, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      x.getResponseBody().write(b);
    }
    x.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
