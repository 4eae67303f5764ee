package dev.tandem.runtime.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * The runtime's configuration: a JSON file (optional) overlaid by environment variables. Every problem is
 * collected and reported at once, naming the setting and where it came from.
 *
 * @param database where PostgreSQL is
 * @param httpHost admin HTTP bind address
 * @param httpPort admin HTTP port
 * @param adminToken bearer token for {@code /api/v1}
 * @param pluginsDir directory of plugin jars and zips
 * @param nodeId this node's name in job leases
 * @param jobs job queue and dispatcher settings
 * @param schedules scheduler settings
 * @param plugins per-plugin settings, keyed by plugin id
 * @param connections where the ERP and the CRM are
 * @param http the admin server's limits and TLS
 */
public record TandemConfig(
    DatabaseSettings database,
    String httpHost,
    int httpPort,
    String adminToken,
    Path pluginsDir,
    String nodeId,
    JobSettings jobs,
    ScheduleSettings schedules,
    JsonObject plugins,
    Connections connections,
    HttpSettings http) {

  /**
   * A configuration with the admin server's default limits and no TLS.
   *
   * @param database where PostgreSQL is
   * @param httpHost admin HTTP bind address
   * @param httpPort admin HTTP port
   * @param adminToken bearer token for {@code /api/v1}
   * @param pluginsDir directory of plugin jars and zips
   * @param nodeId this node's name in job leases
   * @param jobs job queue and dispatcher settings
   * @param schedules scheduler settings
   * @param plugins per-plugin settings, keyed by plugin id
   * @param connections where the ERP and the CRM are
   */
  public TandemConfig(DatabaseSettings database, String httpHost, int httpPort, String adminToken, Path pluginsDir,
      String nodeId, JobSettings jobs, ScheduleSettings schedules, JsonObject plugins, Connections connections) {
    this(database, httpHost, httpPort, adminToken, pluginsDir, nodeId, jobs, schedules, plugins, connections,
        HttpSettings.defaults());
  }

  /**
   * The admin server's limits and TLS. An anonymous client must not be able to hold the server: a connection on
   * which nothing moves for {@code idleTimeoutMs} (a head or body that stopped half-way, an idle keep-alive) is
   * closed; a request whose body has not arrived completely {@code requestTimeoutMs} after its head loses its
   * connection even when it trickles; beyond {@code maxConnections} connections new requests are answered 503.
   *
   * @param idleTimeoutMs a connection with no traffic either way for this long is closed
   * @param requestTimeoutMs a request must be read completely within this after its head arrived
   * @param maxConnections open connections with a request at most
   * @param maxEventStreams server-sent-event streams at most
   * @param tlsCertFile PEM certificate chain of the admin API, or null for plain HTTP
   * @param tlsKeyFile PEM private key (PKCS#8 or PKCS#1) of the certificate, or null
   */
  public record HttpSettings(long idleTimeoutMs, long requestTimeoutMs, int maxConnections, int maxEventStreams,
      Path tlsCertFile, Path tlsKeyFile) {

    /** @return 30 s idle, 30 s for a request, 1,000 connections, 32 event streams, no TLS */
    public static HttpSettings defaults() {
      return new HttpSettings(30_000, 30_000, 1000, 32, null, null);
    }

    /** @return whether the admin API speaks HTTPS */
    public boolean tls() {
      return tlsCertFile != null;
    }

    /** @return a copy with other timeouts (tests) */
    public HttpSettings withTimeouts(long idle, long request) {
      return new HttpSettings(idle, request, maxConnections, maxEventStreams, tlsCertFile, tlsKeyFile);
    }

    /** @return a copy with other connection and event stream limits (tests) */
    public HttpSettings withLimits(int connections, int eventStreams) {
      return new HttpSettings(idleTimeoutMs, requestTimeoutMs, connections, eventStreams, tlsCertFile, tlsKeyFile);
    }

    /** @return a copy with TLS from these PEM files */
    public HttpSettings withTls(Path cert, Path key) {
      return new HttpSettings(idleTimeoutMs, requestTimeoutMs, maxConnections, maxEventStreams, cert, key);
    }
  }

  /**
   * Where the ERP and the CRM are; either may be absent (then mappings run only through plugin verticles).
   *
   * @param erpNotifications Business Central online webhooks (a notification URL, or none)
   * @param erp the ERP's OData web services, or null
   * @param crm the CRM's Web API, or null
   */
  public record Connections(ODataErpSettings erp, DataverseSettings crm, ErpNotificationSettings erpNotifications) {
    /**
     * @param erp the ERP
     * @param crm the CRM
     */
    public Connections(ODataErpSettings erp, DataverseSettings crm) {
      this(erp, crm, ErpNotificationSettings.NONE);
    }

    /** @return no connections */
    public static Connections none() {
      return new Connections(null, null);
    }
  }

  /** Environment variable: PostgreSQL URL. */
  public static final String ENV_DB_URL = "TANDEM_DB_URL";
  /** Environment variable: schema for Tandem's tables. */
  public static final String ENV_DB_SCHEMA = "TANDEM_DB_SCHEMA";
  /** Environment variable: admin HTTP bind address. */
  public static final String ENV_HTTP_HOST = "TANDEM_HTTP_HOST";
  /** Environment variable: PEM certificate (chain) of the admin API; with the key, the API speaks HTTPS. */
  public static final String ENV_HTTP_TLS_CERT = "TANDEM_HTTP_TLS_CERT";
  /** Environment variable: PEM private key of the admin API's certificate. */
  public static final String ENV_HTTP_TLS_KEY = "TANDEM_HTTP_TLS_KEY";
  /** Environment variable: admin HTTP port. */
  public static final String ENV_HTTP_PORT = "TANDEM_HTTP_PORT";
  /** Environment variable: admin bearer token. */
  public static final String ENV_ADMIN_TOKEN = "TANDEM_ADMIN_TOKEN";
  /** Environment variable: plugins directory. */
  public static final String ENV_PLUGINS_DIR = "TANDEM_PLUGINS_DIR";
  /** Environment variable: node id. */
  public static final String ENV_NODE_ID = "TANDEM_NODE_ID";

  /**
   * Job queue and dispatcher settings.
   *
   * @param maxConcurrent jobs one node runs at once
   * @param claimBatch jobs claimed per query
   * @param pollIntervalMs how often an idle dispatcher looks for due jobs
   * @param leaseMs how long a claim holds without renewal; renewed every third of it
   * @param timeoutMs how long a job may run before its reply is given up on
   * @param maxAttempts attempts before a job fails for good
   * @param retryBackoffMs first retry delay; doubles per attempt
   * @param retryBackoffMaxMs the delay's ceiling
   * @param retentionMs ended jobs older than this are deleted from the log; 0 keeps them forever
   */
  public record JobSettings(int maxConcurrent, int claimBatch, long pollIntervalMs, long leaseMs, long timeoutMs,
      int maxAttempts, long retryBackoffMs, long retryBackoffMaxMs, long retentionMs) {

    /**
     * The defaults: retries as the reference system (10 attempts) but with exponential backoff from 30 s; the log
     * keeps ended jobs for 7 days, as the reference system's "delete entries older than 7 days".
     */
    public static JobSettings defaults() {
      return new JobSettings(16, 32, 250, 60_000, 3_600_000, 10, 30_000, 600_000, 7L * 24 * 3_600_000);
    }

    /** @return a copy with another retention */
    public JobSettings withRetentionMs(long ms) {
      return new JobSettings(maxConcurrent, claimBatch, pollIntervalMs, leaseMs, timeoutMs, maxAttempts,
          retryBackoffMs, retryBackoffMaxMs, ms);
    }
  }

  /**
   * Scheduler settings.
   *
   * @param enabled whether this node creates scheduled jobs
   * @param tickMs how often due schedules are looked for
   * @param inactivityTimeoutMs a schedule whose runs changed nothing for this long goes on hold; 0 never
   * @param erpWakeCheckMs how often on-hold schedules look for ERP-side changes that wake them
   * @param erpDeletionScanMs how often a mapping's runs read every ERP key to find records deleted in the ERP
   *     (0: every run); the runs in between cost no ERP key read
   */
  public record ScheduleSettings(boolean enabled, long tickMs, long inactivityTimeoutMs, long erpWakeCheckMs,
      long erpDeletionScanMs) {

    /** The default of {@link #erpDeletionScanMs}: ten minutes. */
    public static final long DEFAULT_ERP_DELETION_SCAN_MS = 600_000;

    /**
     * Settings with the default ERP deletion scan interval.
     *
     * @param enabled whether this node creates scheduled jobs
     * @param tickMs how often due schedules are looked for
     * @param inactivityTimeoutMs on hold after this long without changes; 0 never
     * @param erpWakeCheckMs how often on-hold schedules look for ERP-side changes
     */
    public ScheduleSettings(boolean enabled, long tickMs, long inactivityTimeoutMs, long erpWakeCheckMs) {
      this(enabled, tickMs, inactivityTimeoutMs, erpWakeCheckMs, DEFAULT_ERP_DELETION_SCAN_MS);
    }

    /** @return on, every second, on hold after an hour without changes, woken within 30 s of an ERP change */
    public static ScheduleSettings defaults() {
      return new ScheduleSettings(true, 1000, 3_600_000, 30_000);
    }
  }

  /**
   * Loads the configuration.
   *
   * @param file a JSON file, or {@code null} for environment variables only
   * @param env the environment (System.getenv() in production)
   * @return the configuration
   * @throws ConfigException listing every problem
   */
  public static TandemConfig load(Path file, Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    JsonObject json = new JsonObject();
    String source = "configuration";
    if (file != null) {
      source = file.toString();
      try {
        json = new JsonObject(Files.readString(file));
      } catch (IOException e) {
        throw new ConfigException(List.of("cannot read configuration file " + file + ": " + e));
      } catch (DecodeException e) {
        throw new ConfigException(List.of("configuration file " + file + " is not valid JSON: " + e.getMessage()));
      }
    }
    Reader r = new Reader(json, env, source, problems);

    DatabaseSettings db = null;
    String url = r.string(ENV_DB_URL, "database.url", null);
    String schema = r.string(ENV_DB_SCHEMA, "database.schema", null);
    int pool = r.integer(null, "database.poolSize", 8, 1, 200);
    if (url == null || url.isBlank()) {
      problems.add("database URL is missing: set " + ENV_DB_URL
          + " (postgresql://user:password@host:5432/database) or database.url in " + source);
    } else {
      try {
        db = DatabaseSettings.parse(url, schema, pool, env.containsKey(ENV_DB_URL) ? ENV_DB_URL : "database.url");
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
    }
    String host = r.string(ENV_HTTP_HOST, "http.host", "0.0.0.0");
    int port = r.integer(ENV_HTTP_PORT, "http.port", 8080, 0, 65535);
    String token = r.string(ENV_ADMIN_TOKEN, "adminToken", null);
    if (token == null || token.isBlank()) {
      problems.add("admin token is missing: set " + ENV_ADMIN_TOKEN + " or adminToken in " + source
          + " (every /api/v1 call needs it as a bearer token)");
    } else if (token.length() < 16) {
      problems.add("admin token is too short (" + token.length() + " characters): use at least 16");
    }
    HttpSettings hd = HttpSettings.defaults();
    String cert = r.string(ENV_HTTP_TLS_CERT, "http.tls.certFile", null);
    String tlsKey = r.string(ENV_HTTP_TLS_KEY, "http.tls.keyFile", null);
    if ((cert == null) != (tlsKey == null)) {
      problems.add("TLS for the admin API needs both a certificate and a key: set " + ENV_HTTP_TLS_CERT + " and "
          + ENV_HTTP_TLS_KEY + " (or http.tls.certFile and http.tls.keyFile in " + source + ")");
    }
    for (String f : new String[] {cert, tlsKey}) {
      if (f != null && !Files.isReadable(Path.of(f))) {
        problems.add("TLS file " + f + " of the admin API is not readable");
      }
    }
    HttpSettings httpSettings = new HttpSettings(
        r.longValue("http.idleTimeoutMs", hd.idleTimeoutMs(), 100),
        r.longValue("http.requestTimeoutMs", hd.requestTimeoutMs(), 100),
        r.integer(null, "http.maxConnections", hd.maxConnections(), 1, 1_000_000),
        r.integer(null, "http.maxEventStreams", hd.maxEventStreams(), 0, 10_000),
        cert == null || tlsKey == null ? null : Path.of(cert),
        cert == null || tlsKey == null ? null : Path.of(tlsKey));
    String plugins = r.string(ENV_PLUGINS_DIR, "pluginsDir", "plugins");
    Path pluginsDir = Path.of(plugins);
    if (Files.exists(pluginsDir) && !Files.isDirectory(pluginsDir)) {
      problems.add("plugins directory " + pluginsDir.toAbsolutePath() + " (" + ENV_PLUGINS_DIR
          + " or pluginsDir) is not a directory");
    }
    String nodeId = r.string(ENV_NODE_ID, "node.id", defaultNodeId());

    JobSettings d = JobSettings.defaults();
    JobSettings jobs = new JobSettings(
        r.integer(null, "jobs.maxConcurrent", d.maxConcurrent(), 1, 10_000),
        r.integer(null, "jobs.claimBatch", d.claimBatch(), 1, 1_000),
        r.longValue("jobs.pollIntervalMs", d.pollIntervalMs(), 10),
        r.longValue("jobs.leaseMs", d.leaseMs(), 300),
        r.longValue("jobs.timeoutMs", d.timeoutMs(), 100),
        r.integer(null, "jobs.maxAttempts", d.maxAttempts(), 1, 1_000),
        r.longValue("jobs.retryBackoffMs", d.retryBackoffMs(), 0),
        r.longValue("jobs.retryBackoffMaxMs", d.retryBackoffMaxMs(), 0),
        r.longValue("jobs.retentionMs", d.retentionMs(), 0));
    ScheduleSettings sd = ScheduleSettings.defaults();
    ScheduleSettings schedules = new ScheduleSettings(
        r.bool("schedules.enabled", sd.enabled()),
        r.longValue("schedules.tickMs", sd.tickMs(), 10),
        r.longValue("schedules.inactivityTimeoutMs", sd.inactivityTimeoutMs(), 0),
        r.longValue("schedules.erpWakeCheckMs", sd.erpWakeCheckMs(), 100),
        r.longValue("schedules.erpDeletionScanMs", sd.erpDeletionScanMs(), 0));
    JsonObject pluginSettings = json.getValue("plugins") instanceof JsonObject o ? o : new JsonObject();
    ODataErpSettings erp = readErp(r, source, problems);
    DataverseSettings crm = null;
    String crmUrl = r.string("TANDEM_CRM_URL", "connections.crm.url", null);
    if (crmUrl != null) {
      String tokenUrl = r.string("TANDEM_CRM_TOKEN_URL", "connections.crm.tokenUrl", null);
      String clientId = r.string("TANDEM_CRM_CLIENT_ID", "connections.crm.clientId", null);
      String secret = r.string("TANDEM_CRM_CLIENT_SECRET", "connections.crm.clientSecret", null);
      String scope = r.string("TANDEM_CRM_SCOPE", "connections.crm.scope", null);
      if (tokenUrl == null || clientId == null || secret == null) {
        problems.add("the CRM connection needs a token URL, a client id and a client secret: set TANDEM_CRM_TOKEN_URL, "
            + "TANDEM_CRM_CLIENT_ID and TANDEM_CRM_CLIENT_SECRET (or connections.crm.* in " + source + ")");
      } else {
        DataverseSettings cd = DataverseSettings.of(crmUrl, tokenUrl, clientId, secret, scope);
        crm = new DataverseSettings(crmUrl, tokenUrl, clientId, secret, scope,
            r.integer(null, "connections.crm.pageSize", cd.pageSize(), 1, 5000),
            r.integer(null, "connections.crm.maxConcurrency", cd.maxConcurrency(), 1,
                DataverseSettings.DATAVERSE_CONCURRENCY_LIMIT),
            cd.initialConcurrency(), cd.maxRetries(),
            r.integer(null, "connections.crm.batchSize", cd.batchSize(), 1, 1000), cd.timeoutMs());
        // Service protection per application user: Dataverse's published limits unless told otherwise (a
        // simulator on a time scale shrinks the window and the execution budget alike).
        EndpointBudget.Limits dl = EndpointBudget.Limits.dataverse();
        crm = crm.withLimits(new EndpointBudget.Limits(crm.maxConcurrency(),
            r.integer(null, "connections.crm.serviceProtection.requests", dl.requests(), 0, 1_000_000),
            r.longValue("connections.crm.serviceProtection.executionMs", dl.executionMs(), 0),
            r.longValue("connections.crm.serviceProtection.windowMs", dl.windowMs(), 1),
            dl.remainingRequestsHeader(), dl.remainingTimeHeader(), dl.parallelismHintHeader()));
        crm = crm.withMoreClients(moreClients(env.get("TANDEM_CRM_MORE_CLIENTS"),
            json.getValue("connections") instanceof JsonObject c && c.getValue("crm") instanceof JsonObject cc
                ? cc.getValue("moreClients") : null, source, problems));
      }
    }

    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    // Business Central online webhooks: BC calls this URL (Tandem's /erp/notifications as the internet reaches it).
    ErpNotificationSettings notifications = new ErpNotificationSettings(
        r.string("TANDEM_ERP_NOTIFICATION_URL", "connections.erp.notificationUrl", null),
        r.longValue("connections.erp.subscriptionRenewBeforeMs", ErpNotificationSettings.NONE.renewBeforeMs(), 1000),
        r.longValue("connections.erp.subscriptionCheckMs", ErpNotificationSettings.NONE.checkMs(), 100));
    return new TandemConfig(db, host, port, token, pluginsDir, nodeId, jobs, schedules, pluginSettings,
        new Connections(erp, crm, notifications), httpSettings);
  }

  /** @return a copy with other admin server settings */
  public TandemConfig withHttp(HttpSettings other) {
    return new TandemConfig(database, httpHost, httpPort, adminToken, pluginsDir, nodeId, jobs, schedules, plugins,
        connections, other);
  }

  /** @return a copy binding the admin server to another address */
  public TandemConfig withHttpHost(String other) {
    return new TandemConfig(database, other, httpPort, adminToken, pluginsDir, nodeId, jobs, schedules, plugins,
        connections, http);
  }

  /** The admin token and the plugins' settings (which may hold their secrets) stay out of logs. */
  @Override
  public String toString() {
    return "TandemConfig[database=" + database + ", http=" + httpHost + ":" + httpPort
        + (http.tls() ? " (TLS)" : "") + ", adminToken=***, pluginsDir=" + pluginsDir + ", nodeId=" + nodeId
        + ", jobs=" + jobs + ", schedules=" + schedules + ", plugins=" + plugins.fieldNames()
        + ", connections=" + connections + "]";
  }

  /**
   * The ERP connection by profile: {@code nav} (URL, company, user, web service access key) or {@code bc-online}
   * (tenant and environment or URL, company, client id and secret; token URL and scope default to Entra ID's and
   * Business Central's). Without a profile, client credentials mean bc-online and an access key nav.
   */
  private static ODataErpSettings readErp(Reader r, String source, List<String> problems) {
    String profileId = r.string("TANDEM_ERP_PROFILE", "connections.erp.profile", null);
    String erpUrl = r.string("TANDEM_ERP_URL", "connections.erp.url", null);
    String tenant = r.string("TANDEM_ERP_TENANT", "connections.erp.tenant", null);
    String clientId = r.string("TANDEM_ERP_CLIENT_ID", "connections.erp.clientId", null);
    ODataErpSettings.Profile profile;
    try {
      profile = profileId != null ? ODataErpSettings.Profile.of(profileId)
          : clientId != null ? ODataErpSettings.Profile.BC_ONLINE : ODataErpSettings.Profile.NAV;
    } catch (IllegalArgumentException e) {
      problems.add(e.getMessage() + " (TANDEM_ERP_PROFILE or connections.erp.profile in " + source + ")");
      return null;
    }
    if (erpUrl == null && (profile == ODataErpSettings.Profile.NAV || tenant == null)) {
      return null;
    }
    String company = r.string("TANDEM_ERP_COMPANY", "connections.erp.company", null);
    ODataErpSettings base;
    if (profile == ODataErpSettings.Profile.BC_ONLINE) {
      String environment = r.string("TANDEM_ERP_ENVIRONMENT", "connections.erp.environment", "Production");
      String secret = r.string("TANDEM_ERP_CLIENT_SECRET", "connections.erp.clientSecret", null);
      String tokenUrl = r.string("TANDEM_ERP_TOKEN_URL", "connections.erp.tokenUrl", null);
      String scope = r.string("TANDEM_ERP_SCOPE", "connections.erp.scope", ODataErpSettings.ONLINE_SCOPE);
      if (company == null || clientId == null || secret == null || (tokenUrl == null && tenant == null)) {
        problems.add("the bc-online ERP connection needs a company, a tenant (or a token URL), a client id and a "
            + "client secret: set TANDEM_ERP_COMPANY, TANDEM_ERP_TENANT, TANDEM_ERP_CLIENT_ID and "
            + "TANDEM_ERP_CLIENT_SECRET (or connections.erp.company/tenant/clientId/clientSecret in " + source + ")");
        return null;
      }
      base = ODataErpSettings.online(erpUrl != null ? erpUrl : ODataErpSettings.onlineServiceRoot(tenant, environment),
          company, new ODataErpSettings.OAuth(tokenUrl != null ? tokenUrl : ODataErpSettings.OAuth.tokenUrlOf(tenant),
              clientId, secret, scope));
    } else {
      String user = r.string("TANDEM_ERP_USER", "connections.erp.user", null);
      String key = r.string("TANDEM_ERP_ACCESS_KEY", "connections.erp.accessKey", null);
      if (company == null || user == null || key == null) {
        problems.add("the nav ERP connection needs a company, a user and a web service access key: set "
            + "TANDEM_ERP_COMPANY, TANDEM_ERP_USER and TANDEM_ERP_ACCESS_KEY (or connections.erp.company/user/"
            + "accessKey in " + source + "); Business Central online needs TANDEM_ERP_PROFILE=bc-online and "
            + "client credentials instead");
        return null;
      }
      base = ODataErpSettings.of(erpUrl, company, user, key);
    }
    base = base.withSizes(
        r.integer(null, "connections.erp.pageSize", base.pageSize(), 1, 20_000),
        r.integer(null, "connections.erp.batchSize", base.batchSize(), 1, 100),
        r.integer(null, "connections.erp.maxConcurrency", base.maxConcurrency(), 1, 64));
    // Request limits per ERP user: Business Central's unless told otherwise (a simulator on a time scale shrinks
    // the window).
    EndpointBudget.Limits bl = EndpointBudget.Limits.businessCentral();
    return base.withLimits(new EndpointBudget.Limits(base.maxConcurrency(),
        r.integer(null, "connections.erp.requestLimits.requests", bl.requests(), 0, 1_000_000), 0,
        r.longValue("connections.erp.requestLimits.windowMs", bl.windowMs(), 1), null, null));
  }

  /**
   * Further CRM application users: {@code TANDEM_CRM_MORE_CLIENTS=id1:secret1,id2:secret2} or
   * {@code connections.crm.moreClients: [{"clientId": …, "clientSecret": …}]}.
   */
  private static List<DataverseSettings.Credential> moreClients(String env, Object json, String source,
      List<String> problems) {
    List<DataverseSettings.Credential> out = new ArrayList<>();
    if (env != null && !env.isBlank()) {
      for (String pair : env.split(",")) {
        int colon = pair.indexOf(':');
        if (colon <= 0 || colon == pair.length() - 1) {
          problems.add("TANDEM_CRM_MORE_CLIENTS must list clientId:clientSecret pairs separated by commas, got '"
              + pair.trim() + "'");
        } else {
          out.add(new DataverseSettings.Credential(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim()));
        }
      }
      return out;
    }
    if (json == null) {
      return out;
    }
    if (!(json instanceof io.vertx.core.json.JsonArray a)) {
      problems.add("connections.crm.moreClients in " + source + " must be a list of {clientId, clientSecret}");
      return out;
    }
    for (int i = 0; i < a.size(); i++) {
      Object o = a.getValue(i);
      if (o instanceof JsonObject c && c.getValue("clientId") instanceof String id
          && c.getValue("clientSecret") instanceof String secret && !id.isBlank()) {
        out.add(new DataverseSettings.Credential(id, secret));
      } else {
        problems.add("connections.crm.moreClients[" + i + "] in " + source + " needs a clientId and a clientSecret");
      }
    }
    return out;
  }

  /** @return a copy with other job settings (tests, benchmarks) */
  public TandemConfig withJobs(JobSettings other) {
    return new TandemConfig(database, httpHost, httpPort, adminToken, pluginsDir, nodeId, other, schedules, plugins,
        connections, http);
  }

  /** @return a copy with another node id */
  public TandemConfig withNodeId(String other) {
    return new TandemConfig(database, httpHost, httpPort, adminToken, pluginsDir, other, jobs, schedules, plugins,
        connections, http);
  }

  /** @return a copy with other database settings */
  public TandemConfig withDatabase(DatabaseSettings other) {
    return new TandemConfig(other, httpHost, httpPort, adminToken, pluginsDir, nodeId, jobs, schedules, plugins,
        connections, http);
  }

  /** @return a copy with other connections */
  public TandemConfig withConnections(Connections other) {
    return new TandemConfig(database, httpHost, httpPort, adminToken, pluginsDir, nodeId, jobs, schedules, plugins,
        other, http);
  }

  /** @return a copy with other scheduler settings */
  public TandemConfig withSchedules(ScheduleSettings other) {
    return new TandemConfig(database, httpHost, httpPort, adminToken, pluginsDir, nodeId, jobs, other, plugins,
        connections, http);
  }

  private static String defaultNodeId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "node";
    }
    return host + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Reads settings with an environment variable taking precedence over the dotted JSON path. */
  private record Reader(JsonObject json, Map<String, String> env, String source, List<String> problems) {

    private Object jsonValue(String path) {
      Object cur = json;
      for (String part : path.split("\\.")) {
        if (!(cur instanceof JsonObject o)) {
          return null;
        }
        cur = o.getValue(part);
      }
      return cur;
    }

    private String where(String envName, String path) {
      return envName != null && env.containsKey(envName) ? envName : path + " in " + source;
    }

    String string(String envName, String path, String fallback) {
      if (envName != null && env.get(envName) != null) {
        return env.get(envName);
      }
      Object v = jsonValue(path);
      if (v == null) {
        return fallback;
      }
      if (!(v instanceof String s)) {
        // A mistyped secret must not end up in a log: say what is wrong, not what was given.
        problems.add(path + " in " + source + " must be a string, got " + (secret(path) ? "a "
            + (v instanceof Number ? "number" : v instanceof Boolean ? "boolean" : "JSON value") : v));
        return fallback;
      }
      return s;
    }

    private static boolean secret(String path) {
      String p = path.toLowerCase(java.util.Locale.ROOT);
      return p.contains("token") || p.contains("secret") || p.contains("key") || p.contains("password")
          || p.equals("database.url");
    }

    int integer(String envName, String path, int fallback, int min, int max) {
      return (int) number(envName, path, fallback, min, max, Long::parseLong);
    }

    long longValue(String path, long fallback, long min) {
      return number(null, path, fallback, min, Long.MAX_VALUE, Long::parseLong);
    }

    private long number(String envName, String path, long fallback, long min, long max,
        Function<String, Long> parse) {
      Object raw = envName != null && env.get(envName) != null ? env.get(envName) : jsonValue(path);
      if (raw == null) {
        return fallback;
      }
      long value;
      try {
        value = raw instanceof Number n ? n.longValue() : parse.apply(raw.toString().trim());
      } catch (NumberFormatException e) {
        problems.add(where(envName, path) + " = '" + raw + "' is not a whole number");
        return fallback;
      }
      if (value < min || value > max) {
        problems.add(where(envName, path) + " = " + value + " is out of range ["
            + min + ", " + (max == Long.MAX_VALUE ? "∞" : max) + "]");
        return fallback;
      }
      return value;
    }

    boolean bool(String path, boolean fallback) {
      Object v = jsonValue(path);
      if (v == null) {
        return fallback;
      }
      if (!(v instanceof Boolean b)) {
        problems.add(path + " in " + source + " must be true or false, got " + v);
        return fallback;
      }
      return b;
    }
  }
}
