package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.plugins.PluginJars;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an anonymous or careless client sends must not knock the admin server over or make it answer 500. */
public class AdminServerHardeningIT {

  @TempDir
  static Path work;

  /** A declarative plugin with one TO_CRM mapping, CURRENCIES. */
  public static final String PLUGIN = """
      package test.hardening;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Currencies implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("CURRENCIES")
              .erp("Currency", "Code").crm("transactioncurrencies", "transactioncurrencyid")
              .direction(Direction.TO_CRM)
              .field("Code", "isocurrencycode", Direction.TO_CRM)
              .build());
        }
      }
      """;

  private static TestDatabase db;
  private static TandemRuntime rt;
  private static Path plugins;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "hardening", null, Map.of("test.hardening.Currencies", PLUGIN), work);
    db = TestDatabase.fresh();
    rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins));
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(rt);
    db.close();
  }

  static HttpResponse<String> call(String method, String path, String contentType, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> json(String method, String path, String body) throws Exception {
    return call(method, path, "application/json", body);
  }

  static void assertError(HttpResponse<String> r, int status, String code, String mentions) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.body());
    JsonObject error = new JsonObject(r.body()).getJsonObject("error");
    assertEquals(code, error.getString("code"), r.body());
    if (mentions != null) {
      assertTrue(error.getString("message").contains(mentions), r.body());
    }
  }

  @Test
  void threeThousandRandomMethodsMakeABoundedNumberOfSeries() throws Exception {
    Random random = new Random(7);
    for (int i = 0; i < 3000; i++) {
      StringBuilder m = new StringBuilder();
      for (int k = 0; k < 8; k++) {
        m.append((char) ('A' + random.nextInt(26)));
      }
      HttpResponse<String> r = call(m.toString(), "/nowhere/" + i, null, null);
      assertTrue(r.statusCode() == 404 || r.statusCode() == 405, r.statusCode() + " " + r.body());
    }
    String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    Set<String> methods = new HashSet<>();
    Set<String> routes = new HashSet<>();
    long series = 0;
    for (String line : metrics.split("\n")) {
      if (line.startsWith("vertx_http_server_")) {
        series++;
        Matcher m = Pattern.compile("method=\"([^\"]*)\"").matcher(line);
        if (m.find()) {
          methods.add(m.group(1));
        }
        Matcher r = Pattern.compile("route=\"([^\"]*)\"").matcher(line);
        if (r.find()) {
          routes.add(r.group(1));
        }
      }
    }
    assertTrue(methods.contains(HttpMetricLabels.OTHER_METHOD), methods.toString());
    assertTrue(methods.size() <= 10, "method label values: " + methods);
    assertFalse(routes.stream().anyMatch(r -> r.contains("nowhere")), "route label values: " + routes);
    assertTrue(series < 300, series + " HTTP server series after 3,000 random methods");
  }

  @Test
  void badBodiesAre400sNaming() throws Exception {
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"erpFilter\":"), 400, "bad_request", "not valid JSON");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "[1,2]"), 400, "bad_request", "JSON object");
    assertError(json("POST", "/api/v1/mappings/CURRENCIES/sync", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000)
        + "}"), 400, "bad_request", null);
    assertError(json("POST", "/api/v1/mappings/CURRENCIES/sync", "[]"), 400, "bad_request", "JSON object");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"skipAfterRepeats\":\"3\"}"), 400, "bad_request",
        "skipAfterRepeats");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"scheduleSeconds\":\"60\"}"), 400, "bad_request",
        "scheduleSeconds");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"syncOnlyCoupled\":\"yes\"}"), 400, "bad_request",
        "syncOnlyCoupled");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"skipAfterRepeats\":99999999999999999999999}"), 400,
        "bad_request", "skipAfterRepeats");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"skipAfterRepeats\":4294967298}"), 400,
        "bad_request", "at most");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"erpFilter\":5}"), 400, "bad_request", "erpFilter");
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"colour\":\"red\"}"), 400, "bad_request", "colour");
    assertError(json("POST", "/api/v1/mappings/CURRENCIES/sync", "{\"direction\":\"TO_CRM\",\"force\":true}"), 400,
        "bad_request", "force");
    assertError(json("POST", "/api/v1/full-sync/start", "{\"parts\":2,\"hurry\":true}"), 400, "bad_request", "hurry");
    assertError(json("POST", "/api/v1/couplings", "{\"mapping\":\"CURRENCIES\",\"erpId\":\"EUR\"}"), 400,
        "bad_request", "crmId");
    // nothing was stored by the refused requests
    JsonObject m = new JsonObject(json("GET", "/api/v1/mappings/CURRENCIES", null).body());
    for (String k : new String[] {"erpFilter", "skipAfterRepeats", "scheduleSeconds", "syncOnlyCoupled"}) {
      assertEquals(null, m.getJsonObject("overrides").getValue(k), m.encode());
    }
    // and a good one still passes
    HttpResponse<String> ok = json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"skipAfterRepeats\":3}");
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals(3, new JsonObject(ok.body()).getJsonObject("effective").getInteger("skipAfterRepeats"));
  }

  @Test
  void wrongMethodsTypesAndSizesHaveTheirStatusInTheErrorShape() throws Exception {
    assertError(json("DELETE", "/api/v1/jobs", null), 405, "method_not_allowed", "DELETE");
    assertError(json("PUT", "/api/v1/mappings/CURRENCIES", "{}"), 405, "method_not_allowed", null);
    assertError(call("PATCH", "/api/v1/mappings/CURRENCIES", "text/plain", "{\"erpFilter\":null}"), 415,
        "unsupported_media_type", "application/json");
    assertError(call("POST", "/api/v1/mappings/CURRENCIES/sync", null, "{}"), 415, "unsupported_media_type", null);
    assertError(json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"erpFilter\":\"" + "x".repeat(70_000) + "\"}"), 413,
        "payload_too_large", null);
    assertError(json("GET", "/api/v1/jobs?mapping=" + "x".repeat(5000), null), 414, "uri_too_long", null);
    HttpResponse<String> big = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort()
        + "/api/v1/jobs")).header("X-Filler", "y".repeat(20_000)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertError(big, 431, "headers_too_large", null);
    assertError(json("POST", "/api/v1/errors/retry-all?mapping=NOPE", null), 404, "not_found", "NOPE");
    assertError(json("GET", "/api/v1/jobs/987654321/records", null), 404, "not_found", "987654321");
  }

  @Test
  void theApiCreatesNoUploadDirectory() throws Exception {
    Path uploads = Path.of("file-uploads");
    if (Files.isDirectory(uploads)) {
      try (var s = Files.list(uploads)) {
        if (s.findAny().isEmpty()) {
          Files.delete(uploads); // left by an older build
        }
      }
    }
    json("PATCH", "/api/v1/mappings/CURRENCIES", "{\"erpFilter\":null}");
    json("POST", "/api/v1/full-sync/start", "{}");
    call("POST", "/api/v1/couplings", "multipart/form-data; boundary=x", "--x--");
    assertFalse(Files.exists(uploads), "the body handler created " + uploads.toAbsolutePath());
  }

  @Test
  void pluginsShowNoAbsolutePathsAndReadinessNoInternalsToAnonymousCallers() throws Exception {
    HttpResponse<String> r = json("GET", "/api/v1/plugins", null);
    assertEquals(200, r.statusCode());
    assertFalse(r.body().contains(plugins.toAbsolutePath().toString()), r.body());
    assertFalse(r.body().contains(work.toAbsolutePath().toString()), r.body());
    assertEquals("hardening-1.0.0.jar", new JsonObject(r.body()).getJsonArray("plugins").getJsonObject(0).getString("path"),
        r.body());
  }

  @Test
  void stalledAndTricklingRequestsLoseTheirConnectionAndTheConnectionCountIsCapped() throws Exception {
    try (TestDatabase other = TestDatabase.fresh()) {
      TandemRuntime limited = TestRuntimes.start(TestRuntimes.config(other.settings(), work.resolve("none"))
          .withHttp(dev.tandem.runtime.config.TandemConfig.HttpSettings.defaults().withTimeouts(4000, 2000)
              .withLimits(20, 32)));
      try {
        int port = limited.httpPort();
        // a head that stops half-way: closed by the idle timeout
        try (Socket s = new Socket("127.0.0.1", port)) {
          write(s.getOutputStream(), "GET /health/live HTTP/1.1\r\nHost: x\r\n");
          assertClosedWithin(s, 12_000);
        }
        // a body that trickles a byte every 300 ms (never idle): closed by the request deadline
        try (Socket s = new Socket("127.0.0.1", port)) {
          write(s.getOutputStream(), "POST /api/v1/mappings/X/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + TestRuntimes.TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
          long started = System.nanoTime();
          boolean closed = false;
          try {
            for (int i = 0; i < 40 && !closed; i++) {
              Thread.sleep(300);
              write(s.getOutputStream(), " ");
              s.setSoTimeout(1);
              try {
                closed = s.getInputStream().read() == -1;
              } catch (java.net.SocketTimeoutException e) {
                // still open
              }
            }
          } catch (java.net.SocketException e) {
            closed = true; // reset while writing: closed
          }
          long ms = (System.nanoTime() - started) / 1_000_000;
          assertTrue(closed, "a trickling body held its connection for " + ms + " ms");
          assertTrue(ms < 9000, "closed only after " + ms + " ms");
        }
        // 20 kept-alive connections, the 21st is refused with a 503 in the error shape
        Socket[] held = new Socket[20];
        try {
          for (int i = 0; i < held.length; i++) {
            held[i] = new Socket("127.0.0.1", port);
            write(held[i].getOutputStream(), "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            readHead(held[i]);
          }
          try (Socket extra = new Socket("127.0.0.1", port)) {
            write(extra.getOutputStream(), "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            String answer = new String(extra.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
            assertTrue(answer.contains("\"code\":\"unavailable\""), answer);
          }
        } finally {
          for (Socket s : held) {
            if (s != null) {
              s.close();
            }
          }
        }
        // once they are gone the server answers again
        TestRuntimes.await("connections released", 5000, () -> {
          try (Socket s = new Socket("127.0.0.1", port)) {
            write(s.getOutputStream(), "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200");
          } catch (Exception e) {
            return false;
          }
        });
      } finally {
        TestRuntimes.stop(limited);
      }
    }
  }

  private static void readHead(Socket s) throws Exception {
    s.setSoTimeout(10_000);
    InputStream in = s.getInputStream();
    StringBuilder b = new StringBuilder();
    while (!b.toString().contains("\r\n\r\n")) {
      int c = in.read();
      if (c == -1) {
        throw new AssertionError("closed: " + b);
      }
      b.append((char) c);
    }
    assertTrue(b.toString().startsWith("HTTP/1.1 200"), b.toString());
    in.readNBytes(Integer.parseInt(b.toString().replaceAll("(?is).*content-length: *(\\d+).*", "$1").trim()));
  }

  private static void assertClosedWithin(Socket s, int ms) throws Exception {
    s.setSoTimeout(ms);
    InputStream in = s.getInputStream();
    try {
      while (in.read() != -1) {
        // a 408-style answer would be fine too; the point is the connection ends
      }
    } catch (java.net.SocketTimeoutException e) {
      throw new AssertionError("the server still held the connection after " + ms + " ms");
    } catch (java.net.SocketException e) {
      // reset: closed
    }
  }

  static void write(OutputStream out, String s) throws Exception {
    out.write(s.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }
}
