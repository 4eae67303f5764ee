package dev.tandem.runtime.config;

import dev.tandem.api.Setting;
import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every configuration key of the runtime, declared once (like Kafka Connect's {@code ConfigDef}): its key in the
 * JSON file, its environment variable, type, default, documentation and validation. {@link TandemConfig} reads
 * through it and refuses unknown file keys with the nearest declared one; docs/operations.md's configuration
 * reference is {@link #markdown()} (ConfigReferenceTest fails when they differ; {@code main} prints it).
 */
public final class ConfigDef {

  /**
   * One key of the table.
   *
   * @param env its environment variable, or null (file only)
   * @param setting the key: its name is the dotted JSON path, or the environment variable for an environment-only key
   * @param inFile whether the JSON file may set it
   */
  public record Key(String env, Setting setting, boolean inFile) {
    /** @return the dotted JSON path (or the environment variable of an environment-only key) */
    public String name() {
      return setting.name();
    }
  }

  private static final List<Key> ALL = new ArrayList<>();

  private static Key both(String env, Setting s) {
    Key k = new Key(env, s, true);
    ALL.add(k);
    return k;
  }

  private static Key file(Setting s) {
    return both(null, s);
  }

  private static Key envOnly(Setting s) {
    Key k = new Key(s.name(), s, false);
    ALL.add(k);
    return k;
  }

  private static final TandemConfig.JobSettings JOBS = TandemConfig.JobSettings.defaults();
  private static final TandemConfig.ScheduleSettings SCHEDULES = TandemConfig.ScheduleSettings.defaults();
  private static final TandemConfig.HttpSettings HTTP = TandemConfig.HttpSettings.defaults();
  private static final ODataErpSettings ERP = ODataErpSettings.of("http://erp", "c", "u", "k");
  private static final DataverseSettings CRM = DataverseSettings.of("http://crm", "t", "c", "s", null);
  private static final EndpointBudget.Limits BC_LIMITS = EndpointBudget.Limits.businessCentral();
  private static final EndpointBudget.Limits DATAVERSE_LIMITS = EndpointBudget.Limits.dataverse();

  // -- database
  /** PostgreSQL URL. */
  public static final Key DB_URL = both(TandemConfig.ENV_DB_URL, Setting.string("database.url").asSecret()
      .defaultDoc("— (required)").doc("`postgresql://user:password@host:5432/database` (`postgres://` and "
          + "`jdbc:postgresql://` work too); `?sslmode=` as libpq spells it — see [TLS](#tls)"));
  /** Schema of Tandem's tables. */
  public static final Key DB_SCHEMA = both(TandemConfig.ENV_DB_SCHEMA, Setting.string("database.schema")
      .defaultDoc("`public`").doc("schema holding Tandem's tables (created if absent)"));
  /** Pool size. */
  public static final Key DB_POOL_SIZE = file(Setting.integer("database.poolSize").defaultValue(8).range(1, 200)
      .doc("connections per node"));

  // -- admin API
  /** Admin API port. */
  public static final Key HTTP_PORT = both(TandemConfig.ENV_HTTP_PORT, Setting.integer("http.port").defaultValue(8080)
      .range(0, 65535).doc("admin API port (0 = any free port)"));
  /** Admin API bind address. */
  public static final Key HTTP_HOST = both(TandemConfig.ENV_HTTP_HOST, Setting.string("http.host")
      .defaultValue("0.0.0.0").defaultDoc("`0.0.0.0` (`bin/tandem demo`: `127.0.0.1`)")
      .doc("admin API bind address; `bin/tandem run --bind ADDRESS` too"));
  /** TLS certificate. */
  public static final Key HTTP_TLS_CERT = both(TandemConfig.ENV_HTTP_TLS_CERT, Setting.string("http.tls.certFile")
      .doc("PEM certificate chain of the admin API; with the key, the admin API speaks HTTPS (see [TLS](#tls))"));
  /** TLS key. */
  public static final Key HTTP_TLS_KEY = both(TandemConfig.ENV_HTTP_TLS_KEY, Setting.string("http.tls.keyFile")
      .doc("PEM private key (PKCS#8 or PKCS#1) of that certificate"));
  /** Idle timeout. */
  public static final Key HTTP_IDLE_TIMEOUT = file(Setting.longValue("http.idleTimeoutMs")
      .defaultValue(HTTP.idleTimeoutMs()).atLeast(100).doc("a connection with no traffic either way this long is "
          + "closed (a request head or body that stopped half-way, an idle keep-alive)"));
  /** Request timeout. */
  public static final Key HTTP_REQUEST_TIMEOUT = file(Setting.longValue("http.requestTimeoutMs")
      .defaultValue(HTTP.requestTimeoutMs()).atLeast(100).doc("a request's body must have arrived this long after "
          + "its head, or the connection is closed (a trickling client)"));
  /** Connection limit. */
  public static final Key HTTP_MAX_CONNECTIONS = file(Setting.integer("http.maxConnections")
      .defaultValue(HTTP.maxConnections()).range(1, 1_000_000)
      .doc("connections with a request at most; beyond, requests are answered `503`"));
  /** Event stream limit. */
  public static final Key HTTP_MAX_EVENT_STREAMS = file(Setting.integer("http.maxEventStreams")
      .defaultValue(HTTP.maxEventStreams()).range(0, 10_000)
      .doc("open event streams (`GET /api/v1/full-sync/events` and `GET /api/v1/events` together; each console page "
          + "that is live holds one or two) at most; beyond, `503`"));
  /** Admin token. */
  public static final Key ADMIN_TOKEN = both(TandemConfig.ENV_ADMIN_TOKEN, Setting.string("adminToken").asSecret()
      .minLength(16).defaultDoc("— (required)").doc("bearer token for `/api/v1`"));

  // -- secrets (read by SecretCipher, which takes the variables' names from here: config needs nothing of connection)
  /** Environment variable of the secret key. */
  public static final String ENV_SECRET_KEY = "TANDEM_SECRET_KEY";
  /** Environment variable of the secret key's file. */
  public static final String ENV_SECRET_KEY_FILE = "TANDEM_SECRET_KEY_FILE";
  /** Environment variable of the previous secret key. */
  public static final String ENV_SECRET_KEY_PREVIOUS = "TANDEM_SECRET_KEY_PREVIOUS";
  /** Environment variable of the previous secret key's file. */
  public static final String ENV_SECRET_KEY_PREVIOUS_FILE = "TANDEM_SECRET_KEY_PREVIOUS_FILE";
  /** Secret key. */
  public static final Key SECRET_KEY = envOnly(Setting.string(ENV_SECRET_KEY).asSecret()
      .doc("32 random bytes in base64 (`bin/tandem secrets generate-key`): seals the stored connection's secrets "
          + "(AES-GCM); every node needs the same key"));
  /** Secret key file. */
  public static final Key SECRET_KEY_FILE = envOnly(Setting.string(ENV_SECRET_KEY_FILE)
      .doc("a file holding that key, instead of `TANDEM_SECRET_KEY`"));
  /** Previous secret key. */
  public static final Key SECRET_KEY_PREVIOUS = envOnly(Setting.string(ENV_SECRET_KEY_PREVIOUS).asSecret()
      .doc("during a key rotation, the old key: secrets still sealed with it open with it; every new secret is "
          + "sealed with `TANDEM_SECRET_KEY`"));
  /** Previous secret key file. */
  public static final Key SECRET_KEY_PREVIOUS_FILE = envOnly(Setting.string(ENV_SECRET_KEY_PREVIOUS_FILE)
      .doc("a file holding the previous key, instead of `TANDEM_SECRET_KEY_PREVIOUS`"));

  // -- node
  /** Plugins directory. */
  public static final Key PLUGINS_DIR = both(TandemConfig.ENV_PLUGINS_DIR, Setting.string("pluginsDir")
      .defaultValue("plugins").doc("directory of plugin jars and zips"));
  /** Node id. */
  public static final Key NODE_ID = both(TandemConfig.ENV_NODE_ID, Setting.string("node.id")
      .defaultDoc("host name + random suffix").doc("this node's name in job leases"));
  /** Log level. */
  public static final Key LOG_LEVEL = envOnly(Setting.string("TANDEM_LOG_LEVEL").defaultValue("INFO")
      .oneOf("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").doc("root log level (logback)"));

  // -- jobs
  /** Jobs at once. */
  public static final Key JOBS_MAX_CONCURRENT = file(Setting.integer("jobs.maxConcurrent")
      .defaultValue(JOBS.maxConcurrent()).range(1, 10_000).doc("jobs one node runs at once"));
  /** Claim batch. */
  public static final Key JOBS_CLAIM_BATCH = file(Setting.integer("jobs.claimBatch")
      .defaultValue(JOBS.claimBatch()).range(1, 1_000).doc("jobs claimed per query"));
  /** Poll interval. */
  public static final Key JOBS_POLL_INTERVAL = file(Setting.longValue("jobs.pollIntervalMs")
      .defaultValue(JOBS.pollIntervalMs()).atLeast(10).doc("how often an idle dispatcher looks for due jobs"));
  /** Lease. */
  public static final Key JOBS_LEASE = file(Setting.longValue("jobs.leaseMs").defaultValue(JOBS.leaseMs())
      .atLeast(300).doc("lease of a claimed job; renewed every third of it"));
  /** Job timeout. */
  public static final Key JOBS_TIMEOUT = file(Setting.longValue("jobs.timeoutMs").defaultValue(JOBS.timeoutMs())
      .atLeast(100).doc("a job with no reply after this is failed (and retried)"));
  /** Attempts. */
  public static final Key JOBS_MAX_ATTEMPTS = file(Setting.integer("jobs.maxAttempts")
      .defaultValue(JOBS.maxAttempts()).range(1, 1_000).doc("attempts before a job fails for good"));
  /** Retry backoff. */
  public static final Key JOBS_RETRY_BACKOFF = file(Setting.longValue("jobs.retryBackoffMs")
      .defaultValue(JOBS.retryBackoffMs()).atLeast(0).doc("first retry delay; doubles per attempt"));
  /** Retry backoff ceiling. */
  public static final Key JOBS_RETRY_BACKOFF_MAX = file(Setting.longValue("jobs.retryBackoffMaxMs")
      .defaultValue(JOBS.retryBackoffMaxMs()).atLeast(0).doc("ceiling of the retry delay"));
  /** Retention. */
  public static final Key JOBS_RETENTION = file(Setting.longValue("jobs.retentionMs")
      .defaultValue(JOBS.retentionMs()).defaultDoc(JOBS.retentionMs() + " (7 days)").atLeast(0)
      .doc("ended jobs older than this are deleted from the log (0 = keep)"));

  // -- schedules
  /** Scheduler on. */
  public static final Key SCHEDULES_ENABLED = file(Setting.bool("schedules.enabled").defaultValue(SCHEDULES.enabled())
      .doc("whether this node turns schedules into jobs"));
  /** Tick. */
  public static final Key SCHEDULES_TICK = file(Setting.longValue("schedules.tickMs").defaultValue(SCHEDULES.tickMs())
      .atLeast(10).doc("how often due schedules are looked for"));
  /** Inactivity timeout. */
  public static final Key SCHEDULES_INACTIVITY = file(Setting.longValue("schedules.inactivityTimeoutMs")
      .defaultValue(SCHEDULES.inactivityTimeoutMs()).atLeast(0)
      .doc("a schedule whose runs changed nothing this long goes on hold (0 = never)"));
  /** ERP wake check. */
  public static final Key SCHEDULES_ERP_WAKE = file(Setting.longValue("schedules.erpWakeCheckMs")
      .defaultValue(SCHEDULES.erpWakeCheckMs()).atLeast(100)
      .doc("how often on-hold schedules look for ERP-side changes (one `$top=1` query per on-hold mapping)"));
  /** ERP deletion scan. */
  public static final Key SCHEDULES_ERP_DELETION_SCAN = file(Setting.longValue("schedules.erpDeletionScanMs")
      .defaultValue(SCHEDULES.erpDeletionScanMs()).atLeast(0)
      .doc("how often a mapping's runs check the ERP for deleted records (the key-range comparison below: one "
          + "`$count` when nothing moved, counts down a tree of key ranges to the ranges that moved and a read of "
          + "those otherwise); runs in between make no such request; an ERP `deleted` notification makes the check due at once. 0 = every "
          + "run"));

  // -- plugins
  /** Plugin settings. */
  public static final Key PLUGINS = file(Setting.of("plugins", Setting.Type.OBJECT).defaultDoc("`{}`")
      .doc("`plugins.<id>`: the settings of plugin `<id>` (`EntityPlugin.configure`, and its context); a plugin that "
          + "declares its settings has them checked at start (see [plugin settings](#plugin-settings))"));

  // -- ERP
  /** ERP profile. */
  public static final Key ERP_PROFILE = both("TANDEM_ERP_PROFILE", Setting.string("connections.erp.profile")
      .defaultDoc("`bc-online` when a client id is set, else `nav`").check("nav, bc-online", v -> {
        try {
          ODataErpSettings.Profile.of(v.toString());
          return null;
        } catch (IllegalArgumentException e) {
          return "is not an ERP profile: use nav or bc-online";
        }
      }).doc("`nav` (NAV / BC on premises, Basic with a web service access key) or `bc-online` (Business Central "
          + "online, OAuth 2.0 client credentials); see [user-guide.md](user-guide.md#nav-or-business-central-online)"));
  /** ERP URL. */
  public static final Key ERP_URL = both("TANDEM_ERP_URL", Setting.string("connections.erp.url")
      .defaultDoc("bc-online: `https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/ODataV4`")
      .doc("the ERP's OData root, e.g. `https://erp:7048/BC/ODataV4` (required on nav)"));
  /** ERP company. */
  public static final Key ERP_COMPANY = both("TANDEM_ERP_COMPANY", Setting.string("connections.erp.company")
      .doc("company name"));
  /** ERP user. */
  public static final Key ERP_USER = both("TANDEM_ERP_USER", Setting.string("connections.erp.user")
      .doc("nav: web-service user"));
  /** ERP access key. */
  public static final Key ERP_ACCESS_KEY = both("TANDEM_ERP_ACCESS_KEY", Setting.string("connections.erp.accessKey")
      .asSecret().doc("nav: the user's web service access key"));
  /** ERP tenant. */
  public static final Key ERP_TENANT = both("TANDEM_ERP_TENANT", Setting.string("connections.erp.tenant")
      .doc("bc-online: Entra tenant id or domain"));
  /** ERP environment. */
  public static final Key ERP_ENVIRONMENT = both("TANDEM_ERP_ENVIRONMENT", Setting.string("connections.erp.environment")
      .defaultValue("Production").doc("bc-online: BC environment name"));
  /** ERP client id. */
  public static final Key ERP_CLIENT_ID = both("TANDEM_ERP_CLIENT_ID", Setting.string("connections.erp.clientId")
      .doc("bc-online: the Entra application registered in BC"));
  /** ERP client secret. */
  public static final Key ERP_CLIENT_SECRET = both("TANDEM_ERP_CLIENT_SECRET",
      Setting.string("connections.erp.clientSecret").asSecret().doc("bc-online: that application's client secret"));
  /** ERP token URL. */
  public static final Key ERP_TOKEN_URL = both("TANDEM_ERP_TOKEN_URL", Setting.string("connections.erp.tokenUrl")
      .defaultDoc("`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`").doc("bc-online: token endpoint"));
  /** ERP scope. */
  public static final Key ERP_SCOPE = both("TANDEM_ERP_SCOPE", Setting.string("connections.erp.scope")
      .defaultValue(ODataErpSettings.ONLINE_SCOPE).doc("bc-online: token scope"));
  /** ERP page size. */
  public static final Key ERP_PAGE_SIZE = file(Setting.integer("connections.erp.pageSize")
      .defaultValue(ERP.pageSize()).range(1, 20_000).doc("ERP rows per page (at most 20,000, BC's page cap)"));
  /** ERP batch size. */
  public static final Key ERP_BATCH_SIZE = file(Setting.integer("connections.erp.batchSize")
      .defaultValue(ERP.batchSize()).range(1, 100).doc("operations per ERP `$batch` (at most 100, BC online's limit)"));
  /** ERP concurrency. */
  public static final Key ERP_MAX_CONCURRENCY = file(Setting.integer("connections.erp.maxConcurrency")
      .defaultValue(ERP.maxConcurrency()).range(1, 64).doc("ERP requests in flight per ERP user (BC processes 5 at "
          + "once; 3 more wait in its queue so no slot idles between two requests)"));
  /** ERP request limit. */
  public static final Key ERP_LIMIT_REQUESTS = file(Setting.integer("connections.erp.requestLimits.requests")
      .defaultValue(BC_LIMITS.requests()).range(0, 1_000_000).doc("Business Central's request limit per user and "
          + "window (one budget per ERP user and node, shared by every job, see [ERP request budget]"
          + "(#erp-request-budget)). Change it only against a simulator on a time scale"));
  /** ERP request window. */
  public static final Key ERP_LIMIT_WINDOW = file(Setting.longValue("connections.erp.requestLimits.windowMs")
      .defaultValue(BC_LIMITS.windowMs()).atLeast(1)
      .doc("the window of that limit (a simulator on time scale 0.1: 30000)"));
  /** ERP webhooks URL. */
  public static final Key ERP_NOTIFICATION_URL = both("TANDEM_ERP_NOTIFICATION_URL",
      Setting.string("connections.erp.notificationUrl").doc("Business Central online only: the public URL at which "
          + "BC reaches this node's (or the load balancer's) `POST /erp/notifications`; set, Tandem subscribes to the "
          + "API page of every mapping that reads from the ERP and is woken by BC's webhooks (see [ERP webhooks]"
          + "(#erp-webhooks-business-central-online))"));
  /** Subscription renewal. */
  public static final Key ERP_SUBSCRIPTION_RENEW = file(Setting.longValue("connections.erp.subscriptionRenewBeforeMs")
      .defaultValue(ErpNotificationSettings.NONE.renewBeforeMs()).atLeast(1000).doc("a subscription is renewed "
          + "(PATCH, with BC's handshake) once it expires within this time; BC drops one three days after its "
          + "creation or last renewal"));
  /** Subscription check. */
  public static final Key ERP_SUBSCRIPTION_CHECK = file(Setting.longValue("connections.erp.subscriptionCheckMs")
      .defaultValue(ErpNotificationSettings.NONE.checkMs()).atLeast(100)
      .doc("how often subscriptions are checked, created and renewed"));

  // -- CRM
  /** CRM URL. */
  public static final Key CRM_URL = both("TANDEM_CRM_URL", Setting.string("connections.crm.url")
      .doc("the Web API root, e.g. `https://org.crm.dynamics.com/api/data/v9.2`"));
  /** CRM token URL. */
  public static final Key CRM_TOKEN_URL = both("TANDEM_CRM_TOKEN_URL", Setting.string("connections.crm.tokenUrl")
      .doc("OAuth 2.0 token endpoint"));
  /** CRM client id. */
  public static final Key CRM_CLIENT_ID = both("TANDEM_CRM_CLIENT_ID", Setting.string("connections.crm.clientId")
      .doc("the integration user's application (client) id"));
  /** CRM client secret. */
  public static final Key CRM_CLIENT_SECRET = both("TANDEM_CRM_CLIENT_SECRET",
      Setting.string("connections.crm.clientSecret").asSecret().doc("that application's client secret"));
  /** CRM scope. */
  public static final Key CRM_SCOPE = both("TANDEM_CRM_SCOPE", Setting.string("connections.crm.scope")
      .defaultDoc("`<organization URL>/.default`").doc("token scope: by default the scheme and host of "
          + "`connections.crm.url` + `/.default` (e.g. `https://org.crm.dynamics.com/.default`), which Entra ID "
          + "requires for client credentials; Dataverse refuses tokens issued for another organization. Used by the "
          + "sync, the connection test and the set-up guide"));
  /** CRM page size. */
  public static final Key CRM_PAGE_SIZE = file(Setting.integer("connections.crm.pageSize")
      .defaultValue(CRM.pageSize()).range(1, 5000).doc("CRM rows per page"));
  /** CRM batch size. */
  public static final Key CRM_BATCH_SIZE = file(Setting.integer("connections.crm.batchSize")
      .defaultValue(CRM.batchSize()).range(1, 1000).doc("operations per CRM `$batch`"));
  /** CRM concurrency. */
  public static final Key CRM_MAX_CONCURRENCY = file(Setting.integer("connections.crm.maxConcurrency")
      .defaultValue(CRM.maxConcurrency()).range(1, DataverseSettings.DATAVERSE_CONCURRENCY_LIMIT)
      .doc("CRM requests in flight per application user — for the whole node, and for all nodes together (see "
          + "[Scaling](#crm-request-budgets))"));
  /** CRM service protection: requests. */
  public static final Key CRM_SP_REQUESTS = file(Setting.integer("connections.crm.serviceProtection.requests")
      .defaultValue(DATAVERSE_LIMITS.requests()).range(0, 1_000_000).doc("Dataverse's service-protection limit of "
          + "requests per application user and window; Tandem paces itself inside the limits. Change them only "
          + "against a simulator on a time scale"));
  /** CRM service protection: execution time. */
  public static final Key CRM_SP_EXECUTION = file(Setting.longValue("connections.crm.serviceProtection.executionMs")
      .defaultValue(DATAVERSE_LIMITS.executionMs()).atLeast(0)
      .doc("Dataverse's execution-time limit per application user and window (a simulator on time scale 0.1: 120000)"));
  /** CRM service protection: window. */
  public static final Key CRM_SP_WINDOW = file(Setting.longValue("connections.crm.serviceProtection.windowMs")
      .defaultValue(DATAVERSE_LIMITS.windowMs()).atLeast(1)
      .doc("the window of those limits (a simulator on time scale 0.1: 30000)"));
  /** Further CRM application users. */
  public static final Key CRM_MORE_CLIENTS = both("TANDEM_CRM_MORE_CLIENTS",
      Setting.of("connections.crm.moreClients", Setting.Type.LIST).defaultDoc("none").doc("further application "
          + "users: `id1:secret1,id2:secret2`, or `[{\"clientId\": …, \"clientSecret\": …}]`. Every request goes to "
          + "the least loaded user, so one job's work spreads over all of them; each has its own service-protection "
          + "budget"));

  /** Environment variables of Tandem that are not the node's configuration (the CLI's, the tests', the demo's). */
  static final List<String> OTHER_ENV = List.of("TANDEM_URL", "TANDEM_TOKEN", "TANDEM_TEST_DB_URL", "TANDEM_TEST_DB");

  private ConfigDef() {}

  /** @return every key, in the order of the reference */
  public static List<Key> keys() {
    return Collections.unmodifiableList(ALL);
  }

  /** @return the keys the JSON file may set, as settings */
  static List<Setting> fileSettings() {
    return ALL.stream().filter(Key::inFile).map(Key::setting).toList();
  }

  /** @return the environment variables, by name */
  static Map<String, Key> byEnv() {
    Map<String, Key> out = new LinkedHashMap<>();
    ALL.stream().filter(k -> k.env() != null).forEach(k -> out.put(k.env(), k));
    return out;
  }

  /**
   * The configuration reference of docs/operations.md.
   *
   * @return a Markdown table: environment variable, key, type, default, valid values, meaning
   */
  public static String markdown() {
    StringBuilder b = new StringBuilder(
        "| environment variable | key | type | default | valid values | meaning |\n|---|---|---|---|---|---|\n");
    for (Key k : ALL) {
      Setting s = k.setting();
      b.append("| ").append(k.env() == null ? "" : "`" + k.env() + "`").append(" | ")
          .append(k.inFile() ? "`" + s.name() + "`" : "").append(" | ").append(s.type().label())
          .append(s.secret() ? " (secret)" : "").append(" | ").append(s.defaultText()).append(" | ")
          .append(s.validValues() == null ? "" : s.validValues()).append(" | ").append(s.doc()).append(" |\n");
    }
    return b.toString();
  }

  /**
   * Prints the configuration reference: {@code java -cp platform/runtime/target/tandem-runtime.jar
   * dev.tandem.runtime.config.ConfigDef}.
   *
   * @param args none
   */
  public static void main(String[] args) {
    System.out.print(markdown());
  }
}
