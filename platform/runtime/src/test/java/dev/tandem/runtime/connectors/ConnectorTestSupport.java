package dev.tandem.runtime.connectors;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Runs connector calls on a Vert.x context (the clients are single-context) and talks to simulator admin APIs. */
public final class ConnectorTestSupport {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private ConnectorTestSupport() {}

  /**
   * Runs a call on a Vert.x context (the clients and stores are single-context) and waits for its result.
   *
   * @param vertx Vert.x
   * @param call the call
   * @param <T> result type
   * @return the result
   * @throws Exception the call's failure
   */
  public static <T> T on(Vertx vertx, Supplier<Future<T>> call) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    vertx.runOnContext(v -> call.get().onComplete(ar -> {
      if (ar.succeeded()) {
        f.complete(ar.result());
      } else {
        f.completeExceptionally(ar.cause());
      }
    }));
    return f.get(120, TimeUnit.SECONDS);
  }

  static String admin(String baseUrl, String method, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/__admin/sim/" + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) {
      throw new IllegalStateException(path + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }
}
