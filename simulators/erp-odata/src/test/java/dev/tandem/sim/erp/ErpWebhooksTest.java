package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Business Central online's webhook subscriptions, as Microsoft's "Working with webhooks in Dynamics 365 Business
 * Central" (dev-itpro/api-reference/v2.0/dynamics-subscriptions.md) and the subscriptions resource type describe
 * them: the validationToken handshake on create and renewal, clientState, expiry after the lifetime, renewal by
 * PATCH with If-Match, created/updated/deleted notifications of API pages in one {"value":[…]} per URL, one
 * collection notification for more than 1,000 changes within the delay, retries on 5xx, deletion of the
 * subscription on another error, and a notification that never arrives.
 */
class ErpWebhooksTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private HttpServer receiver;
  private final BlockingQueue<Map<String, Object>> received = new LinkedBlockingQueue<>();
  private final AtomicReference<String> mode = new AtomicReference<>("echo");
  private final AtomicInteger handshakes = new AtomicInteger();
  private final AtomicInteger posts = new AtomicInteger();
  private String token;

  @BeforeEach
  void setUp() throws Exception {
    send("POST", erp.get().baseUrl() + "/__admin/sim/reset", "", null, null);
    send("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":3,\"counts\":{\"Customer\":5}}", null, null);
    send("POST", erp.get().baseUrl() + "/__admin/sim/webhooks", "{\"delayMs\":0}", null, null);
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/hook", ex -> {
      String q = ex.getRequestURI().getRawQuery();
      byte[] out = new byte[0];
      int status = 200;
      if (q != null && q.startsWith("validationToken=")) {
        handshakes.incrementAndGet();
        String t = java.net.URLDecoder.decode(q.substring("validationToken=".length()), StandardCharsets.UTF_8);
        out = (mode.get().equals("no-echo") ? "nope" : t).getBytes(StandardCharsets.UTF_8);
      } else {
        posts.incrementAndGet();
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        status = switch (mode.get()) {
          case "fail" -> 503;
          case "gone" -> 404;
          default -> 202;
        };
        if (status == 202) {
          received.add(Json.object(body));
        }
      }
      ex.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        ex.getResponseBody().write(out);
      }
      ex.close();
    });
    receiver.start();
    token = token();
  }

  @AfterEach
  void tearDown() {
    receiver.stop(0);
  }

  private String hookUrl() {
    return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
  }

  private String subscriptions() {
    ErpSimulator.Options o = erp.get().options();
    return erp.get().baseUrl() + "/v2.0/" + o.tenant() + "/" + o.environment() + "/api/v2.0/subscriptions";
  }

  private String resource(String page) {
    return "/api/v2.0/companies(" + companyId() + ")/" + page;
  }

  private static String companyId() {
    return java.util.UUID.nameUUIDFromBytes("company".getBytes(StandardCharsets.UTF_8)).toString();
  }

  private HttpResponse<String> subscribe(String clientState) throws Exception {
    return send("POST", subscriptions(), Json.write(Map.of("notificationUrl", hookUrl(), "resource",
        resource("customers"), "clientState", clientState)), "Bearer " + token, null);
  }

  @Test
  void theHandshakeEchoesTheValidationTokenBeforeTheSubscriptionExists() throws Exception {
    HttpResponse<String> created = subscribe("secret-1");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals(1, handshakes.get());
    Map<String, Object> s = Json.object(created.body());
    assertNotNull(s.get("subscriptionId"));
    assertEquals("secret-1", s.get("clientState"));
    assertEquals(resource("customers"), s.get("resource"));
    Instant expires = Instant.parse((String) s.get("expirationDateTime"));
    // Three days, BC's lifetime of a subscription that is not renewed.
    assertTrue(Math.abs(Duration.between(Instant.now().plus(Duration.ofDays(3)), expires).toMinutes()) < 2, expires
        .toString());
    List<Map<String, Object>> listed = Json.objects(Json.object(send("GET", subscriptions(), null, "Bearer " + token,
        null).body()).get("value"));
    assertEquals(1, listed.size());

    mode.set("no-echo");
    HttpResponse<String> refused = subscribe("secret-2");
    assertEquals(400, refused.statusCode(), refused.body());
    assertEquals(1, Json.objects(Json.object(send("GET", subscriptions(), null, "Bearer " + token, null).body())
        .get("value")).size(), "no subscription without the handshake");

    HttpResponse<String> unknown = send("POST", subscriptions(), Json.write(Map.of("notificationUrl", hookUrl(),
        "resource", resource("lorries"))), "Bearer " + token, null);
    assertEquals(400, unknown.statusCode());
    HttpResponse<String> tooLong = send("POST", subscriptions(), Json.write(Map.of("notificationUrl", hookUrl(),
        "resource", resource("customers"), "clientState", "x".repeat(2049))), "Bearer " + token, null);
    assertEquals(400, tooLong.statusCode());
    assertEquals(401, send("POST", subscriptions(), "{}", null, null).statusCode());
  }

  @Test
  void changesOfApiPageRecordsAreNotifiedWithTheClientState() throws Exception {
    Map<String, Object> s = Json.object(subscribe("secret-1").body());
    String customer = erp.get().companyUrl() + "/Customer";
    Map<String, Object> first = Json.objects(Json.object(send("GET", customer + "?$top=1", null, "Bearer " + token,
        null).body()).get("value")).get(0);
    String no = (String) first.get("No");
    assertEquals(200, send("PATCH", customer + "('" + no + "')", "{\"Name\":\"Changed\"}", "Bearer " + token, "*")
        .statusCode());
    Map<String, Object> n = one(received.poll(20, TimeUnit.SECONDS));
    assertEquals(s.get("subscriptionId"), n.get("subscriptionId"));
    assertEquals("secret-1", n.get("clientState"));
    assertEquals("updated", n.get("changeType"));
    assertEquals("api/v2.0/companies(" + companyId() + ")/customers(" + first.get("SystemId") + ")", n.get("resource"));
    assertNotNull(n.get("lastModifiedDateTime"));
    assertNotNull(n.get("expirationDateTime"));

    assertEquals(204, send("DELETE", customer + "('" + no + "')", null, "Bearer " + token, "*").statusCode());
    assertEquals("deleted", one(received.poll(20, TimeUnit.SECONDS)).get("changeType"));
    HttpResponse<String> made = send("POST", customer, "{\"Name\":\"New one\"}", "Bearer " + token, null);
    assertEquals(201, made.statusCode(), made.body());
    assertEquals("created", one(received.poll(20, TimeUnit.SECONDS)).get("changeType"));
  }

  @Test
  void moreThanAThousandChangesWithinTheDelayAreOneCollectionNotification() throws Exception {
    send("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":4,\"counts\":{\"Customer\":1100}}", null, null);
    send("POST", erp.get().baseUrl() + "/__admin/sim/webhooks", "{\"delayMs\":600000}", null, null);
    subscribe("secret-1");
    String customer = erp.get().companyUrl() + "/Customer";
    List<Map<String, Object>> rows = Json.objects(Json.object(send("GET", customer + "?$select=No&$top=1001", null,
        "Bearer " + token, null).body()).get("value"));
    for (Map<String, Object> row : rows) {
      send("PATCH", customer + "('" + row.get("No") + "')", "{\"Name\":\"Bulk\"}", "Bearer " + token, "*");
    }
    send("POST", erp.get().baseUrl() + "/__admin/sim/webhooks", "{\"delayMs\":0}", null, null);
    Map<String, Object> n = one(received.poll(20, TimeUnit.SECONDS));
    assertEquals("collection", n.get("changeType"));
    assertTrue(((String) n.get("resource")).contains("/customers?$filter=lastModifiedDateTime%20gt%20"),
        (String) n.get("resource"));
  }

  @Test
  void aSubscriptionExpiresUnlessRenewedAndRenewalRepeatsTheHandshake() throws Exception {
    send("POST", erp.get().baseUrl() + "/__admin/sim/webhooks", "{\"lifetimeMs\":60000}", null, null);
    HttpResponse<String> created = subscribe("secret-1");
    Map<String, Object> s = Json.object(created.body());
    String one = subscriptions() + "('" + s.get("subscriptionId") + "')";
    assertEquals(400, send("PATCH", one, "{}", "Bearer " + token, null).statusCode(), "If-Match is required");
    HttpResponse<String> renewed = send("PATCH", one, "{}", "Bearer " + token, (String) s.get("@odata.etag"));
    assertEquals(200, renewed.statusCode(), renewed.body());
    assertEquals(2, handshakes.get());
    assertNotEquals(s.get("@odata.etag"), Json.object(renewed.body()).get("@odata.etag"));
    assertTrue(!Instant.parse((String) Json.object(renewed.body()).get("expirationDateTime"))
        .isBefore(Instant.parse((String) s.get("expirationDateTime"))), "renewal moves the expiry");
    assertEquals(409, send("PATCH", one, "{}", "Bearer " + token, (String) s.get("@odata.etag")).statusCode(),
        "a stale ETag");

    send("POST", erp.get().baseUrl() + "/__admin/sim/webhooks/expire", "", null, null);
    assertEquals(0, Json.objects(Json.object(send("GET", subscriptions(), null, "Bearer " + token, null).body())
        .get("value")).size());
    assertEquals(404, send("PATCH", one, "{}", "Bearer " + token, "*").statusCode(), "too late to renew");
    String customer = erp.get().companyUrl() + "/Customer";
    String no = (String) Json.objects(Json.object(send("GET", customer + "?$top=1", null, "Bearer " + token, null)
        .body()).get("value")).get(0).get("No");
    send("PATCH", customer + "('" + no + "')", "{\"Name\":\"After expiry\"}", "Bearer " + token, "*");
    assertEquals(null, received.poll(2, TimeUnit.SECONDS), "an expired subscription is not notified");
  }

  @Test
  void aDroppedNotificationNeverArrivesAndFailuresAreRetriedOrEndTheSubscription() throws Exception {
    subscribe("secret-1");
    String customer = erp.get().companyUrl() + "/Customer";
    List<Map<String, Object>> rows = Json.objects(Json.object(send("GET", customer + "?$select=No&$top=3", null,
        "Bearer " + token, null).body()).get("value"));
    send("POST", erp.get().baseUrl() + "/__admin/sim/webhooks", "{\"dropNext\":1}", null, null);
    send("PATCH", customer + "('" + rows.get(0).get("No") + "')", "{\"Name\":\"Lost\"}", "Bearer " + token, "*");
    assertEquals(null, received.poll(2, TimeUnit.SECONDS), "dropped");
    assertEquals(1L, ((Number) Json.object(send("GET", erp.get().baseUrl() + "/__admin/sim/webhooks", null, null,
        null).body()).get("dropped")).longValue());

    mode.set("fail");
    send("PATCH", customer + "('" + rows.get(1).get("No") + "')", "{\"Name\":\"Retried\"}", "Bearer " + token, "*");
    long until = System.currentTimeMillis() + 20_000;
    while (posts.get() == 0 && System.currentTimeMillis() < until) {
      Thread.sleep(50);
    }
    mode.set("echo");
    Map<String, Object> n = one(received.poll(20, TimeUnit.SECONDS));
    assertEquals("updated", n.get("changeType"), "the 503 was retried");

    mode.set("gone");
    send("PATCH", customer + "('" + rows.get(2).get("No") + "')", "{\"Name\":\"Gone\"}", "Bearer " + token, "*");
    until = System.currentTimeMillis() + 20_000;
    while (!Json.objects(Json.object(send("GET", subscriptions(), null, "Bearer " + token, null).body()).get("value"))
        .isEmpty() && System.currentTimeMillis() < until) {
      Thread.sleep(50);
    }
    assertEquals(0, Json.objects(Json.object(send("GET", subscriptions(), null, "Bearer " + token, null).body())
        .get("value")).size(), "a 404 from the subscriber deletes the subscription");
  }

  private static Map<String, Object> one(Map<String, Object> payload) {
    assertNotNull(payload, "no notification arrived");
    List<Map<String, Object>> value = Json.objects(payload.get("value"));
    assertEquals(1, value.size(), value.toString());
    return value.get(0);
  }

  private String token() throws Exception {
    ErpSimulator.Options o = erp.get().options();
    String form = "grant_type=client_credentials&client_id=" + URLEncoder.encode(o.clientId(), StandardCharsets.UTF_8)
        + "&client_secret=" + URLEncoder.encode(o.clientSecret(), StandardCharsets.UTF_8) + "&scope="
        + URLEncoder.encode(ErpSimulator.scope(), StandardCharsets.UTF_8);
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
        .build(), HttpResponse.BodyHandlers.ofString());
    return (String) Json.object(r.body()).get("access_token");
  }

  private static HttpResponse<String> send(String method, String url, String body, String auth, String ifMatch)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.replace(" ", "%20"))).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json").header("Accept", "application/json");
    if (auth != null) {
      b.header("Authorization", auth);
    }
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
