package dev.tandem.runtime.http;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Properties;

/**
 * The web console: its static files at {@code /} and {@code /console/*} (from the runtime's jar, the chart library
 * from its WebJar), the security headers of every response, and the session routes that exchange the admin token for
 * a signed cookie ({@link ConsoleSessions}). The console's pages act only through the admin API.
 */
final class ConsoleApi {

  /** The console's files inside the runtime's jar. */
  static final String WEBROOT = "webroot/console";
  /**
   * Scripts, styles, images and connections only from this origin; no inline script or style, no plugin, no frame,
   * no form posting elsewhere.
   */
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
      + "frame-ancestors 'none'";

  private final ConsoleSessions sessions;
  private final byte[] token;
  private final boolean secure;
  private final SignInLimiter limiter = new SignInLimiter(System::currentTimeMillis);

  /**
   * @param sessions the session signer
   * @param token the admin token
   * @param secure whether the server speaks HTTPS (the cookie is then {@code Secure})
   */
  ConsoleApi(ConsoleSessions sessions, byte[] token, boolean secure) {
    this.sessions = sessions;
    this.token = token;
    this.secure = secure;
  }

  /** Security headers on every response, the API's included. */
  static void securityHeaders(RoutingContext ctx) {
    ctx.response().putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Cross-Origin-Opener-Policy", "same-origin")
        .putHeader("Cross-Origin-Resource-Policy", "same-origin")
        .putHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    ctx.next();
  }

  /**
   * Mounts the session routes (after the body handler and the schema check of {@code /console/session}) and the
   * static files.
   *
   * @param r the router
   */
  void mount(Router r) {
    r.post("/console/session").handler(this::signIn);
    r.get("/console/session").handler(this::current);
    r.delete("/console/session").handler(this::signOut);

    r.get("/").handler(ctx -> {
      ctx.response().putHeader("Cache-Control", "no-cache").putHeader("Content-Type", "text/html; charset=utf-8");
      ctx.response().sendFile(WEBROOT + "/index.html").onFailure(ctx::fail);
    });
    String chart = webJarVersion("chart.js");
    // Routes without a method: the static handler serves GET and HEAD and passes anything else on (a 404, not 405).
    r.route("/console/lib/chart.js/*").handler(ctx -> {
      ctx.response().putHeader("Cache-Control", "public, max-age=86400");
      ctx.next();
    }).handler(StaticHandler.create("META-INF/resources/webjars/chart.js/" + chart + "/dist")
        .setCachingEnabled(false).setDirectoryListing(false).setIncludeHidden(false));
    r.route("/console/*").handler(ctx -> {
      ctx.response().putHeader("Cache-Control", "no-cache");
      ctx.next();
    }).handler(StaticHandler.create(WEBROOT).setCachingEnabled(false).setDirectoryListing(false)
        .setIncludeHidden(false).setDefaultContentEncoding("UTF-8"));
  }

  /** @return the version of an npm WebJar on the class path, from its Maven properties */
  static String webJarVersion(String artifact) {
    String path = "META-INF/maven/org.webjars.npm/" + artifact + "/pom.properties";
    try (InputStream in = ConsoleApi.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("the WebJar " + artifact + " is not on the class path (" + path + ")");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + path, e);
    }
  }

  /** The session of a request's cookie, or null. */
  ConsoleSessions.Session session(RoutingContext ctx) {
    Cookie c = ctx.request().getCookie(ConsoleSessions.COOKIE);
    return c == null ? null : sessions.verify(c.getValue(), System.currentTimeMillis());
  }

  /** Whether a method changes something (and so needs the anti-CSRF header with a cookie). */
  static boolean write(HttpMethod m) {
    return !(m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS);
  }

  private void signIn(RoutingContext ctx) {
    JsonObject body = ctx.body().asJsonObject();
    Object given = body == null ? null : body.getValue("token");
    if (!(given instanceof String t) || t.isBlank()) {
      ApiError.send(ctx, 400, "bad_request", "token: give the admin token as {\"token\":\"...\"}");
      return;
    }
    // Too many wrong tokens from this address lately: refused before the token is even compared.
    String address = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
    long wait = limiter.retryAfterSeconds(address);
    if (wait > 0) {
      ctx.response().putHeader("Retry-After", String.valueOf(wait));
      ApiError.send(ctx, 429, "too_many_requests", "token: " + SignInLimiter.MAX_FAILURES + " wrong tokens from "
          + address + " within " + SignInLimiter.WINDOW_MS / 1000 + " s: try again in " + wait + " s");
      return;
    }
    // Constant-time comparison, as for the bearer token.
    if (!MessageDigest.isEqual(t.trim().getBytes(StandardCharsets.UTF_8), token)) {
      limiter.failed(address);
      ApiError.send(ctx, 401, "unauthorized", "token: that is not the admin token of this installation");
      return;
    }
    limiter.succeeded(address);
    String value = sessions.issue(System.currentTimeMillis());
    ConsoleSessions.Session s = sessions.verify(value, System.currentTimeMillis());
    ctx.response().addCookie(cookie(value, ConsoleSessions.TTL_MS / 1000));
    sessionJson(ctx, 200, s);
  }

  private void current(RoutingContext ctx) {
    ConsoleSessions.Session s = session(ctx);
    if (s == null) {
      json(ctx, 200, new JsonObject().put("signedIn", false));
    } else {
      sessionJson(ctx, 200, s);
    }
  }

  private void signOut(RoutingContext ctx) {
    ConsoleSessions.Session s = session(ctx);
    if (s != null && !ConsoleSessions.csrfMatches(s, ctx.request().getHeader(ConsoleSessions.CSRF_HEADER))) {
      ApiError.send(ctx, 403, "csrf", "signing out with the session cookie needs the " + ConsoleSessions.CSRF_HEADER
          + " header (the csrfToken of GET /console/session)");
      return;
    }
    ctx.response().addCookie(cookie("", 0));
    ctx.response().setStatusCode(204).end();
  }

  private Cookie cookie(String value, long maxAgeSeconds) {
    return Cookie.cookie(ConsoleSessions.COOKIE, value).setPath("/").setHttpOnly(true)
        .setSameSite(CookieSameSite.STRICT).setSecure(secure).setMaxAge(maxAgeSeconds);
  }

  private static void sessionJson(RoutingContext ctx, int status, ConsoleSessions.Session s) {
    json(ctx, status, new JsonObject().put("signedIn", true)
        .put("expiresAt", Instant.ofEpochMilli(s.expiresAt()).toString()).put("csrfToken", s.csrf())
        .put("csrfHeader", ConsoleSessions.CSRF_HEADER));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store").end(body.encode());
  }
}
