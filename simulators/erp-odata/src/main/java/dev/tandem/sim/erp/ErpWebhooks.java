package dev.tandem.sim.erp;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Business Central online's webhook subscriptions ({@code bc-online} profile), as "Working with webhooks in Dynamics
 * 365 Business Central" (api-reference/v2.0/dynamics-subscriptions.md) and the subscriptions resource type describe
 * them: {@code POST …/api/v2.0/subscriptions} with {@code notificationUrl}, {@code resource} (an API page of a
 * company, e.g. {@code /api/v2.0/companies({id})/customers}) and an optional {@code clientState} (at most 2048
 * characters); before the subscription exists, BC calls the notification URL with a {@code validationToken} query
 * parameter and the subscriber must answer 200 with the token as the body. Subscriptions expire three days after
 * they were created or last renewed; {@code PATCH subscriptions('{id}')} (with {@code If-Match}) renews one and
 * repeats the handshake. Notifications are not sent at once: BC waits 30 seconds after the first change, sends one
 * notification per changed record ({@code created}, {@code updated}, {@code deleted}; a record changed several times
 * is notified once), or one {@code collection} notification whose resource carries a
 * {@code lastModifiedDateTime gt …} filter when more than 1,000 records changed in that time. Notifications of
 * every subscription with the same notification URL go in one POST {@code {"value":[…]}}. A subscriber answering
 * 408, 429 or 5xx (or not reachable) is retried later (BC retries over 36 hours); any other status deletes the
 * subscription. The change types are those of BC's "API Webhook Notification" table (Created, Updated, Deleted,
 * Collection): BC sends no lifecycle notification when a subscription expires; it simply stops notifying.
 *
 * <p>The admin API ({@code /__admin/sim/webhooks}) shortens the delay and the lifetime for tests, drops notifications
 * (a webhook that never arrives) and lists what was delivered.
 */
final class ErpWebhooks {

  /** The API pages behind the simulator's page web services that BC lists as webhook-supported resources. */
  static final Map<String, String> API_PAGES = Map.of("Customer", "customers", "Item", "items",
      "Currency", "currencies", "Unit_of_Measure", "unitsOfMeasure", "Payment_Terms", "paymentTerms",
      "Shipment_Method", "shipmentMethods", "SalesOrder", "salesOrders", "SalesInvoice", "salesInvoices");

  static final long DEFAULT_LIFETIME_MS = Duration.ofDays(3).toMillis();
  static final long DEFAULT_DELAY_MS = 30_000;
  static final int COLLECTION_OVER = 1000;
  private static final int RETRY_MS = 60_000;
  private static final Pattern ONE = Pattern.compile("^subscriptions\\('([^']*)'\\)$");
  private static final Pattern RESOURCE = Pattern.compile(
      "^/?api/v2\\.0/companies\\(([0-9a-fA-F-]{36})\\)/([A-Za-z]+)$");

  /** A subscription and what is waiting to be sent to it. */
  private static final class Subscription {
    final String id;
    final String userId;
    volatile String notificationUrl;
    final String resource;
    final String page;
    volatile String clientState;
    volatile long expiresAt;
    volatile long modifiedAt;
    final AtomicLong version = new AtomicLong(1);
    /** Changed records by SystemId: change type and time, in the order of their first change. */
    final Map<String, String[]> pending = new LinkedHashMap<>();
    long firstPendingAt;
    long nextAttemptAt;

    Subscription(String id, String userId, String notificationUrl, String resource, String page, String clientState,
        long expiresAt) {
      this.id = id;
      this.userId = userId;
      this.notificationUrl = notificationUrl;
      this.resource = resource;
      this.page = page;
      this.clientState = clientState;
      this.expiresAt = expiresAt;
      this.modifiedAt = System.currentTimeMillis();
    }

    String etag() {
      return "W/\"JzE5OzEyMzQ1Njc4OTAxMjM0NTY3ODkwMTsn" + version.get() + "\"";
    }
  }

  private final ErpSimulator sim;
  private final String companyId;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "erp-webhook-sender");
    t.setDaemon(true);
    return t;
  });
  private volatile long lifetimeMs = DEFAULT_LIFETIME_MS;
  private volatile long delayMs = DEFAULT_DELAY_MS;
  private final AtomicInteger dropNext = new AtomicInteger();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final List<Map<String, Object>> log = new java.util.concurrent.CopyOnWriteArrayList<>();

  ErpWebhooks(ErpSimulator sim, String companyId) {
    this.sim = sim;
    this.companyId = companyId;
    sender.scheduleWithFixedDelay(this::sendDue, 100, 100, TimeUnit.MILLISECONDS);
  }

  void stop() {
    sender.shutdownNow();
  }

  /** Back to no subscriptions and BC's delay and lifetime. */
  synchronized void reset() {
    subscriptions.clear();
    lifetimeMs = DEFAULT_LIFETIME_MS;
    delayMs = DEFAULT_DELAY_MS;
    dropNext.set(0);
    delivered.set(0);
    dropped.set(0);
    log.clear();
  }

  /** @return the path prefix of the subscriptions API, e.g. {@code /v2.0/{tenant}/{environment}/api/v2.0/} */
  static String apiRoot(ErpSimulator.Options o) {
    return "/v2.0/" + o.tenant() + "/" + o.environment() + "/api/v2.0/";
  }

  // ---- the subscriptions API ----------------------------------------------------------------------------------

  SimResponse handle(SimRequest r, String rest, String caller) {
    expire();
    if (rest.equals("subscriptions")) {
      return switch (r.method()) {
        case "GET" -> list(caller);
        case "POST" -> create(r, caller);
        default -> ErpSimulator.error(405, "BadRequest_MethodNotAllowed", "The requested resource does not support "
            + "http method '" + r.method() + "'.");
      };
    }
    Matcher m = ONE.matcher(rest);
    if (!m.matches()) {
      return ErpSimulator.error(404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI '"
          + r.path() + "'.");
    }
    Subscription s = subscriptions.get(m.group(1));
    if (s == null) {
      return ErpSimulator.error(404, "Internal_RecordNotFound", "The Webhook Subscription does not exist. "
          + "Identification fields and values: Subscription ID='" + m.group(1) + "'");
    }
    return switch (r.method()) {
      case "GET" -> SimResponse.json(200, json(s, true));
      case "PATCH" -> renew(s, r);
      case "DELETE" -> {
        subscriptions.remove(s.id);
        yield SimResponse.empty(204);
      }
      default -> ErpSimulator.error(405, "BadRequest_MethodNotAllowed", "The requested resource does not support "
          + "http method '" + r.method() + "'.");
    };
  }

  private SimResponse list(String caller) {
    List<Map<String, Object>> value = new ArrayList<>();
    subscriptions.values().stream().filter(s -> s.userId.equals(userId(caller)))
        .forEach(s -> value.add(json(s, true)));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("@odata.context", sim.baseUrl() + apiRoot(sim.options()) + "$metadata#subscriptions");
    body.put("value", value);
    return SimResponse.json(200, body);
  }

  private SimResponse create(SimRequest r, String caller) {
    Map<String, Object> body;
    try {
      body = Json.object(r.bodyText());
    } catch (RuntimeException e) {
      return ErpSimulator.error(400, "BadRequest", "The request body is not valid JSON.");
    }
    String url = body.get("notificationUrl") instanceof String u ? u : null;
    String resource = body.get("resource") instanceof String res ? res : null;
    String clientState = body.get("clientState") instanceof String cs ? cs : "";
    if (url == null || url.isBlank()) {
      return ErpSimulator.error(400, "BadRequest", "The notificationUrl must be specified.");
    }
    if (clientState.length() > 2048) {
      return ErpSimulator.error(400, "BadRequest_InvalidRequestData", "The length of the string is "
          + clientState.length() + ", but it must be less than or equal to 2048 characters. Field: clientState");
    }
    String page = page(resource);
    if (page == null) {
      return ErpSimulator.error(400, "BadRequest_ResourceNotFound", "The resource '" + resource + "' does not "
          + "exist or does not support webhooks.");
    }
    SimResponse refused = handshake(url);
    if (refused != null) {
      return refused;
    }
    String id = UUID.randomUUID().toString().replace("-", "");
    Subscription s = new Subscription(id, userId(caller), url, resource, page, clientState,
        System.currentTimeMillis() + lifetimeMs);
    subscriptions.put(id, s);
    return SimResponse.json(201, json(s, true)).with("ETag", s.etag());
  }

  private SimResponse renew(Subscription s, SimRequest r) {
    String ifMatch = r.header("If-Match");
    if (ifMatch == null) {
      return ErpSimulator.error(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token "
          + "required by the service. Please provide a valid token in the client request.");
    }
    if (!ifMatch.equals("*") && !ifMatch.equals(s.etag())) {
      return ErpSimulator.error(409, "Request_EntityChanged", "Another user has already changed the record.");
    }
    Map<String, Object> body = r.bodyText() == null || r.bodyText().isBlank() ? Map.of() : Json.object(r.bodyText());
    String url = body.get("notificationUrl") instanceof String u ? u : s.notificationUrl;
    SimResponse refused = handshake(url);
    if (refused != null) {
      return refused;
    }
    s.notificationUrl = url;
    if (body.get("clientState") instanceof String cs) {
      s.clientState = cs;
    }
    s.expiresAt = System.currentTimeMillis() + lifetimeMs;
    s.modifiedAt = System.currentTimeMillis();
    s.version.incrementAndGet();
    return SimResponse.json(200, json(s, true)).with("ETag", s.etag());
  }

  /**
   * The handshake: BC calls the notification URL with a validation token and requires it back as the body of a 200;
   * otherwise the subscription is not created (or not renewed).
   */
  private SimResponse handshake(String url) {
    String token = UUID.randomUUID().toString();
    try {
      HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(url + (url.contains("?") ? "&" : "?")
              + "validationToken=" + URLEncoder.encode(token, StandardCharsets.UTF_8)))
          .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() == 200 && token.equals(resp.body().trim())) {
        return null;
      }
      return ErpSimulator.error(400, "BadRequest", "The subscription could not be validated: the notification URL "
          + "answered " + resp.statusCode() + " without the validation token.");
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return ErpSimulator.error(400, "BadRequest", "The subscription could not be validated: the notification URL "
          + "could not be reached (" + e.getClass().getSimpleName() + ").");
    }
  }

  private Map<String, Object> json(Subscription s, boolean etag) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (etag) {
      out.put("@odata.etag", s.etag());
    }
    out.put("subscriptionId", s.id);
    out.put("notificationUrl", s.notificationUrl);
    out.put("resource", s.resource);
    out.put("timestamp", s.version.get());
    out.put("userId", s.userId);
    out.put("lastModifiedDateTime", Instant.ofEpochMilli(s.modifiedAt).toString());
    out.put("clientState", s.clientState);
    out.put("expirationDateTime", Instant.ofEpochMilli(s.expiresAt).toString());
    return out;
  }

  /** @return the page web service behind a subscribable resource of this company, or null */
  private String page(String resource) {
    if (resource == null) {
      return null;
    }
    String rel = resource.replaceFirst("^https?://[^/]+", "").replaceFirst("^/v2\\.0/[^/]+/[^/]+", "");
    Matcher m = RESOURCE.matcher(rel);
    if (!m.matches() || !m.group(1).equalsIgnoreCase(companyId)) {
      return null;
    }
    for (Map.Entry<String, String> e : API_PAGES.entrySet()) {
      if (e.getValue().equals(m.group(2)) && ErpSimulator.published(sim.options(), e.getKey()) != null) {
        return e.getKey();
      }
    }
    return null;
  }

  private static String userId(String caller) {
    return UUID.nameUUIDFromBytes(("user:" + caller).getBytes(StandardCharsets.UTF_8)).toString();
  }

  /** Expired subscriptions are gone: no notification, not listed. */
  private void expire() {
    long now = System.currentTimeMillis();
    subscriptions.values().removeIf(s -> s.expiresAt <= now);
  }

  // ---- notifications ------------------------------------------------------------------------------------------

  /**
   * Notes a change of a record of a page web service, for the subscriptions to its API page.
   *
   * @param service the page web service
   * @param systemId the record's SystemId (the API page's id)
   * @param changeType created, updated or deleted
   */
  void changed(String service, Object systemId, String changeType) {
    if (systemId == null || subscriptions.isEmpty()) {
      return;
    }
    long now = System.currentTimeMillis();
    String at = Instant.ofEpochMilli(now).toString();
    for (Subscription s : subscriptions.values()) {
      if (!s.page.equals(service) || s.expiresAt <= now) {
        continue;
      }
      synchronized (s) {
        if (s.pending.isEmpty()) {
          s.firstPendingAt = now;
        }
        String[] before = s.pending.get(String.valueOf(systemId));
        // Changed several times within the delay: notified once, as created if it was new, deleted if it went.
        String type = before != null && before[0].equals("created") && !changeType.equals("deleted") ? "created"
            : changeType;
        s.pending.put(String.valueOf(systemId), new String[] {type, at});
      }
    }
  }

  /** Sends what waited the delay, one POST per notification URL. */
  private void sendDue() {
    try {
      expire();
      long now = System.currentTimeMillis();
      Map<String, List<Map<String, Object>>> byUrl = new LinkedHashMap<>();
      Map<String, List<Subscription>> sentFor = new LinkedHashMap<>();
      Map<Subscription, Map<String, String[]>> taken = new LinkedHashMap<>();
      for (Subscription s : subscriptions.values()) {
        synchronized (s) {
          if (s.pending.isEmpty() || now - s.firstPendingAt < delayMs || now < s.nextAttemptAt) {
            continue;
          }
          Map<String, String[]> changes = new LinkedHashMap<>(s.pending);
          taken.put(s, changes);
          s.pending.clear();
          List<Map<String, Object>> value = byUrl.computeIfAbsent(s.notificationUrl, u -> new ArrayList<>());
          sentFor.computeIfAbsent(s.notificationUrl, u -> new ArrayList<>()).add(s);
          String base = "api/v2.0/companies(" + companyId + ")/" + API_PAGES.get(s.page);
          if (changes.size() > COLLECTION_OVER) {
            String first = Instant.ofEpochMilli(s.firstPendingAt - 1).toString();
            value.add(notification(s, "/" + base + "?$filter=lastModifiedDateTime%20gt%20" + first, "collection",
                Instant.ofEpochMilli(now).toString()));
          } else {
            changes.forEach((id, c) -> value.add(notification(s, base + "(" + id + ")", c[0], c[1])));
          }
        }
      }
      byUrl.forEach((url, value) -> deliver(url, value, sentFor.get(url), taken));
    } catch (RuntimeException e) {
      // the next round tries again
    }
  }

  private static Map<String, Object> notification(Subscription s, String resource, String type, String at) {
    Map<String, Object> n = new LinkedHashMap<>();
    n.put("subscriptionId", s.id);
    n.put("clientState", s.clientState);
    n.put("expirationDateTime", Instant.ofEpochMilli(s.expiresAt).toString());
    n.put("resource", resource);
    n.put("changeType", type);
    n.put("lastModifiedDateTime", at);
    return n;
  }

  private void deliver(String url, List<Map<String, Object>> value, List<Subscription> subs,
      Map<Subscription, Map<String, String[]>> taken) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("url", url);
    entry.put("notifications", value.size());
    entry.put("sentAt", Instant.now().toString());
    if (dropNext.get() > 0 && dropNext.getAndDecrement() > 0) {
      // Lost on the way (a network fault, a subscriber down past BC's retries): never arrives.
      dropped.incrementAndGet();
      entry.put("status", "dropped");
      log.add(entry);
      return;
    }
    int status;
    try {
      status = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(Json.write(Map.of("value", value)))).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      status = 0;
    }
    entry.put("status", status);
    log.add(entry);
    if (status >= 200 && status < 300) {
      delivered.incrementAndGet();
      return;
    }
    boolean retry = status == 0 || status == 408 || status == 429 || status >= 500;
    for (Subscription s : subs) {
      if (!retry) {
        subscriptions.remove(s.id);
        continue;
      }
      synchronized (s) {
        // Put the changes back in front of any newer ones and try again later.
        Map<String, String[]> again = new LinkedHashMap<>(taken.get(s));
        again.putAll(s.pending);
        s.pending.clear();
        s.pending.putAll(again);
        s.firstPendingAt = Math.min(s.firstPendingAt == 0 ? Long.MAX_VALUE : s.firstPendingAt,
            System.currentTimeMillis() - delayMs);
        s.nextAttemptAt = System.currentTimeMillis() + Math.min(RETRY_MS, Math.max(delayMs, 1000));
      }
    }
  }

  // ---- admin --------------------------------------------------------------------------------------------------

  Map<String, Object> state() {
    expire();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("delayMs", delayMs);
    out.put("lifetimeMs", lifetimeMs);
    out.put("dropNext", dropNext.get());
    out.put("delivered", delivered.get());
    out.put("dropped", dropped.get());
    List<Map<String, Object>> subs = new ArrayList<>();
    subscriptions.values().forEach(s -> subs.add(json(s, false)));
    out.put("subscriptions", subs);
    out.put("deliveries", new ArrayList<>(log));
    return out;
  }

  void configure(Map<String, Object> body) {
    if (body.get("delayMs") instanceof Number n) {
      delayMs = Math.max(0, n.longValue());
    }
    if (body.get("lifetimeMs") instanceof Number n) {
      lifetimeMs = Math.max(1, n.longValue());
    }
    if (body.get("dropNext") instanceof Number n) {
      dropNext.set(Math.max(0, n.intValue()));
    }
  }

  /** Expires every subscription now, as if its three days had passed without a renewal. */
  void expireAll() {
    subscriptions.values().forEach(s -> s.expiresAt = System.currentTimeMillis() - 1);
    expire();
  }
}
