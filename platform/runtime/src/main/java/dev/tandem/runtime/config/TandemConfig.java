package dev.tandem.runtime.config;

import dev.tandem.api.Setting;
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
    // Every key of the file is declared in ConfigDef: a typo is refused with the nearest declared key.
    problems.addAll(Setting.unknownKeys(ConfigDef.fileSettings(), json, "", source));
    warnAboutUnknownEnvironment(env);
    Reader r = new Reader(json, env, source, problems, new java.util.HashSet<>());

    DatabaseSettings db = null;
    String url = r.string(ConfigDef.DB_URL);
    String schema = r.string(ConfigDef.DB_SCHEMA);
    int pool = r.integer(ConfigDef.DB_POOL_SIZE);
    if ((url == null || url.isBlank()) && !r.failed(ConfigDef.DB_URL)) {
      problems.add("database URL is missing: set " + ENV_DB_URL
          + " (postgresql://user:password@host:5432/database) or database.url in " + source);
    } else if (url != null && !url.isBlank()) {
      try {
        db = DatabaseSettings.parse(url, schema, pool, env.containsKey(ENV_DB_URL) ? ENV_DB_URL : "database.url");
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
    }
    String host = r.string(ConfigDef.HTTP_HOST);
    int port = r.integer(ConfigDef.HTTP_PORT);
    String token = r.string(ConfigDef.ADMIN_TOKEN);
    if ((token == null || token.isBlank()) && !r.failed(ConfigDef.ADMIN_TOKEN)) {
      problems.add("admin token is missing: set " + ENV_ADMIN_TOKEN + " or adminToken in " + source
          + " (every /api/v1 call needs it as a bearer token)");
    }
    r.string(ConfigDef.LOG_LEVEL);
    String cert = r.string(ConfigDef.HTTP_TLS_CERT);
    String tlsKey = r.string(ConfigDef.HTTP_TLS_KEY);
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
        r.longValue(ConfigDef.HTTP_IDLE_TIMEOUT),
        r.longValue(ConfigDef.HTTP_REQUEST_TIMEOUT),
        r.integer(ConfigDef.HTTP_MAX_CONNECTIONS),
        r.integer(ConfigDef.HTTP_MAX_EVENT_STREAMS),
        cert == null || tlsKey == null ? null : Path.of(cert),
        cert == null || tlsKey == null ? null : Path.of(tlsKey));
    Path pluginsDir = Path.of(r.string(ConfigDef.PLUGINS_DIR));
    if (Files.exists(pluginsDir) && !Files.isDirectory(pluginsDir)) {
      problems.add("plugins directory " + pluginsDir.toAbsolutePath() + " (" + ENV_PLUGINS_DIR
          + " or pluginsDir) is not a directory");
    }
    String nodeId = r.string(ConfigDef.NODE_ID);
    if (nodeId == null) {
      nodeId = defaultNodeId();
    }

    JobSettings jobs = new JobSettings(
        r.integer(ConfigDef.JOBS_MAX_CONCURRENT),
        r.integer(ConfigDef.JOBS_CLAIM_BATCH),
        r.longValue(ConfigDef.JOBS_POLL_INTERVAL),
        r.longValue(ConfigDef.JOBS_LEASE),
        r.longValue(ConfigDef.JOBS_TIMEOUT),
        r.integer(ConfigDef.JOBS_MAX_ATTEMPTS),
        r.longValue(ConfigDef.JOBS_RETRY_BACKOFF),
        r.longValue(ConfigDef.JOBS_RETRY_BACKOFF_MAX),
        r.longValue(ConfigDef.JOBS_RETENTION));
    ScheduleSettings schedules = new ScheduleSettings(
        r.bool(ConfigDef.SCHEDULES_ENABLED),
        r.longValue(ConfigDef.SCHEDULES_TICK),
        r.longValue(ConfigDef.SCHEDULES_INACTIVITY),
        r.longValue(ConfigDef.SCHEDULES_ERP_WAKE),
        r.longValue(ConfigDef.SCHEDULES_ERP_DELETION_SCAN));
    Object pluginsValue = r.value(ConfigDef.PLUGINS);
    JsonObject pluginSettings = pluginsValue instanceof JsonObject o ? o : new JsonObject();
    ODataErpSettings erp = readErp(r, source, problems);
    DataverseSettings crm = null;
    String crmUrl = r.string(ConfigDef.CRM_URL);
    if (crmUrl != null) {
      String tokenUrl = r.string(ConfigDef.CRM_TOKEN_URL);
      String clientId = r.string(ConfigDef.CRM_CLIENT_ID);
      String secret = r.string(ConfigDef.CRM_CLIENT_SECRET);
      String scope = r.string(ConfigDef.CRM_SCOPE);
      if (tokenUrl == null || clientId == null || secret == null) {
        problems.add("the CRM connection needs a token URL, a client id and a client secret: set TANDEM_CRM_TOKEN_URL, "
            + "TANDEM_CRM_CLIENT_ID and TANDEM_CRM_CLIENT_SECRET (or connections.crm.* in " + source + ")");
      } else {
        DataverseSettings cd = DataverseSettings.of(crmUrl, tokenUrl, clientId, secret, scope);
        crm = new DataverseSettings(crmUrl, tokenUrl, clientId, secret, scope,
            r.integer(ConfigDef.CRM_PAGE_SIZE),
            r.integer(ConfigDef.CRM_MAX_CONCURRENCY),
            cd.initialConcurrency(), cd.maxRetries(),
            r.integer(ConfigDef.CRM_BATCH_SIZE), cd.timeoutMs());
        // Service protection per application user: Dataverse's published limits unless told otherwise (a
        // simulator on a time scale shrinks the window and the execution budget alike).
        EndpointBudget.Limits dl = EndpointBudget.Limits.dataverse();
        crm = crm.withLimits(new EndpointBudget.Limits(crm.maxConcurrency(),
            r.integer(ConfigDef.CRM_SP_REQUESTS),
            r.longValue(ConfigDef.CRM_SP_EXECUTION),
            r.longValue(ConfigDef.CRM_SP_WINDOW),
            dl.remainingRequestsHeader(), dl.remainingTimeHeader(), dl.parallelismHintHeader(),
            dl.admitsUnderBudget()));
        crm = crm.withMoreClients(moreClients(env.get(ConfigDef.CRM_MORE_CLIENTS.env()),
            Setting.lookup(json, ConfigDef.CRM_MORE_CLIENTS.name()), source, problems));
      }
    }
    // Business Central online webhooks: BC calls this URL (Tandem's /erp/notifications as the internet reaches it).
    ErpNotificationSettings notifications = new ErpNotificationSettings(
        r.string(ConfigDef.ERP_NOTIFICATION_URL),
        r.longValue(ConfigDef.ERP_SUBSCRIPTION_RENEW),
        r.longValue(ConfigDef.ERP_SUBSCRIPTION_CHECK));

    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new TandemConfig(db, host, port, token, pluginsDir, nodeId, jobs, schedules, pluginSettings,
        new Connections(erp, crm, notifications), httpSettings);
  }

  /**
   * An environment variable of Tandem's that no key declares but that is a letter or two away from one is most
   * likely a typo: said in the log (not refused: the environment also holds the CLI's, the tests' and the demo's).
   */
  private static void warnAboutUnknownEnvironment(Map<String, String> env) {
    Map<String, ConfigDef.Key> known = ConfigDef.byEnv();
    for (String name : env.keySet()) {
      if (!name.startsWith("TANDEM_") || known.containsKey(name) || ConfigDef.OTHER_ENV.contains(name)
          || name.startsWith("TANDEM_DEMO_")) {
        continue;
      }
      String nearest = Setting.nearest(name, known.keySet());
      if (nearest != null && editDistance(name, nearest) <= 2) {
        System.getLogger(TandemConfig.class.getName()).log(System.Logger.Level.WARNING,
            "environment variable " + name + " is not a Tandem setting: did you mean " + nearest + "?");
      }
    }
  }

  private static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1),
            d[i - 1][j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
      }
    }
    return d[a.length()][b.length()];
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
    String profileId = r.string(ConfigDef.ERP_PROFILE);
    String erpUrl = r.string(ConfigDef.ERP_URL);
    String tenant = r.string(ConfigDef.ERP_TENANT);
    String clientId = r.string(ConfigDef.ERP_CLIENT_ID);
    if (r.failed(ConfigDef.ERP_PROFILE)) {
      return null;
    }
    ODataErpSettings.Profile profile = profileId != null ? ODataErpSettings.Profile.of(profileId)
        : clientId != null ? ODataErpSettings.Profile.BC_ONLINE : ODataErpSettings.Profile.NAV;
    if (erpUrl == null && (profile == ODataErpSettings.Profile.NAV || tenant == null)) {
      return null;
    }
    String company = r.string(ConfigDef.ERP_COMPANY);
    ODataErpSettings base;
    if (profile == ODataErpSettings.Profile.BC_ONLINE) {
      String environment = r.string(ConfigDef.ERP_ENVIRONMENT);
      String secret = r.string(ConfigDef.ERP_CLIENT_SECRET);
      String tokenUrl = r.string(ConfigDef.ERP_TOKEN_URL);
      String scope = r.string(ConfigDef.ERP_SCOPE);
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
      String user = r.string(ConfigDef.ERP_USER);
      String key = r.string(ConfigDef.ERP_ACCESS_KEY);
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
        r.integer(ConfigDef.ERP_PAGE_SIZE),
        r.integer(ConfigDef.ERP_BATCH_SIZE),
        r.integer(ConfigDef.ERP_MAX_CONCURRENCY));
    // Request limits per ERP user: Business Central's unless told otherwise (a simulator on a time scale shrinks
    // the window).
    return base.withLimits(new EndpointBudget.Limits(base.maxConcurrency(),
        r.integer(ConfigDef.ERP_LIMIT_REQUESTS), 0,
        r.longValue(ConfigDef.ERP_LIMIT_WINDOW), null, null));
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

  /**
   * @param plugin a plugin's id
   * @param settings its settings, as {@code plugins.<id>} in the configuration file holds them
   * @return a copy with those settings for that plugin, the other plugins' kept
   */
  public TandemConfig withPluginSettings(String plugin, JsonObject settings) {
    JsonObject all = plugins == null ? new JsonObject() : plugins.copy();
    return new TandemConfig(database, httpHost, httpPort, adminToken, pluginsDir, nodeId, jobs, schedules,
        all.put(plugin, settings), connections, http);
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

  /**
   * Reads the keys of {@link ConfigDef}: an environment variable takes precedence over the dotted JSON path; a bad
   * value is a problem naming the key and the cause, and reads as the default.
   */
  private record Reader(JsonObject json, Map<String, String> env, String source, List<String> problems,
      java.util.Set<String> failedKeys) {

    Object value(ConfigDef.Key key) {
      Object raw = null;
      String where = null;
      if (key.env() != null && env.get(key.env()) != null) {
        raw = env.get(key.env());
        where = key.env();
      } else if (key.inFile()) {
        raw = Setting.lookup(json, key.name());
        where = key.name() + " in " + source;
      }
      if (raw == null) {
        return key.setting().defaultValue();
      }
      try {
        return key.setting().parse(raw, where);
      } catch (Setting.InvalidSettingException e) {
        problems.add(e.getMessage());
        failedKeys.add(key.name());
        return key.setting().defaultValue();
      }
    }

    boolean failed(ConfigDef.Key key) {
      return failedKeys.contains(key.name());
    }

    String string(ConfigDef.Key key) {
      return (String) value(key);
    }

    int integer(ConfigDef.Key key) {
      return ((Number) value(key)).intValue();
    }

    long longValue(ConfigDef.Key key) {
      return ((Number) value(key)).longValue();
    }

    boolean bool(ConfigDef.Key key) {
      return (Boolean) value(key);
    }
  }
}
