package dev.tandem.runtime.http;

import dev.tandem.api.BusFailure;
import dev.tandem.api.JobKind;

import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.bus.BusMessages;
import dev.tandem.runtime.bus.BusRequest;
import dev.tandem.runtime.connection.ConnectionChecks;
import dev.tandem.runtime.connection.ConnectionDocument;
import dev.tandem.runtime.connection.ConnectionService;
import dev.tandem.runtime.connection.CrmSetupClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.MappingSettings;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.List;

/**
 * The assisted setup guide ({@code /api/v1/setup}), the reference's "Dynamics 365 Connection Setup": connection,
 * import of the solution (optional), integration user, what to synchronize, finish. Its state lives in PostgreSQL,
 * so a guide begun on one node is resumed on any other; each step is checked before the next may run, and a step
 * whose checks fail changes nothing. The administrator account of the solution step is held in this node's memory
 * only (for the integration-user step), never stored and never logged.
 */
final class SetupApi {

  static final List<String> STEPS = List.of("connection", "solution", "integrationUser", "synchronize", "finish");
  private static final List<String> ADMIN_ROLES = List.of("System Administrator", "System Customizer");
  private static final long ADMIN_HELD_MS = 30 * 60_000;
  private static final DeliveryOptions LONG = new DeliveryOptions().setSendTimeout(120_000);

  private final Vertx vertx;
  private final ConnectionService connection;
  private final PluginHost plugins;
  private final PgScheduleStore schedules;
  private final PgMappingSettingsStore settings;
  private final long inactivityTimeoutMs;
  /** The administrator account, in memory only: client id, secret, until when. */
  private volatile String[] admin;
  private volatile long adminUntil;

  SetupApi(Vertx vertx, ConnectionService connection, PluginHost plugins, PgScheduleStore schedules, Pool pool,
      long inactivityTimeoutMs) {
    this.vertx = vertx;
    this.connection = connection;
    this.plugins = plugins;
    this.schedules = schedules;
    this.settings = new PgMappingSettingsStore(pool);
    this.inactivityTimeoutMs = inactivityTimeoutMs;
  }

  void mount(Router r) {
    r.get("/api/v1/setup").handler(ctx -> connection.store().guide()
        .onSuccess(g -> json(ctx, 200, view(g))).onFailure(ctx::fail));
    r.post("/api/v1/setup/connection").handler(ctx -> step(ctx, "connection", this::connectionStep));
    r.post("/api/v1/setup/solution").handler(ctx -> step(ctx, "solution", this::solutionStep));
    r.post("/api/v1/setup/integration-user").handler(ctx -> step(ctx, "integrationUser", this::integrationUserStep));
    r.post("/api/v1/setup/synchronize").handler(ctx -> step(ctx, "synchronize", this::synchronizeStep));
    r.post("/api/v1/setup/finish").handler(ctx -> step(ctx, "finish", this::finishStep));
  }

  /** A step whose checks failed: 422 with the checks, naming the first failed one. */
  static final class CheckFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final JsonArray checks;

    CheckFailed(JsonArray checks) {
      super(firstFailure(checks));
      this.checks = checks;
    }

    private static String firstFailure(JsonArray checks) {
      for (Object o : checks) {
        JsonObject c = (JsonObject) o;
        if (!c.getBoolean("ok")) {
          return "check " + c.getString("name") + " failed: " + c.getString("message")
              + (c.getString("remedy") == null ? "" : " — " + c.getString("remedy"));
        }
      }
      return "a check failed";
    }
  }

  private static JsonArray one(String name, boolean ok, String message, String remedy) {
    return new JsonArray().add(new JsonObject().put("name", name).put("ok", ok).put("state", ok ? "ok" : "failed")
        .put("message", message).put("remedy", remedy));
  }

  private interface Step {
    Future<JsonObject> run(JsonObject body, JsonObject guide);
  }

  private void step(RoutingContext ctx, String name, Step step) {
    JsonObject body = ctx.body().length() > 0 ? ctx.body().asJsonObject() : new JsonObject();
    connection.store().guide().compose(g -> {
      int index = STEPS.indexOf(name);
      for (int i = 0; i < index; i++) {
        String before = STEPS.get(i);
        if (!done(g, before)) {
          return Future.failedFuture(new ApiError(409, "step_order", "step " + name + " needs step " + before
              + " first (POST /api/v1/setup/" + path(before) + ")"));
        }
      }
      return step.run(body, g).compose(result -> {
        JsonObject steps = g.getJsonObject("steps", new JsonObject());
        steps.put(name, result.put("at", Instant.now().toString()));
        // A step run again invalidates the ones after it: they are checked again.
        for (int i = index + 1; i < STEPS.size(); i++) {
          steps.remove(STEPS.get(i));
        }
        g.put("steps", steps);
        return connection.store().saveGuide(g).map(v -> g);
      });
    }).onSuccess(g -> json(ctx, 200, view(g))).onFailure(e -> {
      if (e instanceof CheckFailed cf) {
        ctx.response().setStatusCode(422).putHeader("Content-Type", "application/json").end(new JsonObject()
            .put("error", new JsonObject().put("code", "check_failed").put("message", cf.getMessage()))
            .put("checks", cf.checks).encode());
      } else {
        ConnectionApi.fail(ctx, e);
      }
    });
  }

  private static String path(String step) {
    return step.equals("integrationUser") ? "integration-user" : step;
  }

  private static boolean done(JsonObject g, String step) {
    JsonObject s = g.getJsonObject("steps", new JsonObject()).getJsonObject(step);
    return s != null && ("done".equals(s.getString("status")) || "skipped".equals(s.getString("status")));
  }

  private static JsonObject view(JsonObject g) {
    JsonObject steps = g.getJsonObject("steps", new JsonObject());
    JsonArray out = new JsonArray();
    String next = null;
    for (String s : STEPS) {
      JsonObject st = steps.getJsonObject(s);
      out.add(new JsonObject().put("step", s).put("path", "/api/v1/setup/" + path(s))
          .put("status", st == null ? "open" : st.getString("status")).put("result", st));
      if (next == null && (st == null || !done(g, s))) {
        next = s;
      }
    }
    return new JsonObject().put("steps", out).put("next", next).put("finished", next == null);
  }

  // 1. Connection: validated and checked as the guide's candidate; stored (disabled until finish) only when it passes.
  private Future<JsonObject> connectionStep(JsonObject body, JsonObject guide) {
    ConnectionDocument.Parsed p;
    try {
      JsonObject candidate = body.copy();
      candidate.remove("enabled");
      candidate.remove("disabledReason");
      p = ConnectionDocument.parse(candidate, connection.storedSecretNames());
    } catch (ConnectionDocument.Invalid e) {
      return Future.failedFuture(new ApiError(400, "invalid", e.getMessage()));
    }
    if (p.settings().getJsonObject("erp") == null || p.settings().getJsonObject("crm") == null) {
      return Future.failedFuture(new ApiError(400, "invalid", (p.settings().getJsonObject("erp") == null ? "erp"
          : "crm") + ": missing (the guide sets up both sides)"));
    }
    var candidate = connection.candidate(p.settings(), p.secrets());
    // The ERP generation decides the mappings plugins declare: check the candidate against those it will bring.
    return new ConnectionChecks(vertx, 10_000).run(candidate, plugins.mappingsFor(candidate.erp()), null, null)
        .compose(checks -> {
          JsonArray relevant = new JsonArray();
          for (Object o : checks) {
            String n = ((JsonObject) o).getString("name");
            // The integration user's roles and the solution come in later steps.
            if (!n.equals("crm.integrationUser") && !n.equals("crm.solution") && !n.equals("crm.tables")
                && !n.equals("crm.columns")) {
              relevant.add(o);
            }
          }
          if (!ConnectionApi.summary(relevant).getBoolean("ok")) {
            return Future.failedFuture(new CheckFailed(relevant));
          }
          JsonObject store = body.copy().put("enabled", false).put("disabledReason",
              "the setup guide is not finished");
          return connection.save(store, false).map(rev -> new JsonObject().put("status", "done")
              .put("checks", relevant));
        });
  }

  private DataverseSettings crm() {
    DataverseSettings crm = connection.current().connections().crm();
    if (crm == null) {
      throw new ApiError(409, "step_order", "the CRM connection is not set up: run the connection step first");
    }
    return crm;
  }

  private String[] adminFrom(JsonObject body) {
    JsonObject a = body.getJsonObject("admin");
    if (a != null) {
      if (!(a.getValue("clientId") instanceof String id) || id.isBlank()
          || !(a.getValue("clientSecret") instanceof String secret) || secret.isBlank()) {
        throw new ApiError(400, "invalid", "admin: needs clientId and clientSecret of an account holding "
            + ADMIN_ROLES);
      }
      return new String[] {id, secret};
    }
    if (admin != null && System.currentTimeMillis() < adminUntil) {
      return admin;
    }
    throw new ApiError(400, "invalid", "admin: missing — give the CRM administrator account ({clientId, "
        + "clientSecret}); it is held in memory only, on the node that ran the previous step, for 30 minutes");
  }

  /** Signs in as the administrator and checks the roles it needs; the account is then held in memory. */
  private Future<CrmSetupClient> adminClient(JsonObject body) {
    String[] a;
    DataverseSettings crm;
    try {
      a = adminFrom(body);
      crm = crm();
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
    CrmSetupClient c = new CrmSetupClient(vertx, crm.apiUrl(), crm.tokenUrl(), a[0], a[1], crm.tokenScope());
    return c.signIn()
        .recover(e -> Future.failedFuture(new CheckFailed(one("admin.token", false, e.getMessage(),
            "check the administrator account's client id and secret"))))
        .compose(v -> c.whoAmI())
        .compose(who -> c.roles(who.getString("UserId")).compose(roles -> {
          List<String> held = roles.stream().map(r -> r.getString("name")).toList();
          List<String> missing = ADMIN_ROLES.stream().filter(r -> !held.contains(r)).toList();
          if (!missing.isEmpty()) {
            return Future.failedFuture(new CheckFailed(one("admin.roles", false, "account " + a[0] + " lacks the "
                + "role(s) " + missing + " (holds " + held + ")", "give the account " + missing + ", or use an "
                + "account that holds " + ADMIN_ROLES)));
          }
          admin = a;
          adminUntil = System.currentTimeMillis() + ADMIN_HELD_MS;
          return Future.succeededFuture(c);
        }))
        .onFailure(e -> c.close());
  }

  // 2. Import the solution (optional).
  private Future<JsonObject> solutionStep(JsonObject body, JsonObject guide) {
    if (Boolean.TRUE.equals(body.getBoolean("skip"))) {
      return Future.succeededFuture(new JsonObject().put("status", "skipped"));
    }
    byte[] file = dev.tandem.runtime.connection.TandemSolution.zip();
    return adminClient(body).compose(c -> c.importSolution(file, 300_000)
        .compose(job -> c.solutionVersion(ConnectionChecks.SOLUTION).compose(version -> connection.store()
            .saveChecks(new JsonArray().add(ConnectionChecks.solutionImported(ConnectionChecks.SOLUTION, version)))
            .map(v -> new JsonObject().put("status", "done").put("solution", ConnectionChecks.SOLUTION)
                .put("version", version).put("importJobId", job))))
        // The import turned change tracking on and created the alternate keys: wait until they are Active.
        .compose(result -> c.awaitTables(ConnectionApi.enabledMappings(plugins), System.currentTimeMillis() + 600_000)
            .compose(problems -> problems.isEmpty() ? Future.succeededFuture(result.put("tables", "ready"))
                : Future.failedFuture(new CheckFailed(one("crm.tables", false, String.join("; ", problems),
                    "look at the tables' alternate keys (Failed: the table holds duplicate values) and change "
                    + "tracking in the environment, then run this step again")))))
        .recover(e -> Future.failedFuture(e instanceof CrmSetupClient.Refused
            ? new CheckFailed(one("crm.solutionImport", false, e.getMessage(), "look at the import job in the "
                + "environment's solution history")) : e))
        .onComplete(ar -> c.close()));
  }

  // 3. Integration user: the integration roles, in the user's business unit, assigned idempotently.
  private Future<JsonObject> integrationUserStep(JsonObject body, JsonObject guide) {
    DataverseSettings crm;
    try {
      crm = crm();
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
    return adminClient(body).compose(adminClient -> {
      Future<JsonArray> chain = Future.succeededFuture(new JsonArray());
      for (DataverseSettings.Credential user : crm.clients()) {
        chain = chain.compose(done -> {
          CrmSetupClient self = new CrmSetupClient(vertx, crm.apiUrl(), crm.tokenUrl(), user.clientId(),
              user.clientSecret(), crm.tokenScope());
          return self.signIn().compose(v -> self.whoAmI()).onComplete(ar -> self.close())
              .compose(who -> assign(adminClient, who.getString("UserId"), who.getString("BusinessUnitId"))
                  .map(added -> done.add(new JsonObject().put("clientId", user.clientId())
                      .put("systemUserId", who.getString("UserId")).put("rolesAdded", added))));
        });
      }
      return chain.map(users -> new JsonObject().put("status", "done").put("users", users)
          .put("roles", new JsonArray(ConnectionChecks.INTEGRATION_ROLES)))
          .recover(e -> Future.failedFuture(e instanceof CrmSetupClient.Refused
              ? new CheckFailed(one("crm.integrationUser", false, e.getMessage(), "check that the application "
                  + "user exists in the environment")) : e))
          .onComplete(ar -> adminClient.close());
    });
  }

  private Future<JsonArray> assign(CrmSetupClient c, String userId, String businessUnit) {
    Future<JsonArray> chain = Future.succeededFuture(new JsonArray());
    for (String role : ConnectionChecks.INTEGRATION_ROLES) {
      chain = chain.compose(added -> c.roleId(role, businessUnit).compose(id -> {
        if (id == null) {
          return Future.failedFuture(new CheckFailed(one("crm.integrationRoles", false, "role " + role
              + " does not exist in business unit " + businessUnit, "import the solution (the solution step): "
              + "its roles come with it")));
        }
        return c.associate(userId, id).map(now -> now ? added.add(role) : added);
      }));
    }
    return chain;
  }

  // 4. Choose what to synchronize.
  private Future<JsonObject> synchronizeStep(JsonObject body, JsonObject guide) {
    JsonObject chosen = body.getJsonObject("mappings", new JsonObject());
    var all = plugins.mappings();
    var ledgerJobs = plugins.ledgerJobs();
    for (String name : chosen.fieldNames()) {
      if (!all.containsKey(name) && !ledgerJobs.containsKey(name)) {
        java.util.Set<String> known = new java.util.TreeSet<>(all.keySet());
        known.addAll(ledgerJobs.keySet());
        return Future.failedFuture(new ApiError(400, "invalid", "mappings." + name + ": no installed plugin "
            + "provides this mapping or job (known: " + known + ")"));
      }
      if (!(chosen.getValue(name) instanceof JsonObject o)) {
        return Future.failedFuture(new ApiError(400, "invalid", "mappings." + name + ": must be an object "
            + "{enabled, direction}"));
      }
      if (ledgerJobs.containsKey(name) && o.getValue("direction") != null) {
        return Future.failedFuture(new ApiError(400, "invalid", "mappings." + name + ".direction: " + name
            + " is a ledger job (ERP to CRM only); it takes only enabled"));
      }
      if (o.getValue("enabled") != null && !(o.getValue("enabled") instanceof Boolean)) {
        return Future.failedFuture(new ApiError(400, "invalid", "mappings." + name + ".enabled: must be true or "
            + "false"));
      }
    }
    JsonObject so = body.getJsonObject("salesOrders");
    if (so != null && Boolean.TRUE.equals(so.getBoolean("enabled")) && all.keySet().stream()
        .noneMatch(n -> n.startsWith("SALESORDER"))) {
      return Future.failedFuture(new ApiError(400, "invalid", "salesOrders.enabled: no installed plugin handles "
          + "sales orders (it provides the SALESORDER-ORDER mapping); install one, or leave the sales-order "
          + "integration off"));
    }
    JsonObject patch = new JsonObject();
    if (body.getValue("availability") != null) {
      patch.put("availability", body.getValue("availability"));
    }
    if (body.getValue("salesOrders") != null) {
      patch.put("salesOrders", body.getValue("salesOrders"));
    }
    Future<Long> saved = patch.isEmpty() ? Future.succeededFuture(0L) : connection.save(patch, true);
    JsonArray off = new JsonArray();
    return saved.compose(rev -> {
      Future<Void> chain = Future.succeededFuture();
      for (MappingStatus m : all.values()) {
        JsonObject c = chosen.getJsonObject(m.name(), new JsonObject());
        boolean enabled = !Boolean.FALSE.equals(c.getBoolean("enabled"));
        long interval = m.definition().schedule().toMillis();
        if (!enabled) {
          off.add(m.name());
          chain = chain.compose(v -> schedules.disable(m.name(), interval, inactivityTimeoutMs));
        } else {
          chain = chain.compose(v -> schedules.enable(m.name()));
        }
        if (c.getValue("direction") != null) {
          chain = chain.compose(v -> settings.get(m.name()).compose(cur -> {
            MappingSettings next;
            try {
              next = MappingsApi.merge(m.definition(), cur, new JsonObject().put("direction", c.getValue("direction")));
            } catch (IllegalArgumentException e) {
              return Future.failedFuture(new ApiError(400, "invalid", "mappings." + m.name() + ".direction: "
                  + e.getMessage()));
            }
            return settings.put(m.name(), next);
          }));
        }
      }
      for (var j : ledgerJobs.values()) {
        boolean enabled = !Boolean.FALSE.equals(chosen.getJsonObject(j.name(), new JsonObject()).getBoolean("enabled"));
        if (!enabled) {
          off.add(j.name());
          chain = chain.compose(v -> schedules.disable(j.name(), JobKind.LEDGER.name(), j.schedule().toMillis(),
              inactivityTimeoutMs));
        } else {
          chain = chain.compose(v -> schedules.enable(j.name(), JobKind.LEDGER.name()));
        }
      }
      return chain;
    }).map(v -> new JsonObject().put("status", "done").put("disabledMappings", off)
        .put("availability", body.getValue("availability") != null).put("salesOrders", body.getValue("salesOrders")
            != null));
  }

  // 5. Finish: the connection is enabled, the full synchronization review shown, and the run started if asked.
  private Future<JsonObject> finishStep(JsonObject body, JsonObject guide) {
    boolean start = Boolean.TRUE.equals(body.getBoolean("startFullSync"));
    // The mappings as chosen must fit the CRM's tables: an unknown column would fail every run of its mapping.
    return columnsFit().compose(v -> connection.save(new JsonObject().put("enabled", true)
            .put("disabledReason", null), true))
        .compose(rev -> coordinator(new BusMessages.FullSyncReview(true), System.currentTimeMillis() + 60_000))
        .compose(review -> {
          admin = null;
          JsonObject out = new JsonObject().put("status", "done").put("review", review);
          if (!start) {
            return Future.succeededFuture(out);
          }
          return coordinator(BusMessages.FullSyncStart.from(null), System.currentTimeMillis() + 60_000)
              .map(run -> out.put("fullSync", run));
        });
  }

  /** Fails with check {@code crm.columns} when an enabled mapping names a CRM column its table does not have. */
  private Future<Void> columnsFit() {
    DataverseSettings crm;
    try {
      crm = crm();
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
    DataverseSettings.Credential first = crm.clients().get(0);
    return ConnectionApi.effectiveMappings(plugins, settings).compose(mappings -> {
      CrmSetupClient c = new CrmSetupClient(vertx, crm.apiUrl(), crm.tokenUrl(), first.clientId(),
          first.clientSecret(), crm.tokenScope());
      return c.signIn().compose(v -> c.columnProblems(mappings)).transform(ar -> {
        JsonObject check = ConnectionChecks.columns(ar.succeeded() ? ar.result() : null, ar.cause(), mappings.size());
        return check.getBoolean("ok") ? Future.<Void>succeededFuture()
            : Future.<Void>failedFuture(new CheckFailed(new JsonArray().add(check)));
      }).onComplete(ar -> c.close());
    });
  }

  /** Asks this node's full-synchronization coordinator, waiting for the engine to come up after enabling. */
  private Future<JsonObject> coordinator(BusRequest<JsonObject> request, long deadline) {
    return Bus.request(vertx, request, LONG).recover(e -> {
      BusError be = BusError.of(request.address(), e);
      if (be.noConsumer() && System.currentTimeMillis() < deadline) {
        Promise<JsonObject> p = Promise.promise();
        vertx.setTimer(200, t -> coordinator(request, deadline).onComplete(p));
        return p.future();
      }
      if (be.delivery() == BusError.Delivery.ANSWERED) {
        return Future.failedFuture(new ApiError(be.is(BusFailure.CONFLICT) ? 409 : 400, "full_sync", be.getMessage()));
      }
      return Future.failedFuture(new ApiError(503, "unavailable", "the full synchronization coordinator did not "
          + "answer: " + e.getMessage()));
    });
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ConnectionApi.json(ctx, status, body);
  }
}
