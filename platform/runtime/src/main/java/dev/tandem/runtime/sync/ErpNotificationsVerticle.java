package dev.tandem.runtime.sync;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.api.Direction;
import dev.tandem.api.JobKind;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.config.ErpNotificationSettings;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgErpSubscriptionStore;
import dev.tandem.runtime.store.PgErpSubscriptionStore.Subscription;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Business Central online webhooks: one subscription per enabled mapping that reads from the ERP (to the API page
 * behind its page web service: {@code Customer} → {@code customers}), created with a random clientState, renewed
 * (PATCH with If-Match, which repeats BC's handshake) before it expires, created anew when BC dropped it. Of
 * several nodes, the one holding a mapping's claim in PostgreSQL creates or renews its subscription (one per
 * mapping, however many nodes check at once; a dead node's claim expires). A
 * notification ({@code /erp/notifications}, on the event bus at {@link #ADDRESS}) counts only when its clientState
 * is that of a subscription Tandem made; it wakes the mapping at once (its schedule is due now, or an incremental
 * run is queued), and a {@code deleted} or {@code collection} change makes the mapping's ERP deletion check due.
 * The notification carries no data Tandem relies on: the run reads the changes itself, so a notification that
 * never arrives costs time, not a change — the periodic runs still read it.
 */
public final class ErpNotificationsVerticle extends VerticleBase {


  /** The webhook-enabled API pages behind page web services, as BC lists them (webhookSupportedResources). */
  static final Map<String, String> API_PAGES = Map.of("Customer", "customers", "Item", "items",
      "Currency", "currencies", "Unit_of_Measure", "unitsOfMeasure", "Payment_Terms", "paymentTerms",
      "Shipment_Method", "shipmentMethods");

  private static final System.Logger LOG = System.getLogger(ErpNotificationsVerticle.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();
  /** How long a node's claim on creating or renewing a subscription holds (BC's handshake included). */
  static final long CLAIM_MS = 60_000;

  private final Pool pool;
  private final Connections connections;
  private final Supplier<List<MappingDefinition>> mappings;
  private final Function<NewJob, Future<Long>> enqueue;
  private final EndpointMetrics metrics;
  private final ErpNotificationSettings settings;
  private final PgWatermarkStore watermarks = new PgWatermarkStore();
  private PgErpSubscriptionStore store;
  private PgScheduleStore schedules;
  private ODataErpClient erp;
  private String companyId;
  private boolean maintaining;
  /** This verticle's name in subscription claims. */
  private final String node = java.util.UUID.randomUUID().toString();

  /**
   * @param pool PostgreSQL
   * @param connections the endpoints and the webhook settings
   * @param mappings the enabled mappings
   * @param enqueue enqueues a job on this node
   * @param metrics endpoint metrics
   */
  public ErpNotificationsVerticle(Pool pool, Connections connections, Supplier<List<MappingDefinition>> mappings,
      Function<NewJob, Future<Long>> enqueue, EndpointMetrics metrics) {
    this.pool = pool;
    this.connections = connections;
    this.mappings = mappings;
    this.enqueue = enqueue;
    this.metrics = metrics;
    this.settings = connections.erpNotifications();
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    store = new PgErpSubscriptionStore(pool);
    schedules = new PgScheduleStore(pool);
    // Until every subscription is in place, try again soon (the admin API may not listen yet for the handshake).
    vertx.setTimer(1000, t -> maintainUntilDone());
    vertx.setPeriodic(settings.checkMs(), id -> maintain());
    return vertx.eventBus().<JsonObject>consumer(Addresses.ERP_NOTIFICATIONS, msg -> handle(msg.body())
        .onComplete(ar -> Bus.reply(msg, ar, e -> BusFailure.UNAVAILABLE))).completion();
  }

  @Override
  public Future<?> stop() {
    erp.close();
    return Future.succeededFuture();
  }

  private void maintainUntilDone() {
    maintain().onComplete(ar -> {
      if (ar.failed() || !ar.result()) {
        vertx.setTimer(Math.min(10_000, settings.checkMs()), t -> maintainUntilDone());
      }
    });
  }

  /** @return true when every mapping that reads from the ERP has a subscription good for a while */
  Future<Boolean> maintain() {
    if (maintaining) {
      return Future.succeededFuture(false);
    }
    maintaining = true;
    Future<String> company = companyId != null ? Future.succeededFuture(companyId)
        : erp.companyId().onSuccess(id -> companyId = id);
    return company.compose(id -> store.all()).compose(stored -> {
      Map<String, Subscription> byMapping = new HashMap<>();
      stored.forEach(s -> byMapping.put(s.mapping(), s));
      Future<Boolean> chain = Future.succeededFuture(true);
      for (MappingDefinition def : mappings.get()) {
        String page = API_PAGES.get(def.erpEntitySet());
        if (def.direction() == Direction.FROM_CRM || page == null) {
          continue;
        }
        Subscription s = byMapping.get(def.name());
        chain = chain.compose(ok -> ensure(def, page, s).map(done -> ok && done));
      }
      return chain;
    }).onComplete(ar -> {
      maintaining = false;
      if (ar.failed()) {
        LOG.log(Level.WARNING, "ERP webhook subscriptions could not be checked: " + ar.cause().getMessage());
      }
    });
  }

  private Future<Boolean> ensure(MappingDefinition def, String page, Subscription s) {
    if (goodForAWhile(s)) {
      return Future.succeededFuture(true);
    }
    // One node at a time creates or renews a mapping's subscription: the one holding the claim, which looks again
    // at what is stored (another node may just have made it). The others find it in place at their next check.
    return store.claim(def.name(), node, CLAIM_MS).compose(mine -> !mine ? Future.succeededFuture(false)
        : store.get(def.name()).compose(latest -> goodForAWhile(latest) ? Future.succeededFuture(true)
            : createOrRenew(def, page, latest))
            .eventually(() -> store.release(def.name(), node)));
  }

  private boolean goodForAWhile(Subscription s) {
    return s != null && s.expiresAt().isAfter(OffsetDateTime.now(ZoneOffset.UTC)
        .plusNanos(settings.renewBeforeMs() * 1_000_000));
  }

  private Future<Boolean> createOrRenew(MappingDefinition def, String page, Subscription s) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    if (s == null || !s.expiresAt().isAfter(now)) {
      return create(def, page);
    }
    return erp.api(HttpMethod.PATCH, erp.apiRoot() + "/subscriptions('" + s.subscriptionId() + "')",
        new JsonObject(), s.etag() == null ? "*" : s.etag()).compose(r -> {
          if (r.getKey() == 200) {
            LOG.log(Level.INFO, "ERP webhook subscription of " + def.name() + " renewed until "
                + r.getValue().getString("expirationDateTime"));
            return store.put(new Subscription(def.name(), s.subscriptionId(), s.resource(), s.clientState(),
                r.getValue().getString("@odata.etag"), OffsetDateTime.parse(r.getValue()
                    .getString("expirationDateTime")))).map(true);
          }
          if (r.getKey() == 404) {
            return create(def, page); // BC dropped it (expired, or a notification was refused)
          }
          LOG.log(Level.WARNING, "renewing the ERP webhook subscription of " + def.name() + " failed: "
              + r.getKey() + " " + r.getValue().encode());
          return Future.succeededFuture(false);
        });
  }

  private Future<Boolean> create(MappingDefinition def, String page) {
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String clientState = HexFormat.of().formatHex(secret);
    String resource = "/api/v2.0/companies(" + companyId + ")/" + page;
    return erp.api(HttpMethod.POST, erp.apiRoot() + "/subscriptions", new JsonObject()
        .put("notificationUrl", settings.notificationUrl()).put("resource", resource).put("clientState", clientState),
        null).compose(r -> {
          if (r.getKey() != 201) {
            LOG.log(Level.WARNING, "the ERP webhook subscription of " + def.name() + " was refused: " + r.getKey()
                + " " + r.getValue().encode() + " (does " + settings.notificationUrl() + " reach this node's "
                + "/erp/notifications?)");
            return Future.succeededFuture(false);
          }
          JsonObject b = r.getValue();
          LOG.log(Level.INFO, "ERP webhook subscription of " + def.name() + " to " + resource + " until "
              + b.getString("expirationDateTime"));
          return store.put(new Subscription(def.name(), b.getString("subscriptionId"), resource, clientState,
              b.getString("@odata.etag"), OffsetDateTime.parse(b.getString("expirationDateTime")))).map(true);
        });
  }

  /**
   * Handles one notification POST: every entry whose clientState matches its subscription wakes that mapping.
   *
   * @return {@code {accepted, rejected}}
   */
  Future<JsonObject> handle(JsonObject payload) {
    JsonArray value = payload.getJsonArray("value", new JsonArray());
    return store.all().compose(subs -> {
      Map<String, Subscription> byId = new HashMap<>();
      subs.forEach(s -> byId.put(s.subscriptionId(), s));
      Set<String> wake = new LinkedHashSet<>();
      Set<String> deletions = new LinkedHashSet<>();
      Set<String> seen = new LinkedHashSet<>();
      int rejected = 0;
      for (Object o : value) {
        JsonObject n = o instanceof JsonObject j ? j : new JsonObject();
        Subscription s = byId.get(n.getString("subscriptionId", ""));
        if (s == null || !MessageDigest.isEqual(s.clientState().getBytes(StandardCharsets.UTF_8),
            n.getString("clientState", "").getBytes(StandardCharsets.UTF_8))) {
          rejected++;
          continue;
        }
        seen.add(s.subscriptionId());
        wake.add(s.mapping());
        String type = n.getString("changeType", "");
        if (type.equals("deleted") || type.equals("collection")) {
          deletions.add(s.mapping());
        }
      }
      Future<Void> chain = Future.succeededFuture();
      for (String id : seen) {
        chain = chain.compose(v -> store.notified(id));
      }
      for (String m : deletions) {
        chain = chain.compose(v -> watermarks.keyScanDue(pool, m));
      }
      for (String m : wake) {
        chain = chain.compose(v -> wake(m));
      }
      int bad = rejected;
      int good = value.size() - rejected;
      return chain.map(v -> new JsonObject().put("accepted", good).put("rejected", bad));
    });
  }

  /**
   * An incremental run is queued now (unless one is queued already: it reads this change too), whether or not any
   * node runs schedules; the mapping's schedule, on hold for inactivity, is active again.
   */
  private Future<Void> wake(String mapping) {
    // A paused schedule stays paused: the person who paused it resumes it, not a change in the ERP.
    return schedules.paused(mapping).compose(paused -> paused ? Future.succeededFuture() : wakeActive(mapping));
  }

  private Future<Void> wakeActive(String mapping) {
    return store.syncQueued(mapping).compose(queued -> queued ? Future.succeededFuture()
        : enqueue.apply(new NewJob(JobKind.SYNC, mapping, null, new JsonObject().put("trigger", "erp-notification"),
            50, 0, null)).mapEmpty())
        .compose(v -> schedules.wakeOnChange(mapping))
        .onSuccess(n -> vertx.eventBus().send(Addresses.DISPATCHER_WAKE, null))
        .mapEmpty();
  }
}
