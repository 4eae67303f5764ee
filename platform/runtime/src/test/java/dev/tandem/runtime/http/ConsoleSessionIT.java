package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console over HTTP: its files with the security headers, and the session cookie — signed in with the admin
 * token on one node, good on another, refused when tampered with, expired or signed for another token, and writes
 * with it refused without the anti-CSRF header.
 */
class ConsoleSessionIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TestDatabase db;
  private static TandemRuntime a;
  private static TandemRuntime b;

  @BeforeAll
  static void start(@TempDir Path plugins) throws Exception {
    db = TestDatabase.fresh();
    TandemConfig cfg = TestRuntimes.config(db.settings(), plugins);
    a = TestRuntimes.start(cfg.withNodeId("console-a"));
    b = TestRuntimes.start(cfg.withNodeId("console-b"));
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(a);
    TestRuntimes.stop(b);
    if (db != null) {
      db.close();
    }
  }

  private static HttpResponse<String> send(TandemRuntime rt, String method, String path, String body,
      String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null && !List.of(headers).contains("Content-Type")) {
      r.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** @return the session cookie's value from a sign-in answer */
  private static String cookie(HttpResponse<String> signIn) {
    for (String c : signIn.headers().allValues("Set-Cookie")) {
      if (c.startsWith(ConsoleSessions.COOKIE + "=")) {
        return c.substring(ConsoleSessions.COOKIE.length() + 1).split(";", 2)[0];
      }
    }
    throw new AssertionError("no session cookie in " + signIn.headers().map());
  }

  private static String errorCode(HttpResponse<String> r) {
    return new JsonObject(r.body()).getJsonObject("error").getString("code");
  }

  @Test
  void theConsoleIsServedWithAStrictContentSecurityPolicy() throws Exception {
    HttpResponse<String> page = send(a, "GET", "/", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().map()
        .toString());
    assertTrue(page.body().contains("<script type=\"module\" src=\"/console/js/app.js\">"), page.body());
    assertFalse(page.body().matches("(?s).*<script>.*|.*\\sstyle=.*|.*\\son[a-z]+=.*"),
        "no inline script, style or handler: " + page.body());
    String csp = page.headers().firstValue("Content-Security-Policy").orElseThrow();
    assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'self'")
        && csp.contains("style-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
    assertFalse(csp.contains("unsafe"), csp);
    assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(null));
    assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElse(null));
    assertEquals("no-referrer", page.headers().firstValue("Referrer-Policy").orElse(null));

    HttpResponse<String> app = send(a, "GET", "/console/js/app.js", null);
    assertEquals(200, app.statusCode());
    assertTrue(app.headers().firstValue("Content-Type").orElse("").contains("javascript"), app.headers().map()
        .toString());
    HttpResponse<String> chart = send(a, "GET", "/console/lib/chart.js/chart.umd.min.js", null);
    assertEquals(200, chart.statusCode(), "the chart library from its WebJar");
    assertTrue(chart.body().length() > 100_000);
    HttpResponse<String> missing = send(a, "GET", "/console/js/nothing-here.js", null);
    assertEquals(404, missing.statusCode());
    assertEquals("not_found", errorCode(missing));
    assertEquals(404, send(a, "GET", "/console/../pom.xml", null).statusCode());
    // The API's answers carry the headers too.
    assertTrue(send(a, "GET", "/health/live", null).headers().firstValue("Content-Security-Policy").isPresent());
  }

  @Test
  void theAdminTokenIsExchangedForACookieThatWorksOnEveryNode() throws Exception {
    assertEquals(new JsonObject().put("signedIn", false),
        new JsonObject(send(a, "GET", "/console/session", null).body()));
    HttpResponse<String> wrong = send(a, "POST", "/console/session", "{\"token\":\"not-the-token\"}");
    assertEquals(401, wrong.statusCode(), wrong.body());
    assertTrue(wrong.headers().allValues("Set-Cookie").isEmpty(), "no cookie for a wrong token");
    HttpResponse<String> none = send(a, "POST", "/console/session", "{}");
    assertEquals(400, none.statusCode(), none.body());
    assertTrue(new JsonObject(none.body()).getJsonObject("error").getString("message").contains("token"), none.body());
    assertEquals(400, send(a, "POST", "/console/session", "{\"token\":42}").statusCode());
    assertEquals(415, send(a, "POST", "/console/session", "token", "Content-Type", "text/plain").statusCode());

    HttpResponse<String> ok = send(a, "POST", "/console/session", "{\"token\":\"" + TestRuntimes.TOKEN + "\"}");
    assertEquals(200, ok.statusCode(), ok.body());
    String setCookie = ok.headers().allValues("Set-Cookie").get(0);
    String attributes = setCookie.toLowerCase(java.util.Locale.ROOT);
    assertTrue(attributes.contains("; httponly") && attributes.contains("; samesite=strict")
        && attributes.contains("; path=/") && attributes.contains("; max-age=28800"), setCookie);
    assertFalse(setCookie.contains(TestRuntimes.TOKEN), "the cookie is not the token");
    String session = cookie(ok);
    String csrf = new JsonObject(ok.body()).getString("csrfToken");
    assertNotNull(csrf);
    String c = ConsoleSessions.COOKIE + "=" + session;

    for (TandemRuntime node : List.of(a, b)) {
      HttpResponse<String> read = send(node, "GET", "/api/v1/nodes", null, "Cookie", c);
      assertEquals(200, read.statusCode(), read.body());
      JsonObject current = new JsonObject(send(node, "GET", "/console/session", null, "Cookie", c).body());
      assertTrue(current.getBoolean("signedIn"));
      assertEquals(csrf, current.getString("csrfToken"), "every node derives the same anti-CSRF token");
      // A write with the cookie needs the anti-CSRF header.
      HttpResponse<String> noHeader = send(node, "POST", "/api/v1/errors/retry-all", "{}", "Cookie", c);
      assertEquals(403, noHeader.statusCode(), noHeader.body());
      assertEquals("csrf", errorCode(noHeader));
      HttpResponse<String> wrongHeader = send(node, "POST", "/api/v1/errors/retry-all", "{}", "Cookie", c,
          ConsoleSessions.CSRF_HEADER, csrf.substring(1) + "x");
      assertEquals(403, wrongHeader.statusCode(), wrongHeader.body());
      HttpResponse<String> write = send(node, "POST", "/api/v1/errors/retry-all", "{}", "Cookie", c,
          ConsoleSessions.CSRF_HEADER, csrf);
      assertEquals(202, write.statusCode(), write.body());
    }
    // The bearer token still works, and needs no anti-CSRF header.
    assertEquals(202, send(a, "POST", "/api/v1/errors/retry-all", "{}", "Authorization", "Bearer "
        + TestRuntimes.TOKEN).statusCode());

    // Sign-out needs the header too, then clears the cookie.
    assertEquals(403, send(b, "DELETE", "/console/session", null, "Cookie", c).statusCode());
    HttpResponse<String> out = send(b, "DELETE", "/console/session", null, "Cookie", c,
        ConsoleSessions.CSRF_HEADER, csrf);
    assertEquals(204, out.statusCode(), out.body());
    String cleared = out.headers().allValues("Set-Cookie").get(0);
    assertTrue(cleared.startsWith(ConsoleSessions.COOKIE + "=;") && cleared.contains("Max-Age=0"), cleared);
  }

  @Test
  void aTamperedExpiredOrForeignCookieIsRefused() throws Exception {
    String good = new ConsoleSessions(TestRuntimes.TOKEN.getBytes(StandardCharsets.UTF_8))
        .issue(System.currentTimeMillis());
    assertEquals(200, send(a, "GET", "/api/v1/jobs", null, "Cookie", ConsoleSessions.COOKIE + "=" + good)
        .statusCode(), "a cookie signed with this installation's key");
    String[] parts = good.split("\\.");
    char last = parts[3].charAt(parts[3].length() - 1);
    List<String> bad = List.of(
        // one character of the signature changed
        good.substring(0, good.length() - 1) + (last == 'A' ? 'B' : 'A'),
        // a later expiry with the old signature
        parts[0] + "." + parts[1] + "." + (Long.parseLong(parts[2]) + 86_400_000L) + "." + parts[3],
        // another session id with the old signature
        parts[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA." + parts[2] + "." + parts[3],
        // expired, though rightly signed
        new ConsoleSessions(TestRuntimes.TOKEN.getBytes(StandardCharsets.UTF_8))
            .issue(System.currentTimeMillis() - ConsoleSessions.TTL_MS - 1000),
        // signed for another admin token
        new ConsoleSessions("another-token".getBytes(StandardCharsets.UTF_8)).issue(System.currentTimeMillis()),
        "v1.x.1", "", "garbage");
    for (String value : bad) {
      HttpResponse<String> r = send(a, "GET", "/api/v1/jobs", null, "Cookie", ConsoleSessions.COOKIE + "=" + value);
      assertEquals(401, r.statusCode(), value + ": " + r.body());
      assertEquals("unauthorized", errorCode(r));
      assertFalse(new JsonObject(send(a, "GET", "/console/session", null, "Cookie",
          ConsoleSessions.COOKIE + "=" + value).body()).getBoolean("signedIn"), value);
    }
  }

  @Test
  void theEventStreamCarriesEveryNodesJobsAndTheOpenErrorsWithTheCookie() throws Exception {
    String session = cookie(send(a, "POST", "/console/session", "{\"token\":\"" + TestRuntimes.TOKEN + "\"}"));
    java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
    HttpResponse<java.util.stream.Stream<String>> stream = HTTP.send(HttpRequest.newBuilder(URI.create(
        "http://localhost:" + b.httpPort() + "/api/v1/events")).header("Cookie", ConsoleSessions.COOKIE + "="
        + session).build(), HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, stream.statusCode());
    assertTrue(stream.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    Thread reader = new Thread(() -> {
      try {
        stream.body().forEach(lines::add);
      } catch (java.io.UncheckedIOException closed) {
        // the test closed the stream
      }
    }, "events-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      // At the start: ready, then the open errors now (none).
      assertTrue(event(lines, "ready", e -> true).containsKey("maxJobId"));
      JsonObject first = event(lines, "errors", e -> true);
      assertEquals(0L, first.getLong("open"), first.encode());
      // A job another node holds: the stream reads PostgreSQL, not this node's memory.
      long job = db.queryLong("INSERT INTO job (kind, mapping, status, lease_owner, lease_until, lease_epoch, "
          + "attempts, started_at) VALUES ('SYNC', 'ELSEWHERE', 'running', 'another-node', now() + interval '1 hour', "
          + "1, 1, now()) RETURNING id");
      JsonObject running = event(lines, "job", e -> e.getLong("id") == job);
      assertEquals("RUNNING", running.getString("status"), running.encode());
      db.exec("INSERT INTO record_error (job_id, mapping, direction, erp_id, message, kind, stage) VALUES (" + job
          + ", 'ELSEWHERE', 'TO_CRM', 'C1', 'CRM accounts: refused', 'DATA', 'WRITE')");
      db.exec("UPDATE job SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_until = NULL, "
          + "message = 'done elsewhere' WHERE id = " + job);
      JsonObject ended = event(lines, "job", e -> e.getLong("id") == job && "SUCCEEDED".equals(e.getString("status")));
      assertEquals("done elsewhere", ended.getString("message"));
      JsonObject errors = event(lines, "errors", e -> e.getLong("open") == 1);
      assertEquals(1L, errors.getJsonObject("perMapping").getLong("ELSEWHERE"), errors.encode());
    } finally {
      stream.body().close();
    }
    // Without the cookie or the token: 401 like the rest of the API.
    assertEquals(401, send(b, "GET", "/api/v1/events", null).statusCode());
  }

  /** The next event of this name whose data matches, within 10 s. */
  private static JsonObject event(java.util.concurrent.BlockingQueue<String> lines, String name,
      java.util.function.Predicate<JsonObject> matches) throws InterruptedException {
    long end = System.currentTimeMillis() + 10_000;
    String current = null;
    while (System.currentTimeMillis() < end) {
      String line = lines.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
      if (line == null) {
        continue;
      }
      if (line.startsWith("event: ")) {
        current = line.substring(7);
      } else if (line.startsWith("data: ") && name.equals(current)) {
        JsonObject data = new JsonObject(line.substring(6));
        if (matches.test(data)) {
          return data;
        }
      }
    }
    throw new AssertionError("no " + name + " event as expected within 10 s");
  }

  /** A sign-in sent from a chosen loopback address (the limiter counts per client address). */
  private static String signInFrom(String local, String token) throws Exception {
    String body = "{\"token\":\"" + token + "\"}";
    try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getByName("127.0.0.1"), a.httpPort(),
        java.net.InetAddress.getByName(local), 0)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("POST /console/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
          + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void wrongTokensAreLimitedPerClientAddress() throws Exception {
    for (int i = 0; i < SignInLimiter.MAX_FAILURES; i++) {
      assertTrue(signInFrom("127.0.0.2", "guess-" + i).startsWith("HTTP/1.1 401"), "attempt " + i);
    }
    String limited = signInFrom("127.0.0.2", "guess-6");
    assertTrue(limited.startsWith("HTTP/1.1 429"), limited);
    java.util.regex.Matcher retry = java.util.regex.Pattern.compile("(?im)^retry-after: (\\d+)").matcher(limited);
    assertTrue(retry.find(), limited);
    assertTrue(Integer.parseInt(retry.group(1)) >= 1 && Integer.parseInt(retry.group(1)) <= 60, limited);
    assertTrue(limited.contains("\"code\":\"too_many_requests\""), limited);
    // Locked out, even the right token is refused without being compared: guessing learns nothing meanwhile.
    assertTrue(signInFrom("127.0.0.2", TestRuntimes.TOKEN).startsWith("HTTP/1.1 429"));
    // Another address signs in; it is not locked out by the first.
    assertTrue(signInFrom("127.0.0.3", TestRuntimes.TOKEN).startsWith("HTTP/1.1 200"));
    // A success clears an address's failures: four wrong, one right, then four wrong again are all 401.
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < SignInLimiter.MAX_FAILURES - 1; i++) {
        assertTrue(signInFrom("127.0.0.4", "guess").startsWith("HTTP/1.1 401"), "round " + round + ", " + i);
      }
      assertTrue(signInFrom("127.0.0.4", TestRuntimes.TOKEN).startsWith("HTTP/1.1 200"));
    }
  }
}
