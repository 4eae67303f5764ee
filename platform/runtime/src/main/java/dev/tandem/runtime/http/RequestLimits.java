package dev.tandem.runtime.http;

import dev.tandem.runtime.config.TandemConfig.HttpSettings;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What keeps an anonymous client from holding the admin server: an idle timeout (a head or body that stops
 * half-way, an idle keep-alive connection), a deadline for every request's body, a connection limit, and limits on
 * the request line (414) and the head (431) answered in the API's JSON error shape. Netty's own limits are set well
 * above these, so that the JSON answer comes from here and not a bare status line from the codec. The server speaks
 * HTTP/1.1 only (no cleartext HTTP/2 upgrade), so every request's connection is its own.
 *
 * <p>Vert.x hands a connection over with its first complete request head, so a connection that never completes one
 * is not counted; it is closed by the idle timeout.
 */
final class RequestLimits {

  /** Longest request target (path and query) answered normally. */
  static final int MAX_URI_LENGTH = 4096;
  /** Largest request head (all header names and values) answered normally. */
  static final int MAX_HEADER_BYTES = 16 * 1024;

  private final Vertx vertx;
  private final HttpSettings settings;
  private final AtomicInteger open = new AtomicInteger();
  private final Set<HttpConnection> refused = ConcurrentHashMap.newKeySet();

  RequestLimits(Vertx vertx, HttpSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
  }

  /** @return the server options: idle timeout, codec limits above ours, TLS from the PEM files when configured */
  HttpServerOptions options() {
    HttpServerOptions o = new HttpServerOptions()
        .setIdleTimeout((int) Math.max(1, settings.idleTimeoutMs()))
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setHttp2ClearTextEnabled(false)
        .setMaxInitialLineLength(MAX_URI_LENGTH * 4)
        .setMaxHeaderSize(MAX_HEADER_BYTES * 4);
    if (settings.tls()) {
      o.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(settings.tlsCertFile().toString())
          .setKeyPath(settings.tlsKeyFile().toString()));
    }
    return o;
  }

  /** @return the server's connection handler: counts connections and marks those beyond the limit */
  Handler<HttpConnection> connections() {
    return conn -> {
      if (open.incrementAndGet() > settings.maxConnections()) {
        refused.add(conn);
      }
      conn.closeHandler(v -> {
        open.decrementAndGet();
        refused.remove(conn);
      });
    };
  }

  /**
   * @param next the router
   * @return a request handler that enforces the connection limit, the request deadline and the line and head
   *     limits, then routes
   */
  Handler<HttpServerRequest> requests(Handler<HttpServerRequest> next) {
    return req -> {
      HttpConnection conn = req.connection();
      if (conn != null && refused.contains(conn)) {
        req.response().putHeader("Retry-After", "5");
        refuse(req, 503, "unavailable", "too many connections to the admin API (at most "
            + settings.maxConnections() + "); try again later");
        return;
      }
      if (req.uri().length() > MAX_URI_LENGTH) {
        refuse(req, 414, "uri_too_long", "the request target is longer than " + MAX_URI_LENGTH + " characters");
        return;
      }
      int head = 0;
      for (Map.Entry<String, String> h : req.headers()) {
        head += h.getKey().length() + h.getValue().length() + 4;
      }
      if (head > MAX_HEADER_BYTES) {
        refuse(req, 431, "headers_too_large", "the request headers are larger than " + MAX_HEADER_BYTES + " bytes");
        return;
      }
      long timer = vertx.setTimer(settings.requestTimeoutMs(), id -> {
        if (!req.isEnded() && conn != null) {
          conn.close(); // the body did not arrive in time: the client is gone or stalling
        }
      });
      req.response().closeHandler(v -> vertx.cancelTimer(timer));
      req.response().endHandler(v -> vertx.cancelTimer(timer));
      next.handle(req);
    };
  }

  private static void refuse(HttpServerRequest req, int status, String code, String message) {
    req.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("Connection", "close")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode())
        .onComplete(ar -> req.connection().close());
  }
}
