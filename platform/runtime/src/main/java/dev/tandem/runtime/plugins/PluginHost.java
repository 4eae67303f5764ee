package dev.tandem.runtime.plugins;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.JobKind;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.VerticleContribution;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.pf4j.PluginWrapper;

/**
 * Loads the plugins in the plugins directory, checks their mappings' dependencies across plugins, and deploys
 * the verticles they contribute with each plugin's own class loader. A plugin that fails at any step is
 * recorded with the reason (log and admin API) and the others go on.
 */
public final class PluginHost {

  private static final System.Logger LOG = System.getLogger(PluginHost.class.getName());

  private final Vertx vertx;
  private final Path pluginsDir;
  private final JsonObject pluginSettings;
  private final MeterRegistry registry;
  private TandemPluginManager manager;

  // Synchronized: a restart (connection change) refills them on a worker thread while the admin API reads them.
  private final Map<String, PluginRecord> plugins = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
  private final Map<String, MappingStatus> mappings = new ConcurrentHashMap<>();
  /** Ledger jobs (the Item Availability job) of started plugins, by name. */
  private final Map<String, dev.tandem.api.LedgerJobDefinition> ledgerJobs =
      java.util.Collections.synchronizedMap(new LinkedHashMap<>());
  private final Map<String, List<EntityPlugin>> extensions = new LinkedHashMap<>();
  /** The extension that declared each mapping, for its sync task. */
  private final Map<String, EntityPlugin> declaredBy = new java.util.HashMap<>();
  private final Set<String> servedAddresses = ConcurrentHashMap.newKeySet();
  private PluginServices services = PluginServices.NONE;

  /**
   * @param vertx Vert.x
   * @param pluginsDir the plugins directory; absent means no plugins
   * @param pluginSettings {@code plugins} section of the configuration, by plugin id
   * @param registry metrics registry for plugin metrics
   */
  public PluginHost(Vertx vertx, Path pluginsDir, JsonObject pluginSettings, MeterRegistry registry) {
    this.vertx = vertx;
    this.pluginsDir = pluginsDir;
    this.pluginSettings = pluginSettings;
    this.registry = registry;
  }

  /**
   * @param value the connectors and couplings plugins get through their context; call before {@link #start()}
   * @return this
   */
  public PluginHost services(PluginServices value) {
    this.services = value;
    return this;
  }

  /** @return what the plugins were given through their context */
  public PluginServices services() {
    return services;
  }

  /**
   * Stops every plugin and starts them again with other services: the connection changed what plugins are
   * configured from (the ERP generation decides which mappings a plugin declares; the availability user which
   * connector its verticles hold). Mapping settings, couplings and schedules live in PostgreSQL and stay.
   *
   * @param value the new services
   * @return done; plugins that fail to start again are recorded as failed
   */
  public Future<Void> restart(PluginServices value) {
    return stop().compose(v -> {
      plugins.clear();
      mappings.clear();
      ledgerJobs.clear();
      extensions.clear();
      declaredBy.clear();
      servedAddresses.clear();
      manager = null;
      services = value;
      return start();
    });
  }

  /** @return loads, checks and deploys; succeeds even when plugins fail (they are recorded as failed) */
  public Future<Void> start() {
    return vertx.executeBlocking(() -> {
      loadAndStart();
      return null;
    }).compose(v -> deployAll());
  }

  private void loadAndStart() {
    if (!Files.isDirectory(pluginsDir)) {
      LOG.log(Level.INFO, "plugins directory " + pluginsDir.toAbsolutePath() + " does not exist: no plugins loaded");
      return;
    }
    manager = new TandemPluginManager(pluginsDir);
    for (Path path : manager.pluginPaths()) {
      try {
        manager.loadPlugin(path);
      } catch (RuntimeException | LinkageError e) {
        String id = path.getFileName().toString();
        PluginRecord failed = new PluginRecord(id, null, null, null, path.toString());
        failed.fail("failed to load " + path.getFileName() + ": " + rootMessage(e));
        plugins.put(id, failed);
        LOG.log(Level.ERROR, "plugin " + path + " failed to load", e);
      }
    }
    for (PluginWrapper w : manager.getPlugins()) {
      String id = w.getPluginId();
      PluginRecord rec = new PluginRecord(id, w.getDescriptor().getVersion(), w.getDescriptor().getProvider(),
          w.getDescriptor().getPluginDescription(), String.valueOf(w.getPluginPath()));
      plugins.put(id, rec);
      try {
        org.pf4j.PluginState s = manager.startPlugin(id);
        if (s != org.pf4j.PluginState.STARTED) {
          rec.fail(explainStartFailure(w, s));
          continue;
        }
      } catch (RuntimeException | LinkageError e) {
        rec.fail("failed to start: " + rootMessage(e));
        continue;
      }
      List<EntityPlugin> found;
      try {
        found = manager.getExtensions(EntityPlugin.class, id);
      } catch (RuntimeException | LinkageError e) {
        rec.fail("its EntityPlugin extension could not be created: " + rootMessage(e));
        continue;
      }
      if (found.isEmpty()) {
        rec.fail(explainNoExtension(id, w));
        continue;
      }
      extensions.put(id, found);
      for (EntityPlugin ext : found) {
        List<MappingDefinition> defs;
        try {
          checkDeclaredSettings(id, ext);
          // A node without an ERP connection yet tells none; the plugins restart when the connection brings one.
          ext.configure(settingsFor(id, services.erp()));
        } catch (RuntimeException | LinkageError e) {
          // An IllegalArgumentException is the SPI's way to name the bad setting: its message is the whole story.
          rec.fail("its settings (plugins." + id + ") are invalid: " + (e instanceof IllegalArgumentException
              && e.getMessage() != null ? e.getMessage() : rootMessage(e)));
          break;
        }
        try {
          defs = ext.mappings();
        } catch (RuntimeException | LinkageError e) {
          rec.fail("declaring its mappings failed: " + rootMessage(e));
          break;
        }
        try {
          for (dev.tandem.api.LedgerJobDefinition j : ext.ledgerJobs()) {
            if (ledgerJobs.putIfAbsent(j.name(), j) != null) {
              LOG.log(Level.WARNING, "plugin " + id + ": ledger job " + j.name() + " is already provided; ignored");
            }
          }
        } catch (RuntimeException | LinkageError e) {
          rec.fail("declaring its ledger jobs failed: " + rootMessage(e));
          break;
        }
        for (MappingDefinition def : defs) {
          MappingStatus status = new MappingStatus(def, id);
          rec.mappingsMutable().add(status);
          MappingStatus existing = mappings.putIfAbsent(def.name(), status);
          if (existing != null) {
            status.disable("mapping " + def.name() + " is already provided by plugin " + existing.pluginId());
            continue;
          }
          declaredBy.put(def.name(), ext);
          String unfit = def.compositeErpKey() ? "a composite ERP key (" + def.erpKey() + ")"
              : !def.children().isEmpty() ? "lines (" + def.children().get(0).lines().name() + ")" : null;
          if (unfit != null && !declaresTask(ext, def)) {
            status.disable("mapping " + def.name() + " has " + unfit + ", which the generic engine does not "
                + "synchronize, and plugin " + id + " declares no SyncTask for it (EntityPlugin.syncTask)");
          }
        }
      }
    }
    for (String named : pluginSettings.fieldNames()) {
      if (!plugins.containsKey(named)) {
        String nearest = dev.tandem.api.Setting.nearest(named, plugins.keySet());
        LOG.log(Level.WARNING, "plugins." + named + " in the configuration names no installed plugin"
            + (nearest != null ? ": did you mean plugins." + nearest + "?" : " (installed: " + plugins.keySet() + ")"));
      }
    }
    Map<String, MappingStatus> usable = new LinkedHashMap<>();
    for (PluginRecord rec : plugins.values()) {
      if (rec.state() == PluginState.FAILED) {
        rec.mappingsMutable().forEach(m -> m.disable("plugin " + rec.id() + " failed: " + rec.reason()));
      }
    }
    mappings.values().forEach(m -> usable.put(m.name(), m));
    MappingGraph.check(usable);
    plugins.values().forEach(PluginHost::settleState);
    plugins.values().forEach(p -> LOG.log(p.state() == PluginState.STARTED ? Level.INFO : Level.WARNING,
        "plugin " + p.id() + ": " + p.state() + (p.reason() == null ? "" : " - " + p.reason())));
  }

  private static void settleState(PluginRecord rec) {
    if (rec.state() == PluginState.FAILED) {
      return;
    }
    List<MappingStatus> disabled = rec.mappingsMutable().stream().filter(m -> !m.enabled()).toList();
    if (disabled.isEmpty()) {
      return;
    }
    String why = disabled.stream().map(MappingStatus::disabledReason).collect(Collectors.joining("; "));
    rec.state(disabled.size() == rec.mappingsMutable().size() ? PluginState.FAILED : PluginState.DEGRADED, why);
  }

  /** PF4J reports a missing plugin class as a NullPointerException: name the class instead. */
  private static String explainStartFailure(PluginWrapper w, org.pf4j.PluginState s) {
    String pluginClass = w.getDescriptor().getPluginClass();
    if (pluginClass != null && !pluginClass.isBlank() && !pluginClass.equals(org.pf4j.Plugin.class.getName())) {
      try {
        w.getPluginClassLoader().loadClass(pluginClass);
      } catch (ClassNotFoundException | LinkageError e) {
        return "failed to start: its plugin class " + pluginClass
            + " (Plugin-Class in its descriptor) cannot be loaded: " + rootMessage(e);
      }
    }
    Throwable why = w.getFailedException();
    return "failed to start (PF4J state " + s + ")" + (why == null ? "" : ": " + rootMessage(why));
  }

  private String explainNoExtension(String id, PluginWrapper w) {
    Set<String> names = manager.getExtensionClassNames(id);
    if (names == null || names.isEmpty()) {
      return "declares no EntityPlugin extension: its jar has no META-INF/extensions.idx entry "
          + "(annotate the class with @Extension and keep tandem-api and pf4j 'provided')";
    }
    List<String> problems = new ArrayList<>();
    for (String name : names) {
      try {
        Class<?> c = w.getPluginClassLoader().loadClass(name);
        if (!EntityPlugin.class.isAssignableFrom(c)) {
          problems.add(name + " does not implement " + EntityPlugin.class.getName()
              + " as the runtime loads it (does the plugin bundle its own copy of tandem-api?)");
        }
      } catch (ClassNotFoundException | LinkageError e) {
        problems.add("extension class " + name + " cannot be loaded: " + rootMessage(e));
      }
    }
    return "no usable EntityPlugin extension: " + (problems.isEmpty() ? names.toString() : String.join("; ", problems));
  }

  private Future<Void> deployAll() {
    List<Future<?>> all = new ArrayList<>();
    for (Map.Entry<String, List<EntityPlugin>> e : extensions.entrySet()) {
      PluginRecord rec = plugins.get(e.getKey());
      if (rec.state() != PluginState.FAILED) {
        all.add(deploy(rec, e.getValue()).recover(err -> Future.succeededFuture()));
      }
    }
    return Future.join(all).mapEmpty();
  }

  private Future<Void> deploy(PluginRecord rec, List<EntityPlugin> exts) {
    ClassLoader loader = manager.getPluginClassLoader(rec.id());
    JsonObject settings = pluginSettings.getValue(rec.id()) instanceof JsonObject o ? o : new JsonObject();
    DefaultPluginContext ctx = new DefaultPluginContext(vertx, rec.id(), settings,
        new MicrometerPluginMetrics(registry, rec.id()), mappings, services);
    Set<String> own = rec.mappingsMutable().stream().filter(MappingStatus::enabled).map(MappingStatus::name)
        .collect(Collectors.toSet());
    List<VerticleContribution> contributions = new ArrayList<>();
    try {
      for (EntityPlugin ext : exts) {
        contributions.addAll(ext.verticles(ctx));
      }
    } catch (RuntimeException | LinkageError e) {
      return failDeployment(rec, "contributing its verticles failed: " + rootMessage(e));
    }
    Future<Void> chain = Future.succeededFuture();
    for (VerticleContribution c : contributions) {
      if (!own.contains(c.mapping())) {
        LOG.log(Level.WARNING, "plugin " + rec.id() + " contributes a verticle for mapping " + c.mapping()
            + ", which it does not provide or which is disabled: not deployed");
        continue;
      }
      chain = chain.compose(v -> vertx.deployVerticle(c.factory(),
              new DeploymentOptions().setClassLoader(loader).setInstances(c.instances()))
          .map(id -> {
            rec.deployments().add(id);
            if (c.address() != null) {
              servedAddresses.add(c.address());
            }
            if (c.kind() == JobKind.SYNC) {
              servedAddresses.add(JobKind.FULL_SYNC.address(c.mapping()));
            }
            return (Void) null;
          }));
    }
    return chain.recover(e -> failDeployment(rec, "deploying its verticles failed: " + rootMessage(e)));
  }

  private Future<Void> failDeployment(PluginRecord rec, String why) {
    rec.fail(why);
    rec.mappingsMutable().forEach(m -> m.disable("plugin " + rec.id() + " failed: " + why));
    LOG.log(Level.ERROR, "plugin " + rec.id() + " " + why);
    List<Future<?>> undeploys = new ArrayList<>();
    for (String id : List.copyOf(rec.deployments())) {
      undeploys.add(vertx.undeploy(id));
    }
    rec.deployments().clear();
    return Future.join(undeploys).transform(ar -> Future.failedFuture(why));
  }

  /** @return every plugin found, in load order */
  public Collection<PluginRecord> plugins() {
    return List.copyOf(plugins.values());
  }

  /**
   * The enabled mappings the started plugins would declare on another ERP connection (its generation decides which:
   * the price lists on {@code bc-online}, the legacy pair on {@code nav}), declared by fresh extension instances so
   * the running ones are untouched. The setup guide checks a candidate connection's web services against these
   * before it stores the connection (and the plugins restart on it).
   *
   * @param erp the candidate ERP connection
   * @return the mappings' definitions
   */
  public List<MappingDefinition> mappingsFor(dev.tandem.runtime.connectors.erp.ODataErpSettings erp) {
    List<MappingDefinition> current = mappings.values().stream().filter(MappingStatus::enabled)
        .map(MappingStatus::definition).toList();
    if (manager == null || erp == null || services.erp() != null && services.erp().profile() == erp.profile()) {
      return current;
    }
    List<MappingDefinition> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String id : List.copyOf(extensions.keySet())) {
      PluginRecord rec = plugins.get(id);
      if (rec == null || rec.state() == PluginState.FAILED) {
        continue;
      }
      try {
        for (Class<? extends EntityPlugin> c : manager.getExtensionClasses(EntityPlugin.class, id)) {
          EntityPlugin fresh = manager.getExtensionFactory().create(c);
          if (extensions.get(id).contains(fresh)) {
            return current; // a factory that hands out the running instance: configuring it would change it
          }
          fresh.configure(settingsFor(id, erp));
          for (MappingDefinition d : fresh.mappings()) {
            MappingStatus now = mappings.get(d.name());
            if ((now == null || now.enabled()) && seen.add(d.name())) {
              out.add(d);
            }
          }
        }
      } catch (RuntimeException | LinkageError e) {
        LOG.log(Level.WARNING, "plugin " + id + " could not declare its mappings for ERP profile "
            + erp.profile().id() + ": " + rootMessage(e));
        return current;
      }
    }
    return out;
  }

  /** {@code erpProfile}, which the runtime hands every plugin, is a declared setting of each. */
  static final dev.tandem.api.Setting ERP_PROFILE = dev.tandem.api.Setting.string("erpProfile")
      .oneOf("nav", "bc-online").defaultDoc("the ERP connection's profile")
      .doc("the ERP's generation, added by the runtime when an ERP connection is configured");

  /**
   * A plugin that declares its settings ({@link EntityPlugin#settings()}) has them checked before it is configured:
   * unknown keys (with the nearest declared one) and bad values, all at once.
   *
   * @throws IllegalArgumentException naming every problem
   */
  private void checkDeclaredSettings(String id, EntityPlugin ext) {
    List<dev.tandem.api.Setting> declared = ext.settings();
    if (declared == null || declared.isEmpty()) {
      return;
    }
    Object given = pluginSettings.getValue(id);
    if (given != null && !(given instanceof JsonObject)) {
      throw new IllegalArgumentException("plugins." + id + " must be an object of settings");
    }
    List<dev.tandem.api.Setting> all = new ArrayList<>(declared);
    if (declared.stream().noneMatch(d -> d.name().equals(ERP_PROFILE.name()))) {
      all.add(ERP_PROFILE);
    }
    List<String> problems = dev.tandem.api.Setting.problems(all, given == null ? new JsonObject() : (JsonObject) given,
        "plugins." + id, null);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
  }

  /**
   * @param id a plugin
   * @param erp the ERP connection it is configured for, or null
   * @return its section of the configuration, with the connection's {@code erpProfile} unless the operator set one
   */
  private JsonObject settingsFor(String id, dev.tandem.runtime.connectors.erp.ODataErpSettings erp) {
    JsonObject settings = pluginSettings.getValue(id) instanceof JsonObject o ? o.copy() : new JsonObject();
    if (erp != null && !settings.containsKey("erpProfile")) {
      settings.put("erpProfile", erp.profile().id());
    }
    return settings;
  }

  /** @return the ledger jobs declared by started plugins, by name */
  public Map<String, dev.tandem.api.LedgerJobDefinition> ledgerJobs() {
    return Map.copyOf(ledgerJobs);
  }

  /** @return every mapping declared by a started plugin, by name */
  public Map<String, MappingStatus> mappings() {
    return Map.copyOf(mappings);
  }

  /**
   * Records that something outside the plugins (the runtime's generic engine) serves an address.
   *
   * @param address the address now served
   */
  public void served(String address) {
    servedAddresses.add(address);
  }

  /**
   * Records that something outside the plugins no longer serves an address (the generic engine redeploys when the
   * connection changes).
   *
   * @param address the address no longer served
   */
  public void unserved(String address) {
    servedAddresses.remove(address);
  }

  private static boolean declaresTask(EntityPlugin ext, MappingDefinition def) {
    try {
      return ext.syncTask(def) != null;
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  /**
   * A plugin's own sync task for a mapping.
   *
   * @param factory creates a task (one per serving verticle)
   * @param pluginId the plugin
   * @param settings the plugin's settings
   */
  public record TaskSource(java.util.function.Supplier<dev.tandem.api.SyncTask> factory, String pluginId,
      JsonObject settings) {}

  /**
   * @param mapping an enabled mapping
   * @return its plugin's sync task, or empty for the generic engine
   */
  public java.util.Optional<TaskSource> syncTask(String mapping) {
    EntityPlugin ext = declaredBy.get(mapping);
    MappingStatus status = mappings.get(mapping);
    if (ext == null || status == null || !declaresTask(ext, status.definition())) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(new TaskSource(() -> ext.syncTask(status.definition()), status.pluginId(),
        settingsFor(status.pluginId(), services.erp())));
  }

  /**
   * @param mapping a mapping
   * @return whether a verticle serves its sync jobs
   */
  public boolean syncServed(String mapping) {
    return servedAddresses.contains(JobKind.SYNC.address(mapping));
  }

  /**
   * @param mapping a mapping
   * @return whether a verticle serves its coupling jobs (couple, uncouple, match)
   */
  public boolean couplingServed(String mapping) {
    return servedAddresses.contains(JobKind.COUPLE.address(mapping));
  }

  /** @return enabled mappings that have a verticle serving their sync jobs */
  public List<MappingStatus> schedulableMappings() {
    return mappings.values().stream()
        .filter(m -> m.enabled() && servedAddresses.contains(JobKind.SYNC.address(m.name())))
        .toList();
  }

  /**
   * Says why no verticle consumes a mapping's jobs, naming the plugin concerned.
   *
   * @param mapping the mapping
   * @return the explanation
   */
  public String explainMissing(String mapping) {
    MappingStatus m = mappings.get(mapping);
    if (m == null) {
      String failedLoads = List.copyOf(plugins.values()).stream().filter(p -> p.state() == PluginState.FAILED
              && p.mappings().isEmpty())
          .map(p -> p.id() + " (" + p.reason() + ")").collect(Collectors.joining(", "));
      return "no installed plugin provides mapping " + mapping
          + (failedLoads.isEmpty() ? "" : "; plugins that failed before declaring mappings: " + failedLoads);
    }
    PluginRecord rec = plugins.get(m.pluginId());
    if (rec != null && rec.state() == PluginState.FAILED) {
      return "plugin " + rec.id() + ", which provides mapping " + mapping + ", failed: " + rec.reason();
    }
    if (!m.enabled()) {
      return "mapping " + mapping + " of plugin " + m.pluginId() + " is disabled: " + m.disabledReason();
    }
    return "plugin " + m.pluginId() + " provides mapping " + mapping
        + " but no verticle serves this kind of job for it (the generic engine serves mappings when both the ERP "
        + "and the CRM connection are configured)";
  }

  /** @return undeploys plugin verticles and stops the plugins */
  public Future<Void> stop() {
    List<Future<?>> undeploys = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    List.copyOf(plugins.values()).forEach(p -> ids.addAll(p.deployments()));
    ids.forEach(id -> undeploys.add(vertx.undeploy(id).recover(e -> Future.succeededFuture())));
    return Future.join(undeploys).compose(v -> vertx.executeBlocking(() -> {
      if (manager != null) {
        manager.stopAndUnloadAll();
      }
      return null;
    })).mapEmpty();
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getClass().getSimpleName() + ": " + t.getMessage();
    return t == e ? m : e.getMessage() + " (" + m + ")";
  }
}
