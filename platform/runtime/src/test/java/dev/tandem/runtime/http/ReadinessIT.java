package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.store.SchemaMigrator;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readiness follows PostgreSQL: the runtime reaches it through a TCP proxy the test cuts and restores. */
class ReadinessIT {

  /** A TCP proxy in front of the real PostgreSQL that can be taken down and brought back on the same port. */
  static final class Proxy {
    final Vertx vertx = Vertx.vertx();
    final NetClient client = vertx.createNetClient();
    final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
    final String targetHost;
    final int targetPort;
    NetServer server;
    int port;

    Proxy(String host, int port) {
      this.targetHost = host;
      this.targetPort = port;
    }

    void up(int onPort) throws Exception {
      server = vertx.createNetServer().connectHandler(in -> {
        in.pause();
        sockets.add(in);
        client.connect(targetPort, targetHost).onSuccess(out -> {
          sockets.add(out);
          in.handler(out::write);
          out.handler(in::write);
          in.closeHandler(v -> out.close());
          out.closeHandler(v -> in.close());
          in.resume();
        }).onFailure(e -> in.close());
      });
      server.listen(onPort, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      port = server.actualPort();
    }

    void down() throws Exception {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      for (NetSocket s : sockets) {
        s.close();
      }
      sockets.clear();
    }
  }

  @Test
  void readinessIsFalseWhilePostgresIsUnreachableAndTrueAgainWhenItIsBack(@TempDir Path plugins) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      Proxy proxy = new Proxy(db.settings().host(), db.settings().port());
      proxy.up(0);
      DatabaseSettings viaProxy = db.settings().withAddress("127.0.0.1", proxy.port);
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(viaProxy, plugins).withDatabase(viaProxy));
      try {
        URI ready = URI.create("http://localhost:" + rt.httpPort() + "/health/ready");
        assertEquals(200, http.send(HttpRequest.newBuilder(ready).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode());

        proxy.down();
        HttpResponse<String> down = http.send(HttpRequest.newBuilder(ready).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(503, down.statusCode(), down.body());
        assertEquals("DOWN", new io.vertx.core.json.JsonObject(down.body()).getString("status"));
        // Live stays up: the process is fine, only its database is not.
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort()
            + "/health/live")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());

        proxy.up(proxy.port);
        TestRuntimes.await("ready again", 15_000, () -> {
          try {
            return http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode() == 200;
          } catch (Exception e) {
            return false;
          }
        });
      } finally {
        TestRuntimes.stop(rt);
        proxy.vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }
}
