package dev.tandem.runtime.connectors.crm;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.BatchSizer;
import dev.tandem.runtime.connectors.ClientCredentialsToken;
import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.EndpointOrigin;
import dev.tandem.runtime.connectors.HttpFailures;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.ResilientHttp;
import dev.tandem.runtime.connectors.WriteResult;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * A Dataverse Web API client built for bulk synchronization: OAuth 2.0 client credentials with the token cached
 * and refreshed before it expires; server-driven paging and change tracking; batched writes
 * ({@code UpsertMultiple}, and {@code $batch} with continue-on-error for per-record results); service-protection
 * aware — a 429 pauses every new request for the full Retry-After and halves the concurrency, which then grows
 * back while nothing is throttled, never above 52 in flight; retries with backoff on 5xx and dropped
 * connections; and a circuit breaker, so an endpoint that is down fails jobs fast (to be retried by the queue)
 * instead of failing every record.
 *
 * <p>Requests go through the node's {@link EndpointBudget} of each application user, shared with every other
 * client of the node for the same user, so all verticles and jobs together stay inside the user's limits. With
 * several application users ({@link DataverseSettings#moreClients()}), each request goes to the least loaded
 * one, so one job's work spreads over them all.
 *
 * <p>Use one client per Vert.x context (a sync verticle): its token cache is not thread-safe.
 */
public final class DataverseClient {

  private static final String ENDPOINT = "CRM";

  private final Vertx vertx;
  private final DataverseSettings settings;
  private final WebClient web;
  private final List<Lane> lanes = new ArrayList<>();
  private final String apiPath;
  private final EndpointOrigin origin;

  /** Next links of tracked reads: following them must ask for change tracking again to end in a delta link. */
  private final java.util.Set<String> trackedLinks = new java.util.HashSet<>();
  private Future<List<String>> userIds;
  private final DataverseMetadataReader metadata = new DataverseMetadataReader(this);
  private final BatchSizer sizer;

  /** One application user: its node-wide budget, its transport, its token. */
  private final class Lane {
    final DataverseSettings.Credential client;
    final EndpointBudget budget;
    final ResilientHttp http;
    final ClientCredentialsToken token;

    Lane(DataverseSettings.Credential client, EndpointMetrics metrics) {
      this.client = client;
      this.budget = EndpointBudget.of(vertx, settings.apiUrl(), client.clientId(), settings.limits(),
          settings.initialConcurrency());
      this.http = new ResilientHttp(vertx, ENDPOINT, budget, settings.maxRetries(), metrics);
      // Entra ID's client credentials need a scope, "<resource>/.default": by default the organization's own URL.
      this.token = new ClientCredentialsToken(vertx, web, settings.tokenUrl(), client.clientId(),
          client.clientSecret(), settings.tokenScope(), settings.timeoutMs(), "CRM token endpoint", "CRM token endpoint "
              + settings.tokenUrl(), "check the tenant in crm.tokenUrl, the client id and secret of the application "
              + "user, and the scope " + settings.tokenScope() + " (crm.scope: the organization's URL + /.default)");
    }
  }

  /**
   * @param vertx Vert.x
   * @param settings where and how
   * @param metrics request counters, may be {@link EndpointMetrics#NONE}
   */
  public DataverseClient(Vertx vertx, DataverseSettings settings, EndpointMetrics metrics) {
    this.vertx = vertx;
    this.settings = settings;
    // One connection pool per CRM organization and node, shared by every verticle's client (each holds a handle that
    // its verticle's undeployment closes; the pool closes with the last).
    int poolSize = settings.maxConcurrency() * settings.clients().size();
    this.web = WebClient.create(vertx, new WebClientOptions()
        .setKeepAlive(true)
        .setDecompressionSupported(true)
        .setUserAgent("Tandem")
        .setShared(true).setName("tandem-crm " + settings.apiUrl() + " max " + poolSize),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(poolSize));
    for (DataverseSettings.Credential c : settings.clients()) {
      lanes.add(new Lane(c, metrics));
    }
    this.apiPath = URI.create(settings.apiUrl()).getRawPath();
    this.origin = new EndpointOrigin(ENDPOINT, settings.apiUrl());
    this.sizer = new BatchSizer(settings.batchSize(), settings.timeoutMs());
  }

  /** @return how this client sizes its write batches (tests) */
  public BatchSizer sizer() {
    return sizer;
  }

  /**
   * @return requests of this client (every application user's) the CRM answered with 429 so far; a job takes the
   *     difference over its run
   */
  public long throttledCount() {
    long n = 0;
    for (Lane l : lanes) {
      n += l.http.throttledCount();
    }
    return n;
  }

  /** @return the main application user's node-wide budget (for metrics and tests) */
  public EndpointBudget budget() {
    return lanes.get(0).budget;
  }

  /** @return every application user's node-wide budget, the main one first */
  public List<EndpointBudget> budgets() {
    return lanes.stream().map(l -> l.budget).toList();
  }

  /** @return the CRM's table definitions as Tandem reads them (cached per client) */
  public DataverseMetadataReader metadata() {
    return metadata;
  }

  /** Closes the HTTP client. */
  public void close() {
    web.close();
  }

  // ---- reads ----------------------------------------------------------------------------------------------

  /**
   * Reads the first page of a query.
   *
   * @param entitySetAndQuery e.g. {@code accounts?$select=name,accountnumber&$filter=statecode eq 0}
   * @return the page
   */
  public Future<Page> query(String entitySetAndQuery) {
    return page(settings.apiUrl() + "/" + entitySetAndQuery, false);
  }

  /**
   * Starts change tracking on an entity set: all rows, in pages, and on the last page a delta link.
   *
   * @param entitySet e.g. {@code accounts}
   * @param select the columns, comma-separated
   * @return the first page
   */
  public Future<Page> trackChanges(String entitySet, String select) {
    return page(settings.apiUrl() + "/" + entitySet + "?$select=" + select, true);
  }

  /**
   * Follows a next link (or a delta link, which returns what changed since it was issued).
   *
   * @param link the absolute link the endpoint gave
   * @return the page
   */
  public Future<Page> follow(String link) {
    return page(link, link.contains("$deltatoken=") || trackedLinks.remove(link));
  }

  /**
   * How many rows pass a filter, as far as Dataverse counts ({@code @odata.count} stops at 5000): one request
   * for at most one row.
   *
   * @param entitySet e.g. {@code accounts}
   * @param key the key column to select
   * @param filter an OData filter, or null
   * @return the count, at most 5000
   */
  public Future<Long> count(String entitySet, String key, String filter) {
    String url = settings.apiUrl() + "/" + entitySet + "?$count=true&$select=" + key
        + (filter == null || filter.isBlank() ? "" : "&$filter=" + ODataLiterals.query(filter));
    return send(HttpMethod.GET, url, MultiMap.caseInsensitiveMultiMap().add("Prefer", "odata.maxpagesize=1"), null,
        Stage.READ).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(fail(r, Stage.READ, false));
          }
          Long n = r.bodyAsJsonObject().getLong("@odata.count");
          return Future.succeededFuture(n == null ? (long) r.bodyAsJsonObject().getJsonArray("value").size() : n);
        });
  }

  /**
   * The options of a picklist column's option set, from its attribute metadata.
   *
   * @param entity the table's logical name, e.g. {@code account}
   * @param attribute the column, e.g. {@code paymenttermscode}
   * @return option value to its label (the user's language), in the CRM's order
   */
  public Future<java.util.LinkedHashMap<Integer, String>> options(String entity, String attribute) {
    String url = settings.apiUrl() + "/EntityDefinitions(LogicalName='" + entity + "')/Attributes(LogicalName='"
        + attribute + "')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName"
        + "&$expand=OptionSet($select=Options)";
    return send(HttpMethod.GET, url, null, null, Stage.READ).compose(r -> {
      if (r.statusCode() != 200) {
        return Future.failedFuture(fail(r, Stage.READ, false));
      }
      java.util.LinkedHashMap<Integer, String> out = new java.util.LinkedHashMap<>();
      JsonObject set = r.bodyAsJsonObject().getJsonObject("OptionSet", new JsonObject());
      for (Object o : set.getJsonArray("Options", new JsonArray())) {
        JsonObject option = (JsonObject) o;
        JsonObject label = option.getJsonObject("Label", new JsonObject());
        JsonObject user = label.getJsonObject("UserLocalizedLabel");
        JsonArray localized = label.getJsonArray("LocalizedLabels", new JsonArray());
        String text = user != null ? user.getString("Label")
            : localized.isEmpty() ? null : localized.getJsonObject(0).getString("Label");
        out.put(option.getInteger("Value"), text);
      }
      return Future.succeededFuture(out);
    });
  }

  /**
   * Adds an option to a picklist column's local option set ({@code InsertOptionValue}); the CRM chooses its value.
   * Not retried on a lost answer: the caller finds an option it made by its label on the next run.
   *
   * @param entity the table's logical name
   * @param attribute the column
   * @param label the new option's label (language 1033)
   * @return the new option's value
   */
  public Future<Integer> insertOptionValue(String entity, String attribute, String label) {
    JsonObject body = new JsonObject().put("EntityLogicalName", entity).put("AttributeLogicalName", attribute)
        .put("Label", new JsonObject().put("@odata.type", "Microsoft.Dynamics.CRM.Label").put("LocalizedLabels",
            new JsonArray().add(new JsonObject().put("@odata.type", "Microsoft.Dynamics.CRM.LocalizedLabel")
                .put("Label", label).put("LanguageCode", 1033))));
    return send(HttpMethod.POST, settings.apiUrl() + "/InsertOptionValue", MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "application/json"), body.toBuffer(), Stage.WRITE, false).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(fail(r, Stage.WRITE, false));
          }
          return Future.succeededFuture(r.bodyAsJsonObject().getInteger("NewOptionValue"));
        });
  }

  /** @return the calling (main) user: {@code UserId}, {@code BusinessUnitId}, {@code OrganizationId} */
  public Future<JsonObject> whoAmI() {
    return whoAmI(lanes.get(0));
  }

  private Future<JsonObject> whoAmI(Lane lane) {
    return send(lane, HttpMethod.GET, settings.apiUrl() + "/WhoAmI", null, null, Stage.READ, true, null, 0)
        .compose(r -> r.statusCode() == 200 ? Future.succeededFuture(r.bodyAsJsonObject())
            : Future.failedFuture(fail(r, Stage.READ, false)));
  }

  /**
   * @return the user ids of every application user this client writes as (the main one first): rows they last
   *     modified are Tandem's own writes
   */
  public Future<List<String>> integrationUserIds() {
    if (userIds != null && userIds.succeeded()) {
      return userIds; // they do not change: one WhoAmI per user per client
    }
    List<Future<JsonObject>> all = new ArrayList<>();
    for (Lane l : lanes) {
      all.add(whoAmI(l));
    }
    userIds = Future.all(all).map(c -> {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        ids.add(c.<JsonObject>resultAt(i).getString("UserId"));
      }
      return List.copyOf(ids);
    });
    return userIds;
  }

  /**
   * Reads one page of at most {@code maxPageSize} rows (Dataverse ignores {@code $top} when a page size is asked
   * for, so the size goes in the {@code Prefer} header): a bounded look at a table, e.g. the console's records.
   *
   * @param entitySetAndQuery e.g. {@code accounts?$select=name&$orderby=accountid}
   * @param maxPageSize the most rows, at most the client's page size
   * @return the page (its next link, if any, is not followed)
   */
  public Future<Page> queryPage(String entitySetAndQuery, int maxPageSize) {
    return page(settings.apiUrl() + "/" + entitySetAndQuery, false, Math.min(maxPageSize, settings.pageSize()));
  }

  private Future<Page> page(String url, boolean tracked) {
    return page(url, tracked, settings.pageSize());
  }

  private Future<Page> page(String url, boolean tracked, int pageSize) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Prefer", "odata.maxpagesize=" + pageSize + (tracked ? ",odata.track-changes" : ""));
    return send(HttpMethod.GET, url, headers, null, Stage.READ).compose(r -> {
      if (r.statusCode() != 200) {
        TandemException e = fail(r, Stage.READ, false);
        if (url.contains("$deltatoken=") && e.kind() == ErrorKind.PERMANENT && r.statusCode() != 401
            && r.statusCode() != 403) {
          return Future.failedFuture(new DeltaLinkRejectedException("CRM refused the change-tracking delta link: "
              + e.getMessage()));
        }
        return Future.failedFuture(e);
      }
      JsonObject body = r.bodyAsJsonObject();
      JsonArray value = body.getJsonArray("value", new JsonArray());
      List<JsonObject> rows = new ArrayList<>(value.size());
      for (int i = 0; i < value.size(); i++) {
        rows.add(value.getJsonObject(i));
      }
      String next = body.getString("@odata.nextLink");
      if (tracked && next != null) {
        trackedLinks.add(next);
      }
      return Future.succeededFuture(new Page(rows, next, body.getString("@odata.deltaLink")));
    });
  }

  // ---- writes ---------------------------------------------------------------------------------------------

  /**
   * Creates or updates rows with {@code UpsertMultiple}, in chunks of the batch size. Dataverse rolls a whole
   * call back when one target fails; such a chunk is then sent again as a {@code $batch} with continue-on-error,
   * so every target gets its own result and good rows are not held back by a bad one.
   *
   * @param entitySet e.g. {@code accounts}
   * @param logicalName e.g. {@code account}
   * @param targets rows, each with {@code @odata.id} (key or alternate key) or its primary key column
   * @return one result per target, in order
   */
  public Future<List<WriteResult>> upsertMultiple(String entitySet, String logicalName, List<JsonObject> targets) {
    List<Future<List<WriteResult>>> chunks = new ArrayList<>();
    int size = spread(targets.size(), sizer.next());
    for (int from = 0; from < targets.size(); from += size) {
      int start = from;
      List<JsonObject> chunk = targets.subList(from, Math.min(targets.size(), from + size));
      chunks.add(upsertChunk(entitySet, logicalName, chunk).map(results -> offset(results, start)));
    }
    return collect(chunks);
  }

  /** Writes of at most this many operations are spread over several batches side by side. */
  static final int SPREAD_UP_TO = 200;
  /** Into this many batches at most. */
  static final int SPREAD_WAYS = 10;
  /** Of at least this many operations each. */
  static final int SPREAD_MIN_OPS = 10;

  /**
   * The batch size for a write of {@code ops} operations. Dataverse runs a batch's operations one after another,
   * so an incremental run's 100 upserts in one batch take 100 operations' time (4 s at Dataverse's execution
   * costs) where ten batches of 10 side by side take a tenth of it, for nine more of the user's 6,000 requests
   * per 5 minutes. A large write (a full synchronization's pages of 1,000) keeps its batches whole: there the
   * requests count, and its many batches fill the user's concurrent requests anyway.
   *
   * @param ops operations to write
   * @param size the batch size otherwise
   * @return the batch size to use
   */
  static int spread(int ops, int size) {
    if (ops > SPREAD_UP_TO) {
      return size;
    }
    return Math.max(1, Math.min(size, Math.max(SPREAD_MIN_OPS, (ops + SPREAD_WAYS - 1) / SPREAD_WAYS)));
  }

  private Future<List<WriteResult>> upsertChunk(String entitySet, String logicalName, List<JsonObject> chunk) {
    JsonArray array = new JsonArray();
    for (JsonObject t : chunk) {
      array.add(t.copy().put("@odata.type", "Microsoft.Dynamics.CRM." + logicalName));
    }
    Buffer body = new JsonObject().put("Targets", array).toBuffer();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
    long[] started = new long[1];
    return send(HttpMethod.POST, settings.apiUrl() + "/" + entitySet + "/Microsoft.Dynamics.CRM.UpsertMultiple",
        headers, body, Stage.WRITE, true, started, chunk.size()).transform(ar -> {
          if (timedOut(ar, chunk.size())) {
            // Upserts may be repeated, but not the whole call that ran out of time: its halves go instead.
            return halves(chunk.size(), (from, to) -> upsertChunk(entitySet, logicalName, chunk.subList(from, to)));
          }
          if (ar.failed()) {
            return Future.failedFuture(ar.cause());
          }
          HttpResponse<Buffer> r = ar.result();
          sizer.answered(chunk.size(), elapsedMs(started));
          if (r.statusCode() / 100 == 2) {
            List<WriteResult> ok = new ArrayList<>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
              ok.add(new WriteResult(i, r.statusCode(), null, null, null));
            }
            return Future.succeededFuture(ok);
          }
          TandemException e = fail(r, Stage.WRITE, true);
          if (e.kind() != ErrorKind.DATA) {
            return Future.failedFuture(e);
          }
          // One bad target rolled the call back: find out which, per record.
          List<BatchOperation> ops = new ArrayList<>(chunk.size());
          for (JsonObject t : chunk) {
            JsonObject row = t.copy();
            String id = (String) row.remove("@odata.id");
            ops.add(new BatchOperation("PATCH", id == null ? entitySet : id, null, row));
          }
          return batch(ops);
        });
  }

  /**
   * Sends operations as {@code $batch} requests with {@code odata.continue-on-error}, in chunks of the batch
   * size; every operation gets its own result.
   *
   * @param ops the operations
   * @return one result per operation, in order
   */
  public Future<List<WriteResult>> batch(List<BatchOperation> ops) {
    return batch(ops, Integer.MAX_VALUE);
  }

  /**
   * Like {@link #batch(List)}, with at most {@code most} operations per request: Dataverse executes a batch's
   * operations one after another, so a caller with few large batches uses only as many of the user's concurrent
   * requests as it has batches; smaller ones run side by side.
   *
   * @param ops the operations
   * @param most operations per request at most (the batch size still applies)
   * @return one result per operation, in order
   */
  public Future<List<WriteResult>> batch(List<BatchOperation> ops, int most) {
    List<Future<List<WriteResult>>> chunks = new ArrayList<>();
    int size = spread(ops.size(), Math.max(1, Math.min(most, sizer.next())));
    for (int from = 0; from < ops.size(); from += size) {
      int start = from;
      chunks.add(batchChunk(ops.subList(from, Math.min(ops.size(), from + size)))
          .map(results -> offset(results, start)));
    }
    return collect(chunks);
  }

  /**
   * @return true when a request of {@code ops} operations ran out of time (the client's timeout, or a 408 or 504
   *     answer) and can be split; the sizer learns from it
   */
  private boolean timedOut(io.vertx.core.AsyncResult<HttpResponse<Buffer>> ar, int ops) {
    boolean out = ar.failed() ? ar.cause() instanceof ResilientHttp.TimedOutException
        : ar.result().statusCode() == 504 || ar.result().statusCode() == 408;
    if (out) {
      sizer.timedOut(ops);
    }
    return out && ops > 1;
  }

  /** The two halves of a request that ran out of time, each sent (and split again if need be) on its own. */
  private static Future<List<WriteResult>> halves(int n,
      java.util.function.BiFunction<Integer, Integer, Future<List<WriteResult>>> send) {
    int half = n / 2;
    Future<List<WriteResult>> first = send.apply(0, half);
    Future<List<WriteResult>> second = send.apply(half, n).map(results -> offset(results, half));
    return collect(List.of(first, second));
  }

  private static long elapsedMs(long[] started) {
    return started[0] == 0 ? 0 : (System.nanoTime() - started[0]) / 1_000_000;
  }

  private Future<List<WriteResult>> batchChunk(List<BatchOperation> ops) {
    String boundary = ODataMultipart.boundary();
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("Content-Type", "multipart/mixed; boundary=" + boundary)
        .add("Prefer", "odata.continue-on-error");
    // Upserts (PATCH) may be repeated; a batch with creates (POST) is not once it may have reached the CRM.
    boolean idempotent = ops.stream().noneMatch(o -> o.method().equals("POST"));
    long[] started = new long[1];
    return send(HttpMethod.POST, settings.apiUrl() + "/$batch", headers,
        ODataMultipart.encode(boundary, apiPath, ops), Stage.WRITE, idempotent, started, ops.size()).transform(ar -> {
          // A batch that ran out of time is split, never sent whole again. Only batches without creates come
          // back here: a batch with creates fails retriable (ResilientHttp) and the engine reconciles by reading,
          // as one that took effect before the timeout must not create its rows twice.
          if (idempotent && timedOut(ar, ops.size())) {
            return halves(ops.size(), (from, to) -> batchChunk(ops.subList(from, to)));
          }
          if (ar.failed()) {
            return Future.failedFuture(ar.cause());
          }
          HttpResponse<Buffer> r = ar.result();
          sizer.answered(ops.size(), elapsedMs(started));
          if (r.statusCode() != 200) {
            return Future.failedFuture(fail(r, Stage.WRITE, false));
          }
          List<ODataMultipart.Part> parts = ODataMultipart.decode(r.getHeader("Content-Type"), r.bodyAsString());
          List<WriteResult> results = new ArrayList<>(ops.size());
          for (int i = 0; i < ops.size(); i++) {
            if (i >= parts.size()) {
              results.add(new WriteResult(i, 0, null, null, TandemException.retriable(Stage.WRITE,
                  "CRM $batch answered " + parts.size() + " parts for " + ops.size() + " operations", null)));
              continue;
            }
            ODataMultipart.Part p = parts.get(i);
            String entityId = entityIdOf(p.headers().get("OData-EntityId"));
            if (p.status() / 100 == 2) {
              results.add(new WriteResult(i, p.status(), entityId, ODataMultipart.json(p.body()), null));
            } else {
              TandemException e = HttpFailures.classify(ENDPOINT, Stage.WRITE, p.status(), p.headers(), p.body(), true);
              results.add(new WriteResult(i, p.status(), entityId, ODataMultipart.json(p.body()), e));
            }
          }
          return Future.succeededFuture(results);
        });
  }

  /** @return the GUID in {@code .../accounts(<guid>)}, or null */
  static String entityIdOf(String header) {
    if (header == null) {
      return null;
    }
    int open = header.lastIndexOf('(');
    int close = header.lastIndexOf(')');
    return open >= 0 && close > open ? header.substring(open + 1, close) : null;
  }

  private static List<WriteResult> offset(List<WriteResult> results, int start) {
    if (start == 0) {
      return results;
    }
    List<WriteResult> out = new ArrayList<>(results.size());
    for (WriteResult r : results) {
      out.add(new WriteResult(r.index() + start, r.status(), r.entityId(), r.body(), r.error()));
    }
    return out;
  }

  private static Future<List<WriteResult>> collect(List<Future<List<WriteResult>>> chunks) {
    return Future.all(chunks).map(all -> {
      List<WriteResult> out = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        out.addAll(all.<List<WriteResult>>resultAt(i));
      }
      return out;
    });
  }

  // ---- transport ------------------------------------------------------------------------------------------

  private TandemException fail(HttpResponse<Buffer> r, Stage stage, boolean recordLevel) {
    return HttpFailures.classify(ENDPOINT, stage, r.statusCode(), r.headers(), r.bodyAsString(), recordLevel);
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage) {
    return send(method, url, headers, body, stage, true);
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent) {
    return send(method, url, headers, body, stage, idempotent, null);
  }

  /**
   * @param started null, or where the start of the last attempt (after the budget let it go) is noted: a write
   *     request then comes back with its timeout (client timeout, 408, 504) for the caller to split
   */
  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent, long[] started) {
    return send(method, url, headers, body, stage, idempotent, started, 0);
  }

  /**
   * @param operations the operations a {@code $batch} or {@code *Multiple} request carries (Dataverse charges each
   *     of them), or 0 for a plain request: the budget learns the cost of each kind apart
   */
  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent, long[] started, int operations) {
    TandemException foreign = origin.refuse(url, stage);
    if (foreign != null) {
      return Future.failedFuture(foreign);
    }
    // The least loaded application user takes the request.
    Lane lane = lanes.get(0);
    for (int i = 1; i < lanes.size(); i++) {
      if (lanes.get(i).budget.load() < lane.budget.load()) {
        lane = lanes.get(i);
      }
    }
    return send(lane, method, url, headers, body, stage, idempotent, started, operations);
  }

  private Future<HttpResponse<Buffer>> send(Lane lane, HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent, long[] started, int operations) {
    return lane.http.send(stage, renew -> {
      if (started != null) {
        started[0] = System.nanoTime();
      }
      if (renew) {
        lane.token.invalidate();
      }
      return lane.token.get(Stage.READ).map(t -> {
        HttpRequest<Buffer> req = web.requestAbs(method, url)
            .timeout(settings.timeoutMs())
            .putHeader("Authorization", "Bearer " + t)
            .putHeader("Accept", "application/json")
            .putHeader("OData-MaxVersion", "4.0")
            .putHeader("OData-Version", "4.0");
        if (headers != null) {
          req.putHeaders(headers);
        }
        return req;
      });
    }, body, idempotent, started != null && idempotent, operations > 0 ? OPERATIONS : ResilientHttp.REQUEST,
        Math.max(1, operations));
  }

  /** The cost unit of a batch's or {@code *Multiple} request's operations. */
  static final String OPERATIONS = "operations";

  // ---- OAuth ----------------------------------------------------------------------------------------------

  /** The main user's cached token, or a new one when it is missing or close to expiry; one request at a time. */
  Future<String> token() {
    return lanes.get(0).token.get(Stage.READ);
  }


  /**
   * @param apiUrl the Web API root, e.g. {@code https://contoso.crm4.dynamics.com/api/data/v9.2}
   * @return the organization's client-credentials scope, e.g. {@code https://contoso.crm4.dynamics.com/.default}
   */
  public static String defaultScope(String apiUrl) {
    URI u = URI.create(apiUrl);
    return u.getScheme() + "://" + u.getRawAuthority() + "/.default";
  }
}
