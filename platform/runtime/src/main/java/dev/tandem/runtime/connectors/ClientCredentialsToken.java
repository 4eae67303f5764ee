package dev.tandem.runtime.connectors;

import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

/**
 * One client's OAuth 2.0 client-credentials token (Entra ID for Dataverse and Business Central online): cached
 * until shortly before it expires, one token request at a time, and classified like any endpoint answer — 429
 * and 5xx retriable, a refusal permanent with what to check.
 */
public final class ClientCredentialsToken {

  private final WebClient web;
  private final String tokenUrl;
  private final String clientId;
  private final String secret;
  private final String scope;
  private final long timeoutMs;
  private final String endpoint;
  private final String refusedBy;
  private final String remedy;
  private String token;
  private long refreshAtNanos;
  private Future<String> inFlight;

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
    token = null;
  }

  /**
   * @param stage the stage a failure is tagged with
   * @return the cached token, or a new one when it is missing or close to expiry
   */
  public Future<String> get(Stage stage) {
    if (token != null && System.nanoTime() < refreshAtNanos) {
      return Future.succeededFuture(token);
    }
    if (inFlight != null) {
      return inFlight;
    }
    inFlight = request(web, tokenUrl, clientId, secret, scope, timeoutMs).transform(ar -> {
      inFlight = null;
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
      token = t.getString("access_token");
      refreshAtNanos = System.nanoTime() + (lifetime - margin) * 1_000_000_000L;
      return Future.succeededFuture(token);
    });
    return inFlight;
  }
}
