package dev.tandem.runtime.connectors.crm;

import dev.tandem.runtime.connectors.EndpointBudget;
import java.util.List;
import java.util.Objects;

/**
 * Where and how to reach a Dataverse environment.
 *
 * @param apiUrl Web API root, e.g. {@code https://contoso.crm.dynamics.com/api/data/v9.2}
 * @param tokenUrl OAuth 2.0 token endpoint, e.g. {@code https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token}
 * @param clientId application (client) id of the integration user
 * @param clientSecret its secret
 * @param scope token scope, e.g. {@code https://contoso.crm.dynamics.com/.default}; null for the organization's own,
 *     {@code <scheme://host of apiUrl>/.default} ({@link #tokenScope()})
 * @param pageSize rows per page ({@code odata.maxpagesize}, at most 5000)
 * @param maxConcurrency requests in flight at most (Dataverse allows 52 per user)
 * @param initialConcurrency requests in flight to start with; grows while nothing is throttled
 * @param maxRetries retries of one request on 429, 5xx and I/O failures
 * @param batchSize operations per $batch or *Multiple request (at most 1000)
 * @param timeoutMs per-request timeout
 * @param limits service protection per application user (its concurrency is {@code maxConcurrency})
 * @param moreClients further application users (client id and secret): the work spreads over all of them
 */
public record DataverseSettings(String apiUrl, String tokenUrl, String clientId, String clientSecret, String scope,
    int pageSize, int maxConcurrency, int initialConcurrency, int maxRetries, int batchSize, long timeoutMs,
    EndpointBudget.Limits limits, List<Credential> moreClients) {

  /**
   * Another application user's OAuth client.
   *
   * @param clientId client id
   * @param clientSecret secret
   */
  public record Credential(String clientId, String clientSecret) {
    /** Validates. */
    public Credential {
      Objects.requireNonNull(clientId, "clientId");
      Objects.requireNonNull(clientSecret, "clientSecret");
    }

    /** The secret never shows. */
    @Override
    public String toString() {
      return "Credential[clientId=" + clientId + ", clientSecret=***]";
    }
  }

  /** Dataverse's per-user limit of concurrent requests. */
  public static final int DATAVERSE_CONCURRENCY_LIMIT = 52;

  /** Validates. */
  public DataverseSettings {
    Objects.requireNonNull(apiUrl, "apiUrl");
    Objects.requireNonNull(tokenUrl, "tokenUrl");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    apiUrl = apiUrl.replaceAll("/+$", "");
    if (pageSize < 1 || pageSize > 5000) {
      throw new IllegalArgumentException("CRM page size must be 1..5000, got " + pageSize);
    }
    if (maxConcurrency < 1 || maxConcurrency > DATAVERSE_CONCURRENCY_LIMIT) {
      throw new IllegalArgumentException("CRM concurrency must be 1.." + DATAVERSE_CONCURRENCY_LIMIT
          + " (Dataverse's per-user limit), got " + maxConcurrency);
    }
    if (batchSize < 1 || batchSize > 1000) {
      throw new IllegalArgumentException("CRM batch size must be 1..1000, got " + batchSize);
    }
    initialConcurrency = Math.max(1, Math.min(initialConcurrency, maxConcurrency));
    limits = (limits == null ? EndpointBudget.Limits.dataverse() : limits).withConcurrency(maxConcurrency);
    moreClients = moreClients == null ? List.of() : List.copyOf(moreClients);
  }

  /** Settings with Dataverse's service-protection limits and one application user. */
  public DataverseSettings(String apiUrl, String tokenUrl, String clientId, String clientSecret, String scope,
      int pageSize, int maxConcurrency, int initialConcurrency, int maxRetries, int batchSize, long timeoutMs) {
    this(apiUrl, tokenUrl, clientId, clientSecret, scope, pageSize, maxConcurrency, initialConcurrency, maxRetries,
        batchSize, timeoutMs, null, null);
  }

  /**
   * @param l service-protection limits per application user (e.g. {@code Limits.dataverse().scaled(0.1)} against
   *     a simulator on a time scale)
   * @return a copy with those limits
   */
  public DataverseSettings withLimits(EndpointBudget.Limits l) {
    return new DataverseSettings(apiUrl, tokenUrl, clientId, clientSecret, scope, pageSize, maxConcurrency,
        initialConcurrency, maxRetries, batchSize, timeoutMs, l, moreClients);
  }

  /**
   * @param more further application users
   * @return a copy that spreads its work over them too
   */
  public DataverseSettings withMoreClients(List<Credential> more) {
    return new DataverseSettings(apiUrl, tokenUrl, clientId, clientSecret, scope, pageSize, maxConcurrency,
        initialConcurrency, maxRetries, batchSize, timeoutMs, limits, more);
  }

  /**
   * Entra ID's client credentials need a scope, {@code <resource>/.default}, and Dataverse takes only tokens issued
   * for its own organization ("Acquire tokens to call a web API using a daemon application").
   *
   * @return the scope to ask tokens for: the configured one, else the organization's URL + {@code /.default}
   */
  public String tokenScope() {
    return scope != null && !scope.isBlank() ? scope : DataverseClient.defaultScope(apiUrl);
  }

  /** @return every application user's client, the main one first */
  public List<Credential> clients() {
    List<Credential> all = new java.util.ArrayList<>();
    all.add(new Credential(clientId, clientSecret));
    all.addAll(moreClients);
    return all;
  }

  /**
   * @param apiUrl Web API root
   * @param tokenUrl token endpoint
   * @param clientId client id
   * @param clientSecret secret
   * @param scope scope
   * @return settings with the defaults: pages of 5000, up to 52 in flight starting at 8, 5 retries, batches of 1000
   */
  public static DataverseSettings of(String apiUrl, String tokenUrl, String clientId, String clientSecret,
      String scope) {
    return new DataverseSettings(apiUrl, tokenUrl, clientId, clientSecret, scope, 5000,
        DATAVERSE_CONCURRENCY_LIMIT, 8, 5, 1000, 120_000);
  }

  /** The client secret stays out of logs and messages. */
  @Override
  public String toString() {
    return "DataverseSettings[apiUrl=" + apiUrl + ", tokenUrl=" + tokenUrl + ", clientId=" + clientId
        + ", clientSecret=***, scope=" + scope + ", pageSize=" + pageSize + ", maxConcurrency=" + maxConcurrency
        + ", initialConcurrency=" + initialConcurrency + ", maxRetries=" + maxRetries + ", batchSize=" + batchSize
        + ", timeoutMs=" + timeoutMs + "]";
  }
}
