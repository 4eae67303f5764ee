package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.BusFailure;
import dev.tandem.runtime.bus.BusError;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.pgclient.PgException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each kind of failure a handler can meet gets the one answer it means, over a real HTTP round trip. */
class ApiFailureHandlerTest {

  private static final Map<String, Supplier<Throwable>> FAILURES = Map.of(
      "pool-timeout", () -> new VertxException("Timeout waiting for connection", true),
      "too-many-clients", () -> new PgException("sorry, too many clients already", "FATAL", "53300", null),
      "shutting-down", () -> new PgException("the database system is shutting down", "FATAL", "57P03", null),
      "syntax", () -> new PgException("syntax error at or near \"SELEC\"", "ERROR", "42601", null),
      "unique", () -> new PgException("duplicate key value", "ERROR", "23505", "Key (mapping)=(X) already exists."),
      "bus-unavailable", () -> BusError.of("tandem.x", new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
          BusFailure.UNAVAILABLE.code(), new JsonObject().put("message", "the ERP cannot be asked")
              .put("retryAfterMs", 2500).encode())),
      "bus-bad-request", () -> BusError.of("tandem.x", new ReplyException(ReplyFailure.RECIPIENT_FAILURE,
          BusFailure.BAD_REQUEST.code(), "no such mapping")),
      "bug", () -> new IllegalStateException("a bug"));

  private static Vertx vertx;
  private static HttpServer server;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Router r = Router.router(vertx);
    r.get("/fail/:kind").handler(ctx -> ctx.fail(FAILURES.get(ctx.pathParam("kind")).get()));
    r.errorHandler(500, ApiFailureHandler::handle);
    server = vertx.createHttpServer().requestHandler(r).listen(0, "127.0.0.1").toCompletionStage()
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> call(String kind) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/fail/" + kind))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject error(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    JsonObject e = new JsonObject(r.body()).getJsonObject("error");
    assertEquals(code, e.getString("code"), r.body());
    return e;
  }

  @Test
  void postgresOutOfConnectionsOrGoingDownIs503WithRetryAfter() throws Exception {
    for (String kind : new String[] {"pool-timeout", "too-many-clients", "shutting-down"}) {
      HttpResponse<String> r = call(kind);
      assertTrue(error(r, 503, "unavailable").getString("message").startsWith("PostgreSQL is unavailable"), kind);
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(""), kind);
    }
  }

  @Test
  void aStatementPostgresRefusesAsWrongIsABugNotAnOutage() throws Exception {
    HttpResponse<String> r = call("syntax");
    assertTrue(error(r, 500, "internal_error").getString("message").contains("SQLSTATE 42601"), r.body());
    assertTrue(r.headers().firstValue("Retry-After").isEmpty());
    error(call("bug"), 500, "internal_error");
  }

  @Test
  void aRefusedValueNamesTheField() throws Exception {
    assertTrue(error(call("unique"), 409, "conflict").getString("message").startsWith("mapping:"));
  }

  @Test
  void aBusFailureKeepsItsMeaningAndItsRetryAfter() throws Exception {
    HttpResponse<String> r = call("bus-unavailable");
    assertEquals("the ERP cannot be asked", error(r, 503, "unavailable").getString("message"));
    assertEquals("3", r.headers().firstValue("Retry-After").orElse(""));
    assertEquals("no such mapping", error(call("bus-bad-request"), 400, "bad_request").getString("message"));
  }
}
