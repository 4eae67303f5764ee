package dev.tandem.runtime.http;

import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.plugins.PluginRecord;
import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.PgScheduleStore;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.sqlclient.Pool;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * The admin HTTP API: health, Prometheus metrics, and {@code /api/v1} behind a bearer token. Every error,
 * including unknown paths, is {@code {"error":{"code","message"}}} with a proper status.
 */
public final class AdminHttpServer {

  private static final System.Logger LOG = System.getLogger(AdminHttpServer.class.getName());
  private static final long READY_TIMEOUT_MS = 2000;
  /** The largest request body the API reads. */
  static final int BODY_LIMIT = 64 * 1024;
  private static final OpenApiDocument DOCUMENT = OpenApiDocument.load();

  private final Vertx vertx;
  private final Pool pool;
  private final PgJobQueue queue;
  private final PgScheduleStore schedules;
  private final PluginHost plugins;
  private final PrometheusMeterRegistry registry;
  private final byte[] token;
  private final ConsoleSessions sessions;
  private ConsoleApi console;
  private java.util.function.Function<dev.tandem.runtime.store.NewJob, Future<Long>> enqueue;
  private HttpServer server;
  private boolean fullSync;
  private dev.tandem.runtime.config.TandemConfig.Connections connections;
  private MappingsApi mappingsApi;
  private RecordsApi recordsApi;
  private TandemConfig.HttpSettings settings = TandemConfig.HttpSettings.defaults();
  private RequestLimits limits;
  private Router router;
  private final OpenApiDocument openApi = DOCUMENT;

  /**
   * @param vertx Vert.x
   * @param pool PostgreSQL pool (readiness)
   * @param queue job queue
   * @param schedules schedules
   * @param plugins plugin host
   * @param registry Prometheus registry
   * @param adminToken the bearer token
   */
  public AdminHttpServer(Vertx vertx, Pool pool, PgJobQueue queue, PgScheduleStore schedules, PluginHost plugins,
      PrometheusMeterRegistry registry, String adminToken) {
    this.vertx = vertx;
    this.pool = pool;
    this.queue = queue;
    this.schedules = schedules;
    this.plugins = plugins;
    this.registry = registry;
    this.token = adminToken.getBytes(StandardCharsets.UTF_8);
    this.sessions = new ConsoleSessions(token);
  }

  /**
   * @param value enqueues a job on this node (and wakes its dispatcher); enables the mappings API
   * @return this
   */
  public AdminHttpServer enqueue(java.util.function.Function<dev.tandem.runtime.store.NewJob, Future<Long>> value) {
    this.enqueue = value;
    return this;
  }

  /**
   * @param value timeouts, limits and TLS of the server
   * @return this
   */
  public AdminHttpServer settings(TandemConfig.HttpSettings value) {
    this.settings = value;
    return this;
  }

  /**
   * @param registry the node registry, for {@code GET /api/v1/nodes}
   * @param deadAfterMs a node without a heartbeat for this long is listed as dead
   * @return this
   */
  public AdminHttpServer nodes(dev.tandem.runtime.store.PgNodeRegistry registry, long deadAfterMs) {
    this.nodes = registry;
    this.nodesDeadAfterMs = deadAfterMs;
    return this;
  }

  /**
   * @param value whether this node runs the full synchronization coordinator (both connections configured)
   * @return this
   */
  public AdminHttpServer fullSync(boolean value) {
    this.fullSync = value;
    return this;
  }

  private dev.tandem.runtime.connection.ConnectionService connection;
  private java.util.function.BooleanSupplier fullSyncNow;
  private long setupInactivityMs;

  /**
   * @param value the node's connection: mounts the connection window's routes, and full synchronization follows
   *     whether the connection is complete
   * @param inactivityTimeoutMs the schedules' on-hold timeout (schedules the setup guide creates)
   * @return this
   */
  public AdminHttpServer connection(dev.tandem.runtime.connection.ConnectionService value, long inactivityTimeoutMs) {
    this.connection = value;
    this.setupInactivityMs = inactivityTimeoutMs;
    this.fullSyncNow = () -> value.current().connected();
    return this;
  }

  /**
   * @param value the endpoints, so manual couplings can be checked against the ERP
   * @return this
   */
  public AdminHttpServer connections(dev.tandem.runtime.config.TandemConfig.Connections value) {
    this.connections = value;
    return this;
  }

  /**
   * @param host bind address
   * @param port port, 0 for any free one
   * @return the server, listening
   */
  public Future<HttpServer> start(String host, int port) {
    limits = new RequestLimits(vertx, settings);
    router = router();
    return vertx.createHttpServer(limits.options())
        .connectionHandler(limits.connections())
        .requestHandler(limits.requests(router))
        .listen(port, host).onSuccess(s -> server = s);
  }

  /** @return the routes of the running server's router (the contract test compares them with the document) */
  public java.util.List<io.vertx.ext.web.Route> routes() {
    return router.getRoutes();
  }

  /** @return the port it listens on */
  public int port() {
    return server.actualPort();
  }

  /** @return closes the server */
  public Future<Void> stop() {
    if (mappingsApi != null) {
      mappingsApi.close();
    }
    if (recordsApi != null) {
      recordsApi.close();
    }
    // A short grace period: idle keep-alive connections would otherwise hold the close for 30 s.
    return server == null ? Future.succeededFuture() : server.shutdown(1, java.util.concurrent.TimeUnit.SECONDS);
  }

  private dev.tandem.runtime.store.PgNodeRegistry nodes;
  private long nodesDeadAfterMs;

  Router router() {
    Router r = Router.router(vertx);
    console = new ConsoleApi(sessions, token, settings.tls());
    r.route().handler(ConsoleApi::securityHeaders);
    r.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
    r.get("/health/ready").handler(this::ready);
    r.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
    // Business Central webhooks: authenticated by each subscription's clientState, not the admin token.
    ErpNotificationsApi.mount(r, vertx);

    r.route("/api/v1/*").handler(this::authenticate);
    // One body handler for the whole API: bounded, and no file-uploads directory (the API takes no uploads).
    r.route("/api/v1/*").handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    r.route("/console/session").handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    // The documented request bodies are checked against the document before any handler sees them; any other body
    // must still be a JSON object.
    for (OpenApiDocument.Operation op : openApi.operations()) {
      JsonObject schema = openApi.requestSchema(op);
      if (schema != null) {
        r.route(HttpMethod.valueOf(op.method()), op.routePath()).handler(ctx -> checkBody(ctx, schema));
      }
    }
    r.route("/api/v1/*").handler(AdminHttpServer::jsonBody);
    r.route("/console/session").handler(AdminHttpServer::jsonBody);
    // The web console: its session routes and its files (GET / and /console/*).
    console.mount(r);
    r.get("/api/v1/openapi.json").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
        .end(openApi.text()));
    r.get("/api/v1/plugins").handler(this::listPlugins);
    r.get("/api/v1/jobs").handler(this::listJobs);
    r.get("/api/v1/jobs/:id").handler(this::getJob);
    r.post("/api/v1/jobs/:id/cancel").handler(this::cancelJob);
    r.get("/api/v1/schedules").handler(ctx -> schedules.list()
        .onSuccess(a -> json(ctx, 200, new JsonObject().put("schedules", a))).onFailure(ctx::fail));
    r.post("/api/v1/schedules/:mapping/wake").handler(this::wake);
    new SchedulesApi(schedules).mount(r);
    if (nodes != null) {
      r.get("/api/v1/nodes").handler(ctx -> nodes.list(nodesDeadAfterMs)
          .onSuccess(a -> json(ctx, 200, new JsonObject().put("nodes", a))).onFailure(ctx::fail));
    }
    if (enqueue != null) {
      r.get("/api/v1/jobs/:id/records").handler(this::jobExists);
      r.post("/api/v1/errors/retry-all").handler(ctx -> {
        String mapping = ctx.queryParams().get("mapping");
        if (mapping != null && !plugins.mappings().containsKey(mapping)) {
          ApiError.send(ctx, 404, "not_found", "no installed plugin provides mapping " + mapping);
        } else {
          ctx.next();
        }
      });
      mappingsApi = new MappingsApi(plugins, pool, enqueue, vertx, connections);
      mappingsApi.mount(r);
      if (connection != null) {
        dev.tandem.runtime.connection.ConnectionService c = connection;
        mappingsApi.connectionState(() -> !c.current().enabled() ? "disabled: " + c.current().disabledReason()
            : c.current().connected() ? "connected" : "not connected");
      }
      new WatermarksApi(plugins, pool).mount(r);
      dev.tandem.runtime.connection.ConnectionService current = connection;
      dev.tandem.runtime.config.TandemConfig.Connections configured = connections;
      recordsApi = new RecordsApi(vertx, plugins, pool, current != null ? () -> current.current().connections()
          : () -> configured);
      recordsApi.mount(r);
      new CouplingsApi(plugins, pool, enqueue).mount(r);
      new ErrorsApi(pool, enqueue).mount(r);
      new LedgerJobsApi(plugins, pool, schedules, enqueue).mount(r);
    }
    boolean fullSyncAtStart = fullSync;
    // The node's event streams, full synchronization's and the jobs and errors', count against one limit.
    java.util.concurrent.atomic.AtomicInteger streams = new java.util.concurrent.atomic.AtomicInteger();
    new FullSyncApi(vertx, fullSyncNow != null ? fullSyncNow : () -> fullSyncAtStart, 1000,
        settings.maxEventStreams(), streams).mount(r);
    new EventsApi(vertx, queue, new dev.tandem.runtime.store.PgRecordErrorStore(pool), 1000,
        settings.maxEventStreams(), streams).mount(r);
    if (connection != null) {
      new ConnectionApi(vertx, connection, plugins, new dev.tandem.runtime.store.PgMappingSettingsStore(pool))
          .mount(r);
      new SetupApi(vertx, connection, plugins, schedules, pool, setupInactivityMs).mount(r);
    }
    new AvailabilityApi(vertx, () -> connection).mount(r);

    // No catch-all route: the router itself tells an unknown path (404) from a wrong method on a known one (405).
    r.errorHandler(404, ctx -> ApiError.send(ctx, 404, "not_found",
        "no such resource: " + ctx.request().method() + " " + ctx.request().path()));
    r.errorHandler(405, ctx -> ApiError.send(ctx, 405, "method_not_allowed",
        ctx.request().method() + " is not allowed on " + ctx.request().path()));
    r.errorHandler(413, ctx -> ApiError.send(ctx, 413, "payload_too_large",
        "the request body is larger than " + BODY_LIMIT / 1024 + " KiB"));
    r.errorHandler(400, ctx -> ApiError.send(ctx, 400, "bad_request", "malformed request"
        + (ctx.failure() == null ? "" : ": " + ctx.failure().getMessage())));
    r.errorHandler(500, ApiFailureHandler::handle);
    return r;
  }

  private static final Object NO_BODY = new Object();
  private static final String CHECKED = "tandem.bodyChecked";

  /**
   * The request's JSON body: {@link #NO_BODY} when there is none (or the method takes none), null when an error was
   * sent (415 for another content type, 400 for malformed JSON).
   */
  private static Object parse(RoutingContext ctx) {
    HttpMethod m = ctx.request().method();
    if (!(m == HttpMethod.POST || m == HttpMethod.PUT || m == HttpMethod.PATCH) || ctx.body().length() <= 0) {
      return NO_BODY;
    }
    String type = ctx.request().getHeader("Content-Type");
    String mime = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!mime.equals("application/json") && !mime.endsWith("+json")) {
      ApiError.send(ctx, 415, "unsupported_media_type", "the request body must be JSON (Content-Type: "
          + "application/json), got " + (type == null ? "no Content-Type" : "'" + type + "'"));
      return null;
    }
    try {
      // Jackson refuses nesting deeper than 1,000 levels, so a deep document is a 400, not a stack overflow.
      return io.vertx.core.json.Json.decodeValue(ctx.body().buffer());
    } catch (RuntimeException e) {
      ApiError.send(ctx, 400, "bad_request", "the request body is not valid JSON: " + firstLine(e.getMessage()));
      return null;
    }
  }

  /** Request bodies of the API are JSON objects: 415 for another content type, 400 for anything but an object. */
  private static void jsonBody(RoutingContext ctx) {
    if (ctx.get(CHECKED) != null) {
      ctx.next();
      return;
    }
    Object parsed = parse(ctx);
    if (parsed == null) {
      return;
    }
    if (parsed != NO_BODY && !(parsed instanceof JsonObject)) {
      ApiError.send(ctx, 400, "bad_request", "the request body must be a JSON object, got "
          + OpenApiDocument.jsonType(parsed));
      return;
    }
    ctx.next();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    String line = s.split("\\R", 2)[0];
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }

  private static void checkBody(RoutingContext ctx, JsonObject schema) {
    Object parsed = parse(ctx);
    if (parsed == null) {
      return;
    }
    if (parsed != NO_BODY && !(parsed instanceof JsonObject)) {
      ApiError.send(ctx, 400, "bad_request", "the request body must be a JSON object with the fields "
          + new java.util.ArrayList<>(schema.getJsonObject("properties", new JsonObject()).fieldNames()) + ", got "
          + OpenApiDocument.jsonType(parsed));
      return;
    }
    String problem = DOCUMENT.check(parsed == NO_BODY ? new JsonObject() : (JsonObject) parsed, schema);
    if (problem != null) {
      ApiError.send(ctx, 400, "bad_request", problem);
    } else {
      ctx.put(CHECKED, Boolean.TRUE);
      ctx.next();
    }
  }

  /** 404 for the records of a job that does not exist (instead of an empty page). */
  private void jobExists(RoutingContext ctx) {
    Long id = jobId(ctx);
    if (id == null) {
      return;
    }
    queue.get(id).onSuccess(job -> {
      if (job.isEmpty()) {
        ApiError.send(ctx, 404, "not_found", "job " + id + " does not exist");
      } else {
        ctx.next();
      }
    }).onFailure(ctx::fail);
  }

  /** @return whether the request carries the admin token */
  private boolean authorized(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    return header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
        && MessageDigest.isEqual(header.substring(7).trim().getBytes(StandardCharsets.UTF_8), token);
  }

  private void authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null) {
      // The web console's session cookie stands for the token; a write with it must carry the anti-CSRF header.
      ConsoleSessions.Session session = console.session(ctx);
      if (session != null) {
        if (ConsoleApi.write(ctx.request().method())
            && !ConsoleSessions.csrfMatches(session, ctx.request().getHeader(ConsoleSessions.CSRF_HEADER))) {
          ApiError.send(ctx, 403, "csrf", ctx.request().method() + " with the session cookie needs the "
              + ConsoleSessions.CSRF_HEADER + " header: the csrfToken of GET /console/session");
          return;
        }
        ctx.next();
        return;
      }
    }
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"tandem\"");
      ApiError.send(ctx, 401, "unauthorized", "missing bearer token: send Authorization: Bearer <admin token>"
          + " (or sign in to the console: POST /console/session)");
      return;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    // Constant-time comparison: the token must not leak through response timing.
    if (!MessageDigest.isEqual(given, token)) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"tandem\", error=\"invalid_token\"");
      ApiError.send(ctx, 401, "unauthorized", "invalid bearer token");
      return;
    }
    ctx.next();
  }

  private void ready(RoutingContext ctx) {
    Future<Void> check = dev.tandem.runtime.store.PgErrors.ping(pool);
    Future<Void> bounded = Future.future(p -> {
      long timer = vertx.setTimer(READY_TIMEOUT_MS, id -> p.tryFail("no answer within " + READY_TIMEOUT_MS + " ms"));
      check.onComplete(ar -> {
        vertx.cancelTimer(timer);
        if (ar.succeeded()) {
          p.tryComplete();
        } else {
          p.tryFail(ar.cause());
        }
      });
    });
    bounded.onComplete(ar -> {
      JsonObject pg = new JsonObject().put("status", ar.succeeded() ? "UP" : "DOWN");
      if (ar.failed()) {
        // The cause names hosts and internals: only for callers with the admin token.
        pg.put("message", authorized(ctx) ? DatabaseSettings.redact(String.valueOf(ar.cause().getMessage()))
            : "PostgreSQL does not answer (details with the admin token)");
      }
      json(ctx, ar.succeeded() ? 200 : 503, new JsonObject().put("status", ar.succeeded() ? "UP" : "DOWN")
          .put("checks", new JsonObject().put("postgresql", pg)));
    });
  }

  private void listPlugins(RoutingContext ctx) {
    JsonArray out = new JsonArray();
    for (PluginRecord p : plugins.plugins()) {
      out.add(p.toJson());
    }
    json(ctx, 200, new JsonObject().put("plugins", out));
  }

  private void listJobs(RoutingContext ctx) {
    JobStatus status;
    Long before;
    int limit;
    try {
      String s = ctx.queryParams().get("status");
      status = s == null ? null : JobStatus.valueOf(s.toUpperCase(Locale.ROOT));
      String b = ctx.queryParams().get("before");
      before = b == null ? null : Long.parseLong(b);
      String l = ctx.queryParams().get("limit");
      limit = l == null ? 50 : Integer.parseInt(l);
      if (limit < 1 || limit > 1000) {
        throw new IllegalArgumentException("limit must be between 1 and 1000, got " + limit);
      }
    } catch (IllegalArgumentException e) {
      ApiError.send(ctx, 400, "bad_request", "bad query parameter: " + e.getMessage()
          + " (status is one of queued, running, succeeded, failed, cancelled; before and limit are numbers)");
      return;
    }
    String kind = ctx.queryParams().get("kind");
    queue.list(status, ctx.queryParams().get("mapping"), kind == null ? null : kind.toUpperCase(Locale.ROOT),
        before, limit).onSuccess(jobs -> {
          JsonArray out = new JsonArray();
          jobs.forEach(j -> out.add(j.toJson()));
          JsonObject body = new JsonObject().put("jobs", out);
          if (jobs.size() == limit) {
            body.put("next", "/api/v1/jobs?before=" + jobs.get(jobs.size() - 1).id() + "&limit=" + limit);
          }
          json(ctx, 200, body);
        }).onFailure(ctx::fail);
  }

  /** The {id} path parameter as a job id; answers 400 and returns null when it is not a number. */
  private static Long jobId(RoutingContext ctx) {
    try {
      return Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "job id '" + ctx.pathParam("id") + "' is not a number");
      return null;
    }
  }

  private void getJob(RoutingContext ctx) {
    Long id = jobId(ctx);
    if (id == null) {
      return;
    }
    queue.get(id).onSuccess(job -> {
      if (job.isEmpty()) {
        ApiError.send(ctx, 404, "not_found", "job " + id + " does not exist");
      } else {
        json(ctx, 200, job.map(Job::toJson).get());
      }
    }).onFailure(ctx::fail);
  }

  private void cancelJob(RoutingContext ctx) {
    Long id = jobId(ctx);
    if (id == null) {
      return;
    }
    queue.cancel(id).onSuccess(status -> {
      if (status.isEmpty()) {
        ApiError.send(ctx, 404, "not_found", "job " + id + " does not exist");
      } else if (status.get() != JobStatus.CANCELLED) {
        ApiError.send(ctx, 409, "conflict", "job " + id + " is " + status.get()
            + ": only a queued job can be cancelled");
      } else {
        queue.get(id).onSuccess(job -> json(ctx, 200, job.map(Job::toJson).orElseThrow())).onFailure(ctx::fail);
      }
    }).onFailure(ctx::fail);
  }

  private void wake(RoutingContext ctx) {
    String mapping = ctx.pathParam("mapping");
    schedules.wake(mapping).onSuccess(n -> {
      if (n == 0) {
        ApiError.send(ctx, 404, "not_found", "mapping " + mapping + " has no schedule to wake");
      } else {
        vertx.eventBus().send(dev.tandem.api.Addresses.DISPATCHER_WAKE, null);
        json(ctx, 200, new JsonObject().put("mapping", mapping).put("woken", n));
      }
    }).onFailure(ctx::fail);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
