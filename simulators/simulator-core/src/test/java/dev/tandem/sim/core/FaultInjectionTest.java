package dev.tandem.sim.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Fault rules over HTTP: a dropped request is not processed; a dropped response is. */
class FaultInjectionTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private final AtomicInteger processed = new AtomicInteger();
  private SimulatorServer server;

  @BeforeEach
  void start() {
    server = new SimulatorServer("faults-test", 0, 1, r -> {
      processed.incrementAndGet();
      return SimResponse.json(201, Map.of("n", processed.get()));
    }, SimRequest::path, status -> SimResponse.json(status, Map.of("error", "injected"))).start();
  }

  @AfterEach
  void stop() {
    server.stop();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private Map<String, Object> rule(int index) throws Exception {
    return Json.objects(Json.object(send("GET", "/__admin/sim/faults", null).body()).get("faults")).get(index);
  }

  @Test
  void dropResponseProcessesTheRequestAndThenClosesTheConnection() throws Exception {
    HttpResponse<String> added = send("POST", "/__admin/sim/faults",
        "{\"pathPattern\":\"/batch\",\"method\":\"POST\",\"kind\":\"DROP_RESPONSE\",\"nth\":1}");
    assertEquals(201, added.statusCode(), added.body());
    assertThrows(IOException.class, () -> send("POST", "/batch", "{}"), "the client gets no answer");
    assertEquals(1, processed.get(), "but the server did the work");
    assertEquals(1L, ((Number) rule(0).get("fired")).longValue());
    HttpResponse<String> next = send("POST", "/batch", "{}");
    assertEquals(201, next.statusCode(), "only the first matching request");
    assertEquals(2, processed.get());
  }

  @Test
  void dropResetsTheConnectionWithoutProcessing() throws Exception {
    send("POST", "/__admin/sim/faults", "{\"pathPattern\":\"/batch\",\"kind\":\"DROP\",\"nth\":1}");
    assertThrows(IOException.class, () -> send("POST", "/batch", "{}"));
    assertEquals(0, processed.get());
  }

  @Test
  void anUnknownKindIsABadRequestNamingTheKinds() throws Exception {
    HttpResponse<String> bad = send("POST", "/__admin/sim/faults", "{\"kind\":\"EXPLODE\",\"nth\":1}");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("DROP_RESPONSE"), bad.body());
  }
}
