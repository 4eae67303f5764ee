package dev.tandem.runtime;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.fullsync.FullSyncCoordinatorVerticle;
import dev.tandem.runtime.plugins.PluginServices;
import dev.tandem.runtime.store.PgCouplingService;
import dev.tandem.runtime.http.AdminHttpServer;
import dev.tandem.runtime.jobs.DispatcherVerticle;
import dev.tandem.runtime.jobs.JobMetrics;
import dev.tandem.runtime.jobs.SchedulerVerticle;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.JobLeases;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.PgNodeRegistry;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.SchemaMigrator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import dev.tandem.api.Addresses;
import dev.tandem.api.JobKind;
import dev.tandem.api.MappingDefinition;
import java.util.Map;
import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.store.PgBudgetSlots;
import dev.tandem.runtime.coupling.GenericCouplingVerticle;
import dev.tandem.runtime.sync.ErpChangeWatcherVerticle;
import dev.tandem.runtime.sync.GenericSyncVerticle;
import dev.tandem.runtime.sync.SyncMetrics;

/**
 * One Tandem node: Vert.x with Micrometer metrics, the PostgreSQL schema migrated and pooled, plugins loaded,
 * the dispatcher and scheduler deployed and the admin API listening. Several nodes may share one database.
 */
public final class TandemRuntime {

  private static final System.Logger LOG = System.getLogger(TandemRuntime.class.getName());

  private final TandemConfig config;
  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private Pool pool;
  private BudgetSlotKeeper budgetSlots;
  private Pool slotPool;
  private PgJobQueue queue;
  private PgNodeRegistry nodes;
  private final JobLeases leases = new JobLeases();
  private PgScheduleStore schedules;
  private PluginHost plugins;
  private JobMetrics jobMetrics;
  private AdminHttpServer http;
  private final List<String> deployments = new ArrayList<>();
  /** The generic engine's verticles, redeployed whenever the connection in effect changes. */
  private final List<String> engine = new ArrayList<>();
  private final List<String> engineAddresses = new ArrayList<>();
  private final dev.tandem.runtime.connection.SecretCipher cipher;
  private dev.tandem.runtime.connection.ConnectionService connection;
  private Future<Void> engineChange = Future.succeededFuture();

  private TandemRuntime(TandemConfig config, dev.tandem.runtime.connection.SecretCipher cipher) {
    this.config = config;
    this.cipher = cipher;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    dev.tandem.runtime.http.HttpMetricLabels.bound(registry);
    this.vertx = Vertx.builder()
        .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)
            .addLabels(io.vertx.micrometer.Label.HTTP_ROUTE)))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  /**
   * Starts a node.
   *
   * @param config the configuration
   * @return the running node; fails (and releases what it started) when the database is unusable
   */
  public static Future<TandemRuntime> start(TandemConfig config) {
    dev.tandem.runtime.connection.SecretCipher cipher;
    try {
      cipher = dev.tandem.runtime.connection.SecretCipher.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return start(config, cipher);
  }

  /**
   * Starts a node.
   *
   * @param config the configuration
   * @param cipher seals the stored connection's secrets, or null when no secret key is configured
   * @return the running node
   */
  public static Future<TandemRuntime> start(TandemConfig config, dev.tandem.runtime.connection.SecretCipher cipher) {
    TandemRuntime rt = new TandemRuntime(config, cipher);
    // A promise bound to no Vert.x context: when the boot fails, Vert.x is closed before the failure is reported,
    // and a context-bound future would never deliver it.
    io.vertx.core.Promise<TandemRuntime> result = io.vertx.core.Promise.promise();
    rt.boot().onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(rt);
      } else {
        rt.stop().onComplete(ignored -> result.fail(ar.cause()));
      }
    });
    return result.future();
  }

  private Future<Void> boot() {
    LOG.log(Level.INFO, "starting node " + config.nodeId() + " against " + config.database());
    return vertx.executeBlocking(() -> new SchemaMigrator(config.database()).migrate())
        .compose(version -> {
          LOG.log(Level.INFO, "database schema at version " + version);
          pool = PgBuilder.pool()
              .with(new PoolOptions().setMaxSize(config.database().poolSize()).setName("tandem")
                  // Fail fast when PostgreSQL is gone instead of queueing requests for the default 30 s.
                  .setConnectionTimeout(5).setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS))
              .with(new io.vertx.core.net.NetClientOptions().setConnectTimeout(3000))
              .connectingTo(config.database().connectOptions())
              .using(vertx)
              .build();
          queue = new PgJobQueue(pool);
          nodes = new PgNodeRegistry(pool);
          schedules = new PgScheduleStore(pool);
          jobMetrics = new JobMetrics(registry);
          connection = new dev.tandem.runtime.connection.ConnectionService(vertx,
              new dev.tandem.runtime.store.PgConnectionStore(pool), cipher, config.connections());
          return connection.start(config.database().connectOptions(),
              dev.tandem.runtime.store.PgConnectionStore.channel(config.database().schema()));
        })
        .compose(v -> {
          // Plugins get the ERP connection in effect; they are restarted when a change alters it.
          plugins = new PluginHost(vertx, config.pluginsDir(), config.plugins(), registry)
              .services(pluginServices(new PluginServices(null, null, EndpointMetrics.micrometer(registry),
                  new PgCouplingService(pool))));
          return plugins.start();
        })
        .compose(v -> startEngine(connection.current()))
        .onSuccess(v -> connection.onChange(e -> {
          LOG.log(Level.INFO, "the connection changed (revision " + e.revision() + ", ERP " + e.erpSource()
              + ", CRM " + e.crmSource() + (e.enabled() ? "" : ", disabled: " + e.disabledReason())
              + "): the engine restarts for the jobs that start from now on");
          engineChange = engineChange.compose(x -> stopEngine()).compose(x -> restartPluginsIfChanged())
              .compose(x -> startEngine(e))
              .recover(err -> {
                LOG.log(Level.ERROR, "restarting the engine after a connection change failed", err);
                return Future.succeededFuture();
              });
          return engineChange;
        }))
        .compose(v -> vertx.deployVerticle(new DispatcherVerticle(queue, config.jobs(), config.nodeId(),
            plugins::explainMissing, jobMetrics).leases(leases).nodes(nodes, version())
            .listen(config.database().connectOptions(), PgNodeRegistry.jobChannel(config.database().schema()))))
        .compose(id -> {
          deployments.add(id);
          return vertx.deployVerticle(new SchedulerVerticle(schedules, queue, config.schedules().tickMs(),
              config.schedules().enabled(), config.jobs().maxAttempts(), jobMetrics, config.jobs().retentionMs()));
        })
        .compose(id -> {
          deployments.add(id);
          http = new AdminHttpServer(vertx, pool, queue, schedules, plugins, registry, config.adminToken())
              .settings(config.http())
              .enqueue(this::enqueue)
              .connections(connections())
              .nodes(nodes, DispatcherVerticle.deadAfterMs(config.jobs()))
              .fullSync(connections().erp() != null && connections().crm() != null)
              .connection(connection, config.schedules().inactivityTimeoutMs());
          return http.start(config.httpHost(), config.httpPort());
        })
        .onSuccess(s -> LOG.log(Level.INFO, "admin API listening on port " + s.actualPort()))
        .mapEmpty();
  }

  /**
   * @param base the services plugins have now
   * @return them with the connection in effect: its ERP side and its item-availability settings
   */
  private PluginServices pluginServices(PluginServices base) {
    io.vertx.core.json.JsonObject av = connection.storedSettings().getJsonObject("availability");
    PluginServices.Availability availability = av == null ? null : new PluginServices.Availability(
        Boolean.TRUE.equals(av.getBoolean("enabled")), av.getString("user"),
        av.getString("user") == null ? null : connection.availabilityKey());
    return base.with(connections().erp(), availability);
  }

  /**
   * Plugins are configured from the connection (the ERP generation decides the mappings a plugin declares, the
   * availability user the connector its verticles hold): when a change alters that, they restart, so the change
   * applies without restarting the node. Other changes leave them running.
   */
  private Future<Void> restartPluginsIfChanged() {
    PluginServices next = pluginServices(plugins.services());
    if (next.equals(plugins.services())) {
      return Future.succeededFuture();
    }
    LOG.log(Level.INFO, "the connection changed what plugins are configured from (ERP " + (next.erp() == null
        ? "none" : next.erp().profile().id() + " " + next.erp().serviceRoot()) + ", " + next.availability()
        + "): restarting the plugins");
    return plugins.restart(next);
  }

  /** @return the connections in effect (the stored one, with the configured sides taking precedence) */
  private TandemConfig.Connections connections() {
    return connection.current().connections();
  }

  /**
   * The engine for a connection: CRM budgets, the generic engine's verticles and the schedules of the mappings
   * they serve. Without a complete, enabled connection nothing is deployed and nothing is scheduled.
   */
  private Future<Void> startEngine(dev.tandem.runtime.connection.ConnectionService.Effective e) {
    if (!e.enabled()) {
      return Future.succeededFuture();
    }
    return startBudgets()
        .compose(v -> deployGenericEngine())
        .compose(v -> {
          List<Future<Void>> ensured = new ArrayList<>();
          for (MappingStatus m : plugins.schedulableMappings()) {
            ensured.add(schedules.ensure(m.name(), m.definition().schedule().toMillis(),
                config.schedules().inactivityTimeoutMs()));
          }
          return Future.all(ensured).mapEmpty();
        });
  }

  /** Undeploys the generic engine and releases the CRM budgets, before the engine restarts on a new connection. */
  private Future<Void> stopEngine() {
    List<Future<?>> undeploys = new ArrayList<>();
    for (String id : List.copyOf(engine)) {
      undeploys.add(vertx.undeploy(id).recover(err -> Future.succeededFuture()));
    }
    engine.clear();
    engineAddresses.forEach(plugins::unserved);
    engineAddresses.clear();
    Future<Void> f = Future.join(undeploys).mapEmpty();
    if (budgetSlots != null) {
      BudgetSlotKeeper keeper = budgetSlots;
      budgetSlots = null;
      f = f.compose(v -> keeper.stop()).recover(err -> Future.succeededFuture());
    }
    if (slotPool != null) {
      Pool p = slotPool;
      slotPool = null;
      f = f.compose(v -> p.close()).recover(err -> Future.succeededFuture());
    }
    return f;
  }

  /** @return the node's connection */
  public dev.tandem.runtime.connection.ConnectionService connection() {
    return connection;
  }

  /** How often the node renews its share of each endpoint user's concurrency. */
  static final long BUDGET_HEARTBEAT_MS = 5_000;

  /**
   * The node's budget of each CRM application user and of the ERP user, their concurrency split with the other
   * nodes through PostgreSQL before any request starts.
   */
  private Future<Void> startBudgets() {
    DataverseSettings crm = connections().crm();
    ODataErpSettings erp = connections().erp();
    List<EndpointBudget> budgets = new ArrayList<>();
    long timeoutMs = 0;
    if (crm != null) {
      for (DataverseSettings.Credential c : crm.clients()) {
        budgets.add(EndpointBudget.of(vertx, crm.apiUrl(), c.clientId(), crm.limits(), crm.initialConcurrency()));
      }
      timeoutMs = crm.timeoutMs();
    }
    if (erp != null) {
      // BC's limits are per user: every job of every node shares them (ODataErpClient takes the same budget).
      budgets.add(EndpointBudget.of(vertx, erp.serviceRoot(), erp.user(), erp.limits(), erp.maxConcurrency()));
      timeoutMs = Math.max(timeoutMs, erp.timeoutMs());
    }
    if (budgets.isEmpty()) {
      return Future.succeededFuture();
    }
    // Connections of its own, one per endpoint user: a heartbeat must never wait behind jobs, which may hold
    // the pool's connections while their requests wait for the slots the heartbeat brings.
    slotPool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(budgets.size()).setName("tandem-budget-slots")
            .setConnectionTimeout(5).setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS))
        .connectingTo(config.database().connectOptions())
        .using(vertx)
        .build();
    budgetSlots = new BudgetSlotKeeper(vertx, new PgBudgetSlots(slotPool), config.nodeId(), budgets,
        BUDGET_HEARTBEAT_MS, timeoutMs);
    return budgetSlots.start();
  }

  /** @return this node's Tandem version, as its jar says (development builds have none) */
  static String version() {
    String v = TandemRuntime.class.getPackage().getImplementationVersion();
    return v == null ? "development" : v;
  }

  /** Key ranges a large ERP-to-CRM full synchronization line is cut into unless its start says otherwise. */
  static final int FULL_SYNC_PARTS = 4;

  /** Serves every enabled mapping that no plugin verticle serves with the runtime's generic engine. */
  private Future<Void> deployGenericEngine() {
    TandemConfig.Connections c = connections();
    if (c.erp() == null || c.crm() == null || !connection.current().enabled()) {
      return Future.succeededFuture();
    }
    Map<String, MappingStatus> all = plugins.mappings();
    Function<String, MappingDefinition> enabled = name -> {
      MappingStatus m = all.get(name);
      return m != null && m.enabled() ? m.definition() : null;
    };
    EndpointMetrics metrics = EndpointMetrics.micrometer(registry);
    SyncMetrics syncMetrics = new SyncMetrics(registry);
    List<Future<?>> deployed = new ArrayList<>();
    for (MappingStatus m : all.values()) {
      if (!m.enabled() || plugins.syncServed(m.name())) {
        continue;
      }
      if (m.definition().isOptionSet()) {
        // ERP codes to a CRM option set: its own engine (metadata reads, InsertOptionValue), not entity rows.
        deployed.add(vertx.deployVerticle(new dev.tandem.runtime.sync.OptionSetSyncVerticle(m.definition(), pool, c,
                metrics, syncMetrics)).onSuccess(id -> {
                  engine.add(id);
                  engineAddresses.add(Addresses.sync(m.name()));
                  plugins.served(Addresses.sync(m.name()));
                  LOG.log(Level.INFO, "option-set engine serves mapping " + m.name());
                }));
        continue;
      }
      // A plugin's own SyncTask runs on the same verticle, with the same leases, fencing and error tolerance.
      dev.tandem.runtime.plugins.PluginHost.TaskSource task = plugins.syncTask(m.name()).orElse(null);
      deployed.add(vertx.deployVerticle(new GenericSyncVerticle(m.definition(), enabled, pool, c, metrics,
              syncMetrics).erpDeletionScanMs(config.schedules().erpDeletionScanMs()).leases(leases)
              .task(task == null ? null : task.factory(), task == null ? null : task.pluginId(),
                  task == null ? null : task.settings()))
          .onSuccess(id -> {
            engine.add(id);
            engineAddresses.add(Addresses.sync(m.name()));
            plugins.served(Addresses.sync(m.name()));
            LOG.log(Level.INFO, (task == null ? "generic engine" : "plugin " + task.pluginId() + "'s sync task")
                + " serves mapping " + m.name());
          }));
    }
    // Coupling jobs (match, create counterparts, uncouple) of mappings whose plugin brings no coupling verticle.
    for (MappingStatus m : all.values()) {
      if (!m.enabled() || plugins.couplingServed(m.name()) || m.definition().isOptionSet()) {
        continue; // an option-set mapping couples codes with options in its runs
      }
      deployed.add(vertx.deployVerticle(new GenericCouplingVerticle(m.definition(), enabled, pool, c, metrics))
          .onSuccess(id -> {
            engine.add(id);
            engineAddresses.add(Addresses.coupling(m.name()));
            plugins.served(Addresses.coupling(m.name()));
          }));
    }
    deployed.add(vertx.deployVerticle(new FullSyncCoordinatorVerticle(pool, c, plugins::mappings, this::enqueue,
        metrics, registry, 1000, FULL_SYNC_PARTS)).onSuccess(engine::add));
    // Ledger jobs (the Item Availability job) of enabled mappings, each with its schedule.
    Map<String, dev.tandem.api.LedgerJobDefinition> ledgerJobs = new java.util.LinkedHashMap<>();
    dev.tandem.runtime.ledger.LedgerMetrics ledgerMetrics = new dev.tandem.runtime.ledger.LedgerMetrics(registry);
    for (dev.tandem.api.LedgerJobDefinition j : plugins.ledgerJobs().values()) {
      MappingDefinition def = enabled.apply(j.mapping());
      if (def == null || all.containsKey(j.name())) {
        LOG.log(Level.WARNING, "ledger job " + j.name() + " does not run: " + (def == null ? "its mapping "
            + j.mapping() + " is not enabled" : "a mapping has its name"));
        continue;
      }
      ledgerJobs.put(j.name(), j);
      deployed.add(vertx.deployVerticle(new dev.tandem.runtime.ledger.LedgerJobVerticle(j, def, pool, c, metrics,
              ledgerMetrics, leases))
          .compose(id -> {
            engine.add(id);
            engineAddresses.add(Addresses.ledger(j.name()));
            plugins.served(Addresses.ledger(j.name()));
            return schedules.ensure(j.name(), JobKind.LEDGER.name(), j.schedule().toMillis(),
                config.schedules().inactivityTimeoutMs());
          }));
    }
    // On-hold schedules wake when the ERP side of their mapping changes, or their ledger got new entries.
    deployed.add(vertx.deployVerticle(new ErpChangeWatcherVerticle(pool, c, enabled,
        config.schedules().erpWakeCheckMs(), metrics).ledgerJobs(ledgerJobs::get)).onSuccess(engine::add));
    // Business Central online webhooks wake mappings at once when the ERP side changes.
    if (c.erp() != null && c.erp().profile() == dev.tandem.runtime.connectors.erp.ODataErpSettings.Profile.BC_ONLINE
        && c.erpNotifications().enabled()) {
      deployed.add(vertx.deployVerticle(new dev.tandem.runtime.sync.ErpNotificationsVerticle(pool, c,
          () -> plugins.mappings().values().stream().filter(MappingStatus::enabled).map(MappingStatus::definition)
              .toList(), this::enqueue, metrics)).onSuccess(engine::add));
    }
    checkErpConnection(c, metrics);
    return Future.all(deployed).mapEmpty();
  }

  /**
   * The ERP connection test at start: the credentials are accepted, the configured company exists (BC answers
   * every page of an unknown company with Internal_CompanyNotFound), and every enabled mapping's ERP fields are
   * in the service's $metadata (BC refuses a query naming an unknown property). Problems are logged, naming the
   * mapping and the fields, not fatal: the ERP may be down for a while, and the jobs report their own failures.
   */
  private void checkErpConnection(TandemConfig.Connections c, EndpointMetrics metrics) {
    ODataErpClient probe = new ODataErpClient(vertx, c.erp(), metrics);
    List<MappingDefinition> enabled = plugins.mappings().values().stream().filter(MappingStatus::enabled)
        .map(MappingStatus::definition).toList();
    probe.verifyCompany()
        .onSuccess(names -> LOG.log(Level.INFO, "ERP connection (" + c.erp().profile().id() + ") to "
            + c.erp().serviceRoot() + ": company '" + c.erp().company() + "' found"))
        .compose(names -> probe.metadata())
        .onSuccess(metadata -> {
          for (MappingDefinition m : enabled) {
            ODataErpClient.unknownErpFields(m, metadata).forEach(p -> LOG.log(Level.WARNING, p));
          }
        })
        .onFailure(e -> LOG.log(Level.WARNING, "ERP connection (" + c.erp().profile().id() + ") test failed: "
            + e.getMessage()))
        .onComplete(ar -> probe.close());
  }

  /**
   * Enqueues a job and wakes this node's dispatcher.
   *
   * @param job the job
   * @return its id
   */
  public Future<Long> enqueue(NewJob job) {
    if (connection != null && !connection.current().enabled()) {
      return Future.failedFuture(new dev.tandem.runtime.http.ApiError(409, "connection_disabled",
          "the connection is disabled: " + (connection.current().disabledReason() == null ? "no reason given"
              : connection.current().disabledReason()) + "; enable it with PATCH /api/v1/connection {\"enabled\": true}"));
    }
    return queue.enqueue(job, config.jobs().maxAttempts()).onSuccess(id -> {
      jobMetrics.enqueued(job.kind(), 1);
      vertx.eventBus().send(Addresses.DISPATCHER_WAKE, null);
    });
  }

  /**
   * Stops the node: admin API, dispatcher (pending completions are written), plugins, pool, Vert.x.
   *
   * @return completes when everything is closed
   */
  public Future<Void> stop() {
    Future<Void> f = http == null ? Future.succeededFuture() : http.stop();
    if (connection != null) {
      f = f.compose(v -> connection.stop()).recover(e -> Future.succeededFuture());
    }
    // Reverse order: the dispatcher and scheduler stop before the verticles that serve their jobs.
    List<String> reversed = new ArrayList<>(deployments);
    java.util.Collections.reverse(reversed);
    for (String id : reversed) {
      f = f.compose(v -> vertx.undeploy(id)).recover(e -> Future.succeededFuture());
    }
    // Then the generic engine (and its budgets), once any restart for a connection change is through.
    f = f.compose(v -> engineChange).compose(v -> plugins == null ? Future.<Void>succeededFuture() : stopEngine())
        .recover(e -> Future.succeededFuture());
    if (plugins != null) {
      f = f.compose(v -> plugins.stop()).recover(e -> Future.succeededFuture());
    }
    if (budgetSlots != null) {
      f = f.compose(v -> budgetSlots.stop());
    }
    if (slotPool != null) {
      f = f.compose(v -> slotPool.close()).recover(e -> Future.succeededFuture());
    }
    if (pool != null) {
      f = f.compose(v -> pool.close()).recover(e -> Future.succeededFuture());
    }
    // Close Vert.x from outside its event loops: a close future bound to an event-loop context would never
    // report completion, because that event loop is gone by then.
    return Future.fromCompletionStage(f.toCompletionStage()
        .thenComposeAsync(v -> vertx.close().toCompletionStage(), java.util.concurrent.ForkJoinPool.commonPool()));
  }

  /** @return the configuration */
  public TandemConfig config() {
    return config;
  }

  /** @return the admin API's port */
  public int httpPort() {
    return http.port();
  }

  /** @return Vert.x */
  public Vertx vertx() {
    return vertx;
  }

  /** @return the job queue */
  public PgJobQueue queue() {
    return queue;
  }

  /** @return the plugin host */
  public PluginHost plugins() {
    return plugins;
  }

  /** @return the schedules */
  public PgScheduleStore schedules() {
    return schedules;
  }

  /** @return the admin HTTP server */
  public AdminHttpServer http() {
    return http;
  }

  /** @return the Prometheus registry */
  public PrometheusMeterRegistry registry() {
    return registry;
  }
}
