package dev.tandem.runtime.connection;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.store.PgChannelListener;
import dev.tandem.runtime.store.PgConnectionStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The node's connection: the one stored in PostgreSQL (set up through the admin API or the guide), with each side
 * the configuration file or environment gives taking precedence (operators who deploy with files). Every node
 * LISTENs on the schema's connection channel and reloads on a change, so a new connection serves the jobs that
 * start afterwards on every node without a restart.
 */
public final class ConnectionService {

  private static final System.Logger LOG = System.getLogger(ConnectionService.class.getName());

  /**
   * The connection in effect.
   *
   * @param connections what the connectors use (a side is null when not set up)
   * @param enabled the Enabled switch; off stops every schedule and refuses new jobs
   * @param disabledReason why it is off
   * @param revision the stored revision (0: nothing stored)
   * @param erpSource where the ERP side comes from: configuration, stored or none
   * @param crmSource where the CRM side comes from
   */
  public record Effective(TandemConfig.Connections connections, boolean enabled, String disabledReason,
      long revision, String erpSource, String crmSource) {

    /** @return whether both sides are there and the switch is on: the engine runs */
    public boolean connected() {
      return enabled && connections.erp() != null && connections.crm() != null;
    }
  }

  private final Vertx vertx;
  private final PgConnectionStore store;
  private final SecretCipher cipher;
  private final TandemConfig.Connections configured;
  private final List<Function<Effective, Future<Void>>> listeners = new ArrayList<>();
  private volatile Effective current;
  private volatile Optional<PgConnectionStore.Stored> stored = Optional.empty();
  private PgChannelListener subscriber;
  private volatile Future<Void> applying = Future.succeededFuture();

  /**
   * @param vertx Vert.x
   * @param store the stored connection
   * @param cipher seals and opens its secrets, or null when no key is configured (then nothing secret can be stored)
   * @param configured the connections the configuration gives (they override the stored sides)
   */
  public ConnectionService(Vertx vertx, PgConnectionStore store, SecretCipher cipher,
      TandemConfig.Connections configured) {
    this.vertx = vertx;
    this.store = store;
    this.cipher = cipher;
    this.configured = configured == null ? TandemConfig.Connections.none() : configured;
    this.current = merge(Optional.empty());
  }

  /** @return the store */
  public PgConnectionStore store() {
    return store;
  }

  /**
   * Loads the stored connection and follows its changes.
   *
   * @param listen how to connect for LISTEN, or null to follow only this node's own changes
   * @param channel the schema's connection channel
   * @return done
   */
  public Future<Void> start(PgConnectOptions listen, String channel) {
    Future<Void> listening = Future.succeededFuture();
    if (listen != null) {
      subscriber = new PgChannelListener(vertx, listen, channel, this::reload);
      listening = subscriber.connect().recover(e -> {
        LOG.log(Level.WARNING, "LISTEN on " + channel + " failed: connection changes made on other nodes apply "
            + "here after a restart: " + e.getMessage());
        return Future.succeededFuture();
      });
    }
    return listening.compose(v -> reload());
  }

  /** @return stops listening */
  public Future<Void> stop() {
    return subscriber == null ? Future.succeededFuture() : subscriber.close();
  }

  /**
   * @param listener told (on the event loop) whenever the connection in effect changes; a change made through
   *     {@link #save} completes once every listener's future has (this node applied it), one made on another node
   *     is applied here in the background
   */
  public void onChange(Function<Effective, Future<Void>> listener) {
    listeners.add(listener);
  }

  /** @return the connection in effect */
  public Effective current() {
    return current;
  }

  /** @return whether a key is configured to seal secrets */
  public boolean canStoreSecrets() {
    return cipher != null;
  }

  /** @return reloads the stored connection and tells the listeners when its revision changed */
  public synchronized Future<Void> reload() {
    return store.load().compose(s -> {
      long before = current.revision();
      stored = s;
      Effective next;
      try {
        next = merge(s);
      } catch (IllegalStateException e) {
        // A secret that does not open (another key): the stored sides are left out, and the reason is logged
        // without any secret in it.
        LOG.log(Level.ERROR, "the stored connection cannot be used: " + e.getMessage());
        next = new Effective(configured, false, e.getMessage(), s.map(PgConnectionStore.Stored::revision).orElse(0L),
            configured.erp() != null ? "configuration" : "none", configured.crm() != null ? "configuration" : "none");
      }
      current = next;
      if (next.revision() == before) {
        // Another reload (this node's LISTEN) may have seen the change first: wait until it is applied.
        return applying;
      }
      Effective e = next;
      List<Future<Void>> applied = new ArrayList<>();
      listeners.forEach(l -> applied.add(l.apply(e)));
      applying = Future.join(applied).<Void>mapEmpty().recover(err -> Future.succeededFuture());
      return applying;
    });
  }

  private Effective merge(Optional<PgConnectionStore.Stored> s) {
    TandemConfig.Connections fromStore = s.map(x -> ConnectionDocument.connections(x.settings(), open(x)))
        .orElse(TandemConfig.Connections.none());
    return new Effective(new TandemConfig.Connections(
        configured.erp() != null ? configured.erp() : fromStore.erp(),
        configured.crm() != null ? configured.crm() : fromStore.crm(),
        // Where BC's webhooks reach this node is the node's own deployment, so it comes from its configuration.
        configured.erpNotifications()),
        s.map(PgConnectionStore.Stored::enabled).orElse(true),
        s.map(PgConnectionStore.Stored::disabledReason).orElse(null),
        s.map(PgConnectionStore.Stored::revision).orElse(0L),
        configured.erp() != null ? "configuration" : fromStore.erp() != null ? "stored" : "none",
        configured.crm() != null ? "configuration" : fromStore.crm() != null ? "stored" : "none");
  }

  private Map<String, String> open(PgConnectionStore.Stored s) {
    Map<String, String> out = new LinkedHashMap<>();
    if (s.secrets().isEmpty()) {
      return out;
    }
    if (cipher == null) {
      throw new IllegalStateException("the stored connection's secrets are sealed, but this node has no key: set "
          + SecretCipher.ENV_KEY + " or " + SecretCipher.ENV_KEY_FILE);
    }
    s.secrets().forEach((name, sealed) -> {
      SecretCipher opener = cipher.forKey(sealed.keyId());
      if (opener == null) {
        throw new IllegalStateException("secret " + name + " was sealed with key " + sealed.keyId()
            + ", this node has key " + cipher.keyId() + (cipher.previousKeyId() == null ? ""
                : " and previous key " + cipher.previousKeyId()) + " (was the key rotated? start the node with the "
            + "new key in " + SecretCipher.ENV_KEY + " and the old one in " + SecretCipher.ENV_PREVIOUS_KEY + ")");
      }
      out.put(name, opener.open(name, sealed.sealed()));
    });
    return out;
  }

  /** @return the names of the secrets stored */
  public java.util.Set<String> storedSecretNames() {
    return stored.map(s -> s.secrets().keySet()).orElse(java.util.Set.of());
  }

  /** @return the stored settings (no secrets), or an empty object */
  public JsonObject storedSettings() {
    return stored.map(s -> s.settings().copy()).orElse(new JsonObject());
  }

  /**
   * Parses, validates and stores a connection (PUT), or the stored one patched (PATCH).
   *
   * @param body the request body
   * @param patch whether the body is a merge patch of the stored settings
   * @return the new revision
   */
  public Future<Long> save(JsonObject body, boolean patch) {
    JsonObject doc = body;
    if (patch) {
      JsonObject base = storedSettings();
      stored.ifPresent(s -> base.put("enabled", s.enabled()).put("disabledReason", s.disabledReason()));
      doc = ConnectionDocument.mergePatch(base, body);
      if (doc.getValue("disabledReason") == null) {
        doc.remove("disabledReason");
      }
    }
    ConnectionDocument.Parsed p;
    try {
      p = ConnectionDocument.parse(doc, storedSecretNames());
    } catch (ConnectionDocument.Invalid e) {
      return Future.failedFuture(new ConnectionException(400, "invalid", e.getMessage()));
    }
    if (!p.secrets().isEmpty() && cipher == null) {
      return Future.failedFuture(new ConnectionException(409, "no_secret_key", "secrets cannot be stored: this node has no "
          + "secret key; set " + SecretCipher.ENV_KEY + " or " + SecretCipher.ENV_KEY_FILE + " on every node"));
    }
    Map<String, byte[]> sealed = new LinkedHashMap<>();
    p.secrets().forEach((name, value) -> sealed.put(name, cipher.seal(name, value)));
    return store.save(p.settings(), p.enabled(), p.disabledReason(), sealed, cipher == null ? "" : cipher.keyId(),
            ConnectionDocument.secretNames(p.settings()))
        .compose(rev -> reload().map(rev));
  }

  /**
   * @param settings candidate settings
   * @param secrets candidate secrets (clear, in memory only)
   * @return the connectors' settings they would give, with the stored secrets for those not given
   */
  public TandemConfig.Connections candidate(JsonObject settings, Map<String, String> secrets) {
    Map<String, String> all = new LinkedHashMap<>(stored.map(this::open).orElse(Map.of()));
    all.putAll(secrets);
    return ConnectionDocument.connections(settings, all);
  }

  /** @return the opened availability key, or null */
  public String availabilityKey() {
    return stored.map(this::open).map(m -> m.get(ConnectionDocument.AVAILABILITY_KEY)).orElse(null);
  }

  /**
   * The connection as {@code GET /api/v1/connection} shows it: the settings, each secret as set or not with when it
   * changed (never its value), the switch, where each side comes from and the last checks.
   *
   * @param checks the last check results
   * @return the document
   */
  public JsonObject describe(JsonArray checks) {
    Effective e = current;
    JsonObject s = storedSettings();
    Map<String, PgConnectionStore.Sealed> secrets = stored.map(PgConnectionStore.Stored::secrets).orElse(Map.of());
    JsonObject erp = s.getJsonObject("erp");
    if (erp != null) {
      String name = "bc-online".equals(erp.getString("profile")) ? ConnectionDocument.ERP_CLIENT_SECRET
          : ConnectionDocument.ERP_ACCESS_KEY;
      erp.put(name.substring("erp.".length()), status(secrets.get(name)));
    }
    JsonObject crm = s.getJsonObject("crm");
    if (crm != null) {
      for (Object o : crm.getJsonArray("applicationUsers", new JsonArray())) {
        JsonObject u = (JsonObject) o;
        u.put("clientSecret", status(secrets.get(ConnectionDocument.crmSecret(u.getString("clientId")))));
      }
    }
    JsonObject av = s.getJsonObject("availability");
    if (av != null) {
      av.put("accessKey", status(secrets.get(ConnectionDocument.AVAILABILITY_KEY)));
    }
    s.put("enabled", e.enabled()).put("disabledReason", e.disabledReason())
        .put("connected", e.connected())
        .put("revision", e.revision())
        .put("updatedAt", stored.map(x -> x.updatedAt().toString()).orElse(null))
        .put("source", new JsonObject().put("erp", e.erpSource()).put("crm", e.crmSource()))
        .put("secretKey", cipher == null ? null : new JsonObject().put("keyId", cipher.keyId()))
        .put("checks", checks)
        .put("solution", solution(checks));
    if (e.erpSource().equals("configuration")) {
      s.put("erp", new JsonObject().put("profile", e.connections().erp().profile().id())
          .put("url", e.connections().erp().serviceRoot()).put("company", e.connections().erp().company())
          .put("source", "configuration"));
    }
    if (e.crmSource().equals("configuration")) {
      s.put("crm", new JsonObject().put("url", e.connections().crm().apiUrl())
          .put("tokenUrl", e.connections().crm().tokenUrl()).put("source", "configuration"));
    }
    return s;
  }

  /** @return the imported solution as the last {@code crm.solution} check (or the guide's import) found it */
  private static JsonObject solution(JsonArray checks) {
    for (Object o : checks) {
      JsonObject c = (JsonObject) o;
      if ("crm.solution".equals(c.getString("name"))) {
        JsonObject d = c.getJsonObject("detail");
        return Boolean.TRUE.equals(c.getBoolean("ok")) && d != null
            ? d.copy().put("checkedAt", c.getString("checkedAt")) : null;
      }
    }
    return null;
  }

  private static JsonObject status(PgConnectionStore.Sealed s) {
    return new JsonObject().put("set", s != null).put("changedAt", s == null ? null : s.changedAt().toString());
  }
}
