package dev.tandem.runtime.connectors;

import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

/**
 * One client's OAuth 2.0 client-credentials token (Entra ID for Dataverse and Business Central online): cached
 * until shortly before it expires, one token request at a time, and classified like any endpoint answer — 429
 * and 5xx retriable, a refusal permanent with what to check. Created with the node's Vert.x, the token is one per
 * token endpoint, client and scope on the node, shared by every verticle's client: N verticles ask for it once,
 * not N times.
 */
public final class ClientCredentialsToken {

  /** The cached token of one client on one node; guarded by itself, used from any verticle's context. */
  private static final class State implements Shareable {
    private String token;
    private long refreshAtNanos;
    private Future<String> inFlight;
  }

  private final WebClient web;
  private final String tokenUrl;
  private final String clientId;
  private final String secret;
  private final String scope;
  private final long timeoutMs;
  private final String endpoint;
  private final String refusedBy;
  private final String remedy;
  private final State state;

  /**
   * @param web the client
   * @param tokenUrl the token endpoint
   * @param clientId the client id
   * @param secret its secret
   * @param scope the scope, {@code <resource>/.default}
   * @param timeoutMs request timeout
   * @param endpoint how failures name the endpoint, e.g. {@code CRM token endpoint}
   * @param refusedBy how a refusal names it (may add its URL)
   * @param remedy what to check when the client is refused
   */
  public ClientCredentialsToken(WebClient web, String tokenUrl, String clientId, String secret, String scope,
      long timeoutMs, String endpoint, String refusedBy, String remedy) {
    this(null, web, tokenUrl, clientId, secret, scope, timeoutMs, endpoint, refusedBy, remedy);
  }

  /**
   * A token shared by every client of the node with the same token endpoint, client, secret and scope.
   *
   * @param vertx the node's Vert.x (null: a token of this object's own)
   * @param web the client
   * @param tokenUrl the token endpoint
   * @param clientId the client id
   * @param secret its secret
   * @param scope the scope, {@code <resource>/.default}
   * @param timeoutMs request timeout
   * @param endpoint how failures name the endpoint, e.g. {@code CRM token endpoint}
   * @param refusedBy how a refusal names it (may add its URL)
   * @param remedy what to check when the client is refused
   */
  public ClientCredentialsToken(Vertx vertx, WebClient web, String tokenUrl, String clientId, String secret,
      String scope, long timeoutMs, String endpoint, String refusedBy, String remedy) {
    this.state = vertx == null ? new State() : shared(vertx, tokenUrl + " " + clientId + " " + scope + " "
        + fingerprint(secret));
    this.web = web;
    this.tokenUrl = tokenUrl;
    this.clientId = clientId;
    this.secret = secret;
    this.scope = scope;
    this.timeoutMs = timeoutMs;
    this.endpoint = endpoint;
    this.refusedBy = refusedBy;
    this.remedy = remedy;
  }

  /**
   * One client-credentials request, uncached (connection checks and the set-up guide's administrator account).
   *
   * @param web the client
   * @param tokenUrl the token endpoint
   * @param clientId the client id
   * @param secret its secret
   * @param scope the scope, or null to send none
   * @param timeoutMs request timeout
   * @return the token endpoint's answer, whatever its status
   */
  public static Future<HttpResponse<Buffer>> request(WebClient web, String tokenUrl, String clientId, String secret,
      String scope, long timeoutMs) {
    MultiMap form = MultiMap.caseInsensitiveMultiMap()
        .add("grant_type", "client_credentials")
        .add("client_id", clientId == null ? "" : clientId)
        .add("client_secret", secret == null ? "" : secret);
    if (scope != null) {
      form.add("scope", scope);
    }
    return web.postAbs(tokenUrl).timeout(timeoutMs).sendForm(form);
  }

  /** Forgets the cached token: the endpoint refused it (revoked, or expired early), so the next call asks anew. */
  public void invalidate() {
    synchronized (state) {
      state.token = null;
    }
  }

  /**
   * @param stage the stage a failure is tagged with
   * @return the cached token, or a new one when it is missing or close to expiry
   */
  public Future<String> get(Stage stage) {
    Future<String> asked;
    synchronized (state) {
      if (state.token != null && System.nanoTime() < state.refreshAtNanos) {
        return Future.succeededFuture(state.token);
      }
      if (state.inFlight == null) {
        Future<String> f = fetch(stage);
        // A request that failed at once (a malformed URL) has run its callback already: nothing to wait for.
        state.inFlight = f.isComplete() ? null : f;
        return f;
      }
      asked = state.inFlight;
    }
    // Another verticle asked first: its answer comes on its context, the caller's continuation must run on its own.
    Context here = Vertx.currentContext();
    if (here == null) {
      return asked;
    }
    Promise<String> relay = Promise.promise();
    asked.onComplete(ar -> here.runOnContext(v -> relay.handle(ar)));
    return relay.future();
  }

  private Future<String> fetch(Stage stage) {
    return request(web, tokenUrl, clientId, secret, scope, timeoutMs).transform(ar -> {
      synchronized (state) {
        state.inFlight = null;
      }
      if (ar.failed()) {
        return Future.failedFuture(HttpFailures.io(endpoint, stage, ar.cause()));
      }
      HttpResponse<Buffer> r = ar.result();
      if (r.statusCode() != 200) {
        String why = r.bodyAsString();
        return Future.failedFuture(r.statusCode() >= 500 || r.statusCode() == 429
            ? TandemException.retriable(stage, endpoint + " answered " + r.statusCode(),
                HttpFailures.retryAfter(r.headers()))
            : TandemException.permanent(stage, refusedBy + " refused client " + clientId + " (" + r.statusCode()
                + "): " + HttpFailures.errorMessage(why) + " — " + remedy));
      }
      JsonObject t = r.bodyAsJsonObject();
      long lifetime = t.getLong("expires_in", 3599L);
      // Refresh ahead of expiry: a tenth of the lifetime, at most five minutes, so no request carries a token
      // that expires on its way.
      long margin = Math.min(300, Math.max(1, lifetime / 10));
      String fresh = t.getString("access_token");
      synchronized (state) {
        state.token = fresh;
        state.refreshAtNanos = System.nanoTime() + (lifetime - margin) * 1_000_000_000L;
      }
      return Future.succeededFuture(fresh);
    });
  }

  private static State shared(Vertx vertx, String key) {
    LocalMap<String, State> map = vertx.sharedData().getLocalMap("tandem.client-tokens");
    State created = new State();
    State raced = map.putIfAbsent(key, created);
    return raced != null ? raced : created;
  }

  /** @return a digest of the secret: a changed secret is another token, and the key names no secret */
  private static String fingerprint(String secret) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(String.valueOf(secret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d, 0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
