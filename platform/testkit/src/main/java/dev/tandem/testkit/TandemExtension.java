package dev.tandem.testkit;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testpg.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives a test class a fresh PostgreSQL schema and a running Tandem node loading the plugin jars or zips you
 * choose; drops the schema afterwards. Register it as a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static TandemExtension tandem = TandemExtension.withPlugins(Path.of("target/my-plugin.zip"));
 * }</pre>
 *
 * <p>The database is the one {@link TestPostgres} chooses: {@code TANDEM_TEST_DB_URL}, else a PostgreSQL on
 * 127.0.0.1:5432 (database {@code test}), else one embedded PostgreSQL shared by the whole Maven run.
 */
public final class TandemExtension implements BeforeAllCallback, AfterAllCallback {

  /** The admin token of the node under test. */
  public static final String TOKEN = "testkit-token-" + UUID.randomUUID();

  private final List<Path> pluginFiles;
  private UnaryOperator<TandemConfig> customizer = UnaryOperator.identity();
  private DatabaseSettings db;
  private TandemRuntime runtime;
  private TandemConfig config;
  private int restarts;
  private Path pluginsDir;
  private dev.tandem.runtime.connection.SecretCipher cipher;
  private final HttpClient http = HttpClient.newHttpClient();

  private TandemExtension(List<Path> pluginFiles) {
    this.pluginFiles = List.copyOf(pluginFiles);
  }

  /**
   * @param plugins plugin jars or zips to install
   * @return the extension
   */
  public static TandemExtension withPlugins(Path... plugins) {
    return new TandemExtension(List.of(plugins));
  }

  /**
   * Gives the node a freshly generated secret key, so a connection with secrets can be stored through the admin
   * API (without one, {@code PUT /api/v1/connection} refuses secrets).
   *
   * @return this
   */
  public TandemExtension withSecretKey() {
    this.cipher = new dev.tandem.runtime.connection.SecretCipher(java.util.Base64.getDecoder()
        .decode(dev.tandem.runtime.connection.SecretCipher.generateKey()));
    return this;
  }

  /**
   * The plugin files a test's build names in system properties (set by the plugin's failsafe configuration).
   *
   * @param systemProperties e.g. {@code tandem.plugin.jar}
   * @return the files, in that order
   * @throws IllegalStateException when a property is not set (the test was not run through {@code mvn verify})
   */
  public static Path[] pluginFiles(String... systemProperties) {
    Path[] out = new Path[systemProperties.length];
    for (int i = 0; i < out.length; i++) {
      String v = System.getProperty(systemProperties[i]);
      if (v == null) {
        throw new IllegalStateException("system property " + systemProperties[i]
            + " is not set: run the test through mvn verify");
      }
      out[i] = Path.of(v);
    }
    return out;
  }

  /**
   * @param change adjusts the node's configuration before it starts (job settings, schedules), after the
   *     adjustments given before
   * @return this
   */
  public TandemExtension configure(UnaryOperator<TandemConfig> change) {
    UnaryOperator<TandemConfig> before = customizer;
    this.customizer = c -> change.apply(before.apply(c));
    return this;
  }

  /**
   * @param plugin a plugin's id
   * @param settings its settings ({@code plugins.<id>} of the configuration)
   * @return this
   */
  public TandemExtension withPluginSettings(String plugin, JsonObject settings) {
    return configure(c -> c.withPluginSettings(plugin, settings));
  }

  /**
   * The node's connections to the simulators of a test, with Tandem's integration client ({@code tandem-sync})
   * on the CRM side.
   *
   * @param erp the ERP simulator (started)
   * @param crm the CRM simulator (started)
   * @return connections with the default page and batch sizes
   */
  public static Connections connections(ErpSimulator erp, DataverseSimulator crm) {
    return new Connections(erpSettings(erp),
        DataverseSettings.of(crm.apiUrl(), crm.tokenUrl(), "tandem-sync", "tandem-secret", null));
  }

  /**
   * @param erp the ERP simulator (started)
   * @return connection settings for its profile: Basic with the web service key on {@code nav}, the registered
   *     client's credentials on {@code bc-online}; default page and batch sizes
   */
  public static ODataErpSettings erpSettings(ErpSimulator erp) {
    ErpSimulator.Options o = erp.options();
    return o.profile() == ErpSimulator.Profile.BC_ONLINE
        ? ODataErpSettings.online(erp.serviceRoot(), o.company(), new ODataErpSettings.OAuth(erp.tokenUrl(),
            o.clientId(), o.clientSecret(), ErpSimulator.scope()))
        : ODataErpSettings.of(erp.serviceRoot(), o.company(), o.user(), o.accessKey());
  }

  /**
   * Points the node at a test's simulators, with its schedules off so the test runs jobs itself.
   *
   * @param erp the ERP simulator's extension (registered before this one)
   * @param crm the CRM simulator's extension (registered before this one)
   * @return this
   */
  public TandemExtension againstSimulators(SimulatorExtension<ErpSimulator> erp,
      SimulatorExtension<DataverseSimulator> crm) {
    return configure(c -> c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
        .withConnections(connections(erp.get(), crm.get())));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String url = TestPostgres.url();
    String schema = "tk_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    db = DatabaseSettings.parse(url, schema, 8, "TANDEM_TEST_DB_URL");
    pluginsDir = Files.createTempDirectory("tandem-plugins-");
    for (Path p : pluginFiles) {
      if (!Files.isRegularFile(p)) {
        throw new IOException("plugin file " + p.toAbsolutePath() + " does not exist: build the plugin first");
      }
      Files.copy(p, pluginsDir.resolve(p.getFileName()));
    }
    Map<String, String> env = new HashMap<>();
    env.put(TandemConfig.ENV_DB_URL, url);
    env.put(TandemConfig.ENV_DB_SCHEMA, schema);
    env.put(TandemConfig.ENV_HTTP_PORT, "0");
    env.put(TandemConfig.ENV_ADMIN_TOKEN, TOKEN);
    env.put(TandemConfig.ENV_PLUGINS_DIR, pluginsDir.toString());
    config = customizer.apply(TandemConfig.load(null, env).withDatabase(db));
    runtime = await(cipher == null ? TandemRuntime.start(config) : TandemRuntime.start(config, cipher));
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try {
      if (runtime != null) {
        await(runtime.stop());
      }
    } finally {
      dropSchema();
    }
  }

  private void dropSchema() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = PgBuilder.pool().connectingTo(db.connectOptions()).using(vertx).build();
      await(pool.query("DROP SCHEMA IF EXISTS " + db.schema() + " CASCADE").execute());
      await(pool.close());
    } finally {
      await(vertx.close());
    }
  }

  /**
   * Kills the node the way a crash would: its Vert.x instance goes away without finishing its jobs or giving
   * their leases back, so another node only takes them over once the leases expire. Call {@link #restart()}
   * next.
   *
   * @throws Exception when the node does not go away within a minute
   */
  public void crash() throws Exception {
    TandemRuntime dead = runtime;
    runtime = null;
    await(dead.vertx().close());
  }

  /**
   * Starts a new node on the same schema and plugins, as a replacement for one that {@link #crash() crashed};
   * it has its own node id, so it claims the dead node's jobs once their leases expire.
   *
   * @throws Exception when the node does not start
   */
  public void restart() throws Exception {
    if (runtime != null) {
      await(runtime.stop());
    }
    TandemConfig next = config.withNodeId(config.nodeId() + "-restart-" + (++restarts));
    runtime = await(cipher == null ? TandemRuntime.start(next) : TandemRuntime.start(next, cipher));
  }

  /** @return the running node */
  public TandemRuntime runtime() {
    return runtime;
  }

  /** @return the node's database settings (its own schema) */
  public DatabaseSettings database() {
    return db;
  }

  /** @return the base URL of the node's admin API, e.g. {@code http://localhost:41234} */
  public String baseUrl() {
    return "http://localhost:" + runtime.httpPort();
  }

  /**
   * Calls the admin API with the node's token.
   *
   * @param method HTTP method
   * @param path path, e.g. {@code /api/v1/plugins}
   * @param body JSON body, or null
   * @return the response
   * @throws Exception on I/O failure
   */
  public ApiResponse api(String method, String path, JsonObject body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path))
        .header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new ApiResponse(r.statusCode(), r.body());
  }

  /**
   * Starts a background job through the API (a POST that answers 202 with its {@code jobId}) and waits for it.
   *
   * @param path e.g. {@code /api/v1/mappings/CUSTOMER/couple-by-match}
   * @param body the request body
   * @return the job as {@code GET /api/v1/jobs/{id}} shows it once it ended (SUCCEEDED or FAILED)
   * @throws Exception on I/O failure, or an AssertionError when the POST is refused or the job does not end in 2 min
   */
  public JsonObject runJob(String path, JsonObject body) throws Exception {
    ApiResponse r = api("POST", path, body);
    if (r.status() != 202) {
      throw new AssertionError("POST " + path + " answered " + r.status() + ": " + r.body());
    }
    return awaitJob(r.json().getLong("jobId"));
  }

  /**
   * Runs a mapping's synchronization now and waits for it.
   *
   * @param mapping the mapping
   * @return the ended job (SUCCEEDED or FAILED), with its counts and message
   * @throws Exception on I/O failure
   */
  public JsonObject sync(String mapping) throws Exception {
    return runJob("/api/v1/mappings/" + mapping + "/sync", new JsonObject());
  }

  /**
   * Runs a mapping's synchronization now and waits for it; it must succeed.
   *
   * @param mapping the mapping
   * @return the job's counts
   * @throws Exception on I/O failure, or an AssertionError when the job fails
   */
  public JsonObject syncSucceeded(String mapping) throws Exception {
    JsonObject job = sync(mapping);
    if (!"SUCCEEDED".equals(job.getString("status"))) {
      throw new AssertionError("sync of " + mapping + " did not succeed: " + job.encode());
    }
    return job.getJsonObject("counts");
  }

  /**
   * @param mapping a mapping
   * @return the CRM id of each coupled record of the mapping, by ERP key (up to 1,000 couplings)
   * @throws Exception on I/O failure
   */
  public Map<String, String> coupledCrmIds(String mapping) throws Exception {
    ApiResponse r = api("GET", "/api/v1/couplings?mapping=" + mapping + "&limit=1000", null);
    if (r.status() != 200) {
      throw new AssertionError("couplings of " + mapping + ": " + r.status() + " " + r.body());
    }
    Map<String, String> out = new HashMap<>();
    r.json().getJsonArray("couplings").forEach(o -> {
      JsonObject c = (JsonObject) o;
      if ("COUPLED".equals(c.getString("state"))) {
        out.put(c.getString("erpId"), c.getString("crmId"));
      }
    });
    return out;
  }

  /**
   * @param id a job id
   * @return the job once it ended (SUCCEEDED or FAILED)
   * @throws Exception on I/O failure, or an AssertionError when it does not end within 2 minutes
   */
  public JsonObject awaitJob(long id) throws Exception {
    for (int i = 0; i < 1200; i++) {
      JsonObject job = api("GET", "/api/v1/jobs/" + id, null).json();
      if ("SUCCEEDED".equals(job.getString("status")) || "FAILED".equals(job.getString("status"))) {
        return job;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job " + id + " did not end within 2 minutes");
  }

  /**
   * An admin API response.
   *
   * @param status HTTP status
   * @param body the body text
   */
  public record ApiResponse(int status, String body) {
    /** @return the body as a JSON object */
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** Lists the plugin files a test installed, for assertions and messages. */
  List<Path> installed() throws IOException {
    try (var s = Files.list(pluginsDir)) {
      return new ArrayList<>(s.toList());
    }
  }
}
