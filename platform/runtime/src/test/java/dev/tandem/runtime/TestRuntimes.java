package dev.tandem.runtime;

import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Starts real runtimes for tests: a given schema, any free port, a known token. */
public final class TestRuntimes {

  /** The admin token tests use. */
  public static final String TOKEN = "test-token-0123456789abcdef";

  private TestRuntimes() {}

  /**
   * @param erp the ERP simulator
   * @param crm the CRM simulator
   * @return the node's connections to them, with the integration client on the CRM side and default page sizes
   */
  public static Connections connections(ErpSimulator erp, DataverseSimulator crm) {
    return connections(erp, crm, erpSettings(erp));
  }

  /**
   * @param erp the ERP simulator
   * @return settings for its profile (Basic on nav, the registered client on bc-online), default sizes
   */
  public static ODataErpSettings erpSettings(ErpSimulator erp) {
    ErpSimulator.Options o = erp.options();
    return o.profile() == ErpSimulator.Profile.BC_ONLINE
        ? ODataErpSettings.online(erp.serviceRoot(), o.company(), new ODataErpSettings.OAuth(erp.tokenUrl(),
            o.clientId(), o.clientSecret(), ErpSimulator.scope()))
        : ODataErpSettings.of(erp.serviceRoot(), o.company(), o.user(), o.accessKey());
  }

  /**
   * @param erp the ERP simulator
   * @param crm the CRM simulator
   * @param erpPageSize ERP rows per page (small pages make a run last long enough to interrupt it)
   * @return the node's connections to them
   */
  public static Connections connections(ErpSimulator erp, DataverseSimulator crm, int erpPageSize) {
    return connections(erp, crm, erpSettings(erp).withSizes(erpPageSize, 100, 5).withTimeouts(3, 10_000));
  }

  private static Connections connections(ErpSimulator erp, DataverseSimulator crm, ODataErpSettings erpSettings) {
    return new Connections(erpSettings,
        DataverseSettings.of(crm.apiUrl(), crm.tokenUrl(), "tandem-sync", "tandem-secret", null));
  }

  /**
   * @param db database settings
   * @param pluginsDir plugins directory
   * @return a configuration for a test node
   */
  public static TandemConfig config(DatabaseSettings db, Path pluginsDir) {
    Map<String, String> env = new HashMap<>();
    env.put(TandemConfig.ENV_DB_URL, TestDatabase.URL);
    env.put(TandemConfig.ENV_DB_SCHEMA, db.schema());
    env.put(TandemConfig.ENV_HTTP_PORT, "0");
    env.put(TandemConfig.ENV_ADMIN_TOKEN, TOKEN);
    env.put(TandemConfig.ENV_PLUGINS_DIR, pluginsDir.toString());
    return TandemConfig.load(null, env).withDatabase(db);
  }

  /**
   * @param config configuration
   * @return the started runtime
   * @throws Exception when it does not start
   */
  public static TandemRuntime start(TandemConfig config) throws Exception {
    return TandemRuntime.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /**
   * @param rt a runtime to stop
   * @throws Exception when stopping fails
   */
  public static void stop(TandemRuntime rt) throws Exception {
    if (rt != null) {
      rt.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Waits until a condition holds.
   *
   * @param what described in the failure
   * @param timeoutMs how long
   * @param condition the condition
   * @throws InterruptedException when interrupted
   */
  public static void await(String what, long timeoutMs, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long end = System.currentTimeMillis() + timeoutMs;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > end) {
        throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what);
      }
      Thread.sleep(50);
    }
  }
}
