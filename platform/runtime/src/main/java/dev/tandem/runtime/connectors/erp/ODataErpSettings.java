package dev.tandem.runtime.connectors.erp;

import dev.tandem.runtime.connectors.EndpointBudget;
import java.util.Locale;
import java.util.Objects;

/**
 * Where and how to reach the ERP's OData v4 page web services.
 *
 * @param serviceRoot the OData root: {@code https://erp:7048/BC/ODataV4} on premises,
 *     {@code https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/ODataV4} online
 * @param company the company name, e.g. {@code CRONUS International Ltd.}
 * @param user web-service user name ({@code nav}); on {@code bc-online} the client id, for messages
 * @param accessKey the user's web service access key (Basic authentication password; {@code nav} only)
 * @param pageSize rows per page ({@code odata.maxpagesize})
 * @param batchSize operations per JSON {@code $batch} (Business Central online allows 100)
 * @param maxConcurrency requests in flight at most
 * @param maxRetries retries of one request on 429, 5xx and I/O failures
 * @param timeoutMs per-request timeout
 * @param profile which generation of the ERP: {@code nav} (Basic) or {@code bc-online} (OAuth)
 * @param oauth the Entra application's client credentials ({@code bc-online}), or null
 * @param limits request limits per user ({@link EndpointBudget.Limits#businessCentral()} unless told otherwise;
 *     its concurrency is {@code maxConcurrency}): the node's budget of the user, shared by every job
 */
public record ODataErpSettings(String serviceRoot, String company, String user, String accessKey, int pageSize,
    int batchSize, int maxConcurrency, int maxRetries, long timeoutMs, Profile profile, OAuth oauth,
    EndpointBudget.Limits limits) {

  /** Business Central online's API host. */
  public static final String ONLINE_HOST = "https://api.businesscentral.dynamics.com";

  /** The scope a client-credentials token for Business Central online is asked for. */
  public static final String ONLINE_SCOPE = ONLINE_HOST + "/.default";

  /**
   * The ERP generation: what authentication it speaks and which pages it publishes.
   * {@code NAV}: Dynamics NAV / BC on premises, Basic with a web service access key, legacy {@code SalesPrice}.
   * {@code BC_ONLINE}: Business Central online, OAuth 2.0 client credentials, price lists instead of
   * {@code SalesPrice}.
   */
  public enum Profile {
    NAV("nav"), BC_ONLINE("bc-online");

    private final String id;

    Profile(String id) {
      this.id = id;
    }

    /** @return {@code nav} or {@code bc-online} */
    public String id() {
      return id;
    }

    /**
     * @param id {@code nav} or {@code bc-online} (any case)
     * @return the profile
     */
    public static Profile of(String id) {
      for (Profile p : values()) {
        if (p.id.equals(id.trim().toLowerCase(Locale.ROOT)) || p.name().equalsIgnoreCase(id.trim())) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown ERP profile '" + id + "': use nav or bc-online");
    }
  }

  /**
   * OAuth 2.0 client credentials of the Entra application registered in Business Central.
   *
   * @param tokenUrl the token endpoint, e.g. {@code https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token}
   * @param clientId application (client) id
   * @param clientSecret its secret
   * @param scope the scope asked for, {@link #ONLINE_SCOPE} by default
   */
  public record OAuth(String tokenUrl, String clientId, String clientSecret, String scope) {

    /** Validates; a missing scope becomes Business Central's. */
    public OAuth {
      Objects.requireNonNull(tokenUrl, "tokenUrl");
      Objects.requireNonNull(clientId, "clientId");
      Objects.requireNonNull(clientSecret, "clientSecret");
      scope = scope == null || scope.isBlank() ? ONLINE_SCOPE : scope;
    }

    /** The secret stays out of logs and messages. */
    @Override
    public String toString() {
      return "OAuth[tokenUrl=" + tokenUrl + ", clientId=" + clientId + ", clientSecret=***, scope=" + scope + "]";
    }

    /**
     * @param tenant Entra tenant id or domain
     * @return Entra ID's v2 token endpoint of the tenant
     */
    public static String tokenUrlOf(String tenant) {
      return "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token";
    }
  }

  /** Validates. */
  public ODataErpSettings {
    Objects.requireNonNull(serviceRoot, "serviceRoot");
    Objects.requireNonNull(company, "company");
    Objects.requireNonNull(profile, "profile");
    serviceRoot = serviceRoot.replaceAll("/+$", "");
    if (profile == Profile.BC_ONLINE) {
      if (oauth == null) {
        throw new IllegalArgumentException("the bc-online ERP profile needs OAuth client credentials (Business "
            + "Central online accepts no web service access keys)");
      }
      user = user == null ? oauth.clientId() : user;
      accessKey = accessKey == null ? "" : accessKey;
    } else {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(accessKey, "accessKey");
    }
    if (pageSize < 1) {
      throw new IllegalArgumentException("ERP page size must be positive, got " + pageSize);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("ERP batch size must be positive, got " + batchSize);
    }
    if (maxConcurrency < 1) {
      throw new IllegalArgumentException("ERP concurrency must be positive, got " + maxConcurrency);
    }
    limits = (limits == null ? EndpointBudget.Limits.businessCentral() : limits).withConcurrency(maxConcurrency);
  }

  /** Settings with Business Central's request limits. */
  public ODataErpSettings(String serviceRoot, String company, String user, String accessKey, int pageSize,
      int batchSize, int maxConcurrency, int maxRetries, long timeoutMs, Profile profile, OAuth oauth) {
    this(serviceRoot, company, user, accessKey, pageSize, batchSize, maxConcurrency, maxRetries, timeoutMs, profile,
        oauth, null);
  }

  /** The {@code nav} profile: Basic authentication with a web service access key. */
  public ODataErpSettings(String serviceRoot, String company, String user, String accessKey, int pageSize,
      int batchSize, int maxConcurrency, int maxRetries, long timeoutMs) {
    this(serviceRoot, company, user, accessKey, pageSize, batchSize, maxConcurrency, maxRetries, timeoutMs,
        Profile.NAV, null);
  }

  /**
   * Requests in flight per ERP user by default: Business Central processes 5 at once and queues further ones (up
   * to 100 connections, then 429). With exactly 5 in flight each slot idles for a round trip and the client's
   * handling of the answer before its next request arrives (a 40 ms latency against a 135 ms read: a quarter of
   * the time); 3 more waiting in BC's queue keep all 5 slots busy, and stay far below the queue's 95.
   */
  public static final int IN_FLIGHT = 8;

  /**
   * @param serviceRoot OData root
   * @param company company name
   * @param user user
   * @param accessKey access key
   * @return {@code nav} settings with pages of 1000, batches of 100, {@link #IN_FLIGHT} requests in
   *     flight (Business Central's 5 processed at once, 3 queued), 5 retries, 2 minute timeout
   */
  public static ODataErpSettings of(String serviceRoot, String company, String user, String accessKey) {
    return new ODataErpSettings(serviceRoot, company, user, accessKey, 1000, 100, IN_FLIGHT, 5, 120_000);
  }

  /**
   * @param serviceRoot OData root, e.g. from {@link #onlineServiceRoot}
   * @param company company name
   * @param oauth client credentials
   * @return {@code bc-online} settings with the same defaults as {@link #of}
   */
  public static ODataErpSettings online(String serviceRoot, String company, OAuth oauth) {
    return new ODataErpSettings(serviceRoot, company, null, null, 1000, 100, IN_FLIGHT, 5, 120_000, Profile.BC_ONLINE,
        oauth);
  }

  /**
   * @param tenant Entra tenant id or domain
   * @param environment BC environment name, e.g. {@code Production}
   * @return {@code https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/ODataV4}
   */
  public static String onlineServiceRoot(String tenant, String environment) {
    return ONLINE_HOST + "/v2.0/" + tenant + "/" + environment + "/ODataV4";
  }

  /**
   * @param pageSize rows per page
   * @param batchSize operations per batch
   * @param maxConcurrency requests in flight
   * @return a copy with other sizes
   */
  public ODataErpSettings withSizes(int pageSize, int batchSize, int maxConcurrency) {
    return new ODataErpSettings(serviceRoot, company, user, accessKey, pageSize, batchSize, maxConcurrency,
        maxRetries, timeoutMs, profile, oauth, limits);
  }

  /**
   * @param l request limits per user (e.g. {@code Limits.businessCentral().scaled(0.1)} against a simulator on a
   *     time scale)
   * @return a copy with those limits
   */
  public ODataErpSettings withLimits(EndpointBudget.Limits l) {
    return new ODataErpSettings(serviceRoot, company, user, accessKey, pageSize, batchSize, maxConcurrency,
        maxRetries, timeoutMs, profile, oauth, l);
  }

  /**
   * @param retries retries of one request
   * @param timeout per-request timeout in milliseconds
   * @return a copy with other retry and timeout settings
   */
  public ODataErpSettings withTimeouts(int retries, long timeout) {
    return new ODataErpSettings(serviceRoot, company, user, accessKey, pageSize, batchSize, maxConcurrency,
        retries, timeout, profile, oauth, limits);
  }

  /**
   * Another web service user, e.g. the availability user. On {@code bc-online} there are no per-user access
   * keys: the application's credentials stay.
   *
   * @param otherUser user name
   * @param otherKey the user's access key
   * @return a copy that authenticates as that user ({@code nav}), or this ({@code bc-online})
   */
  public ODataErpSettings withUser(String otherUser, String otherKey) {
    if (profile == Profile.BC_ONLINE) {
      return this;
    }
    return new ODataErpSettings(serviceRoot, company, otherUser, otherKey == null ? "" : otherKey, pageSize,
        batchSize, maxConcurrency, maxRetries, timeoutMs, profile, oauth, limits);
  }

  /** The access key and client secret stay out of logs and messages. */
  @Override
  public String toString() {
    return "ODataErpSettings[serviceRoot=" + serviceRoot + ", company=" + company + ", user=" + user
        + ", accessKey=***, pageSize=" + pageSize + ", batchSize=" + batchSize + ", maxConcurrency="
        + maxConcurrency + ", maxRetries=" + maxRetries + ", timeoutMs=" + timeoutMs + ", profile=" + profile.id()
        + ", oauth=" + oauth + "]";
  }
}
