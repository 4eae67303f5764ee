package dev.tandem.runtime.connectors.erp;

import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.AdaptiveLimiter;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.EndpointOrigin;
import dev.tandem.runtime.connectors.HttpFailures;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.ResilientHttp;
import dev.tandem.runtime.connectors.Page;
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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A client of the ERP's OData v4 page web services (Dynamics NAV / Business Central): Basic authentication with
 * the web-service user and access key; server-driven paging; changed rows by {@code SystemModifiedAt}; writes in
 * JSON {@code $batch} requests, every update with {@code If-Match}; every value in a {@code $filter} escaped, so a
 * quote in a customer's name can neither break nor alter a query. Shares the CRM client's resilience: limiter,
 * retries with backoff, circuit breaker.
 *
 * <p>Use one client per Vert.x context.
 */
public final class ODataErpClient {

  private static final String ENDPOINT = "ERP";

  private final ODataErpSettings settings;
  private final WebClient web;
  private final ResilientHttp http;
  private final String authorization;
  private final String companyRoot;
  private final EndpointOrigin origin;

  /**
   * @param vertx Vert.x
   * @param settings where and how
   * @param metrics request counters
   */
  public ODataErpClient(Vertx vertx, ODataErpSettings settings, EndpointMetrics metrics) {
    this.settings = settings;
    this.web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true).setDecompressionSupported(true)
        .setUserAgent("Tandem"), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(settings.maxConcurrency()));
    this.http = new ResilientHttp(vertx, ENDPOINT,
        new AdaptiveLimiter(vertx, settings.maxConcurrency(), settings.maxConcurrency(), 20), settings.maxRetries(),
        metrics);
    this.authorization = "Basic " + Base64.getEncoder().encodeToString(
        (settings.user() + ":" + settings.accessKey()).getBytes(StandardCharsets.UTF_8));
    this.companyRoot = settings.serviceRoot() + "/" + companyPath(settings.company());
    this.origin = new EndpointOrigin(ENDPOINT, settings.serviceRoot());
  }

  /** Closes the HTTP client. */
  public void close() {
    web.close();
  }

  /**
   * @param company company name
   * @return {@code Company('CRONUS%20International%20Ltd.')}, quotes doubled and the name percent-encoded
   */
  static String companyPath(String company) {
    return "Company(" + pathEncode(literal(company)) + ")";
  }

  /**
   * An OData string literal: quoted, with single quotes doubled. Use it for every value put into a
   * {@code $filter} or a key.
   *
   * @param value the value
   * @return the literal, e.g. {@code 'O''Brien'}
   */
  public static String literal(String value) {
    return ODataLiterals.string(value);
  }

  /**
   * @param field e.g. {@code SystemModifiedAt}
   * @param since the watermark
   * @return {@code SystemModifiedAt gt 2024-08-18T20:05:51.603Z} (milliseconds, as the ERP stores them)
   */
  public static String modifiedSince(String field, Instant since) {
    return field + " gt " + ODataLiterals.dateTime(since);
  }

  /**
   * @param field a field
   * @param values values, each escaped
   * @return {@code (f eq 'a' or f eq 'b')}, which the ERP accepts because every term is on the same field;
   *     {@code SystemId} is an {@code Edm.Guid}, so its values go unquoted
   */
  public static String anyOf(String field, List<String> values) {
    return ODataLiterals.anyOf(field, values, "SystemId".equals(field) && values.stream().allMatch(ODataLiterals::isGuid));
  }

  /**
   * Reads the first page of a service.
   *
   * @param service e.g. {@code Customer}
   * @param filter an OData filter built with {@link #literal}, or null
   * @param select fields to return, or null for all
   * @param orderBy e.g. {@code SystemModifiedAt}, or null
   * @return the page
   */
  public Future<Page> read(String service, String filter, List<String> select, String orderBy) {
    StringBuilder url = new StringBuilder(companyRoot).append('/').append(service);
    char sep = '?';
    if (filter != null && !filter.isBlank()) {
      url.append(sep).append("$filter=").append(queryEncode(filter));
      sep = '&';
    }
    if (select != null && !select.isEmpty()) {
      url.append(sep).append("$select=").append(queryEncode(String.join(",", select)));
      sep = '&';
    }
    if (orderBy != null) {
      url.append(sep).append("$orderby=").append(queryEncode(orderBy));
    }
    return follow(url.toString());
  }

  /**
   * Whether any row passes a filter: one request for at most one row's key.
   *
   * @param service e.g. {@code Customer}
   * @param filter an OData filter, or null
   * @param key the key field to select
   * @return true when a row exists
   */
  public Future<Boolean> any(String service, String filter, String key) {
    String url = companyRoot + "/" + service + "?$top=1&$select=" + queryEncode(key)
        + (filter == null || filter.isBlank() ? "" : "&$filter=" + queryEncode(filter));
    return follow(url).map(p -> !p.rows().isEmpty());
  }

  /**
   * The newest modified-on of a service, by the ERP's own clock: one request for one row.
   *
   * @param service e.g. {@code Customer}
   * @param field its modified-on field, e.g. {@code SystemModifiedAt}
   * @return the newest value, or null when the service has no rows
   */
  public Future<java.time.OffsetDateTime> newest(String service, String field) {
    String url = companyRoot + "/" + service + "?$top=1&$select=" + queryEncode(field) + "&$orderby="
        + queryEncode(field + " desc");
    return follow(url).map(p -> p.rows().isEmpty() || p.rows().get(0).getString(field) == null ? null
        : java.time.OffsetDateTime.parse(p.rows().get(0).getString(field)));
  }

  /**
   * How many rows pass a filter: one request ({@code $count=true}) for at most one row's key.
   *
   * @param service e.g. {@code Customer}
   * @param filter an OData filter, or null
   * @param key the key field to select
   * @return the count the ERP reports
   */
  public Future<Long> count(String service, String filter, String key) {
    String url = companyRoot + "/" + service + "?$top=1&$count=true&$select=" + queryEncode(key)
        + (filter == null || filter.isBlank() ? "" : "&$filter=" + queryEncode(filter));
    return send(HttpMethod.GET, url, MultiMap.caseInsensitiveMultiMap(), null, Stage.READ).compose(r -> {
      if (r.statusCode() != 200) {
        return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.READ, r.statusCode(), r.headers(),
            r.bodyAsString(), false));
      }
      Long n = r.bodyAsJsonObject().getLong("@odata.count");
      return n == null ? Future.failedFuture(TandemException.permanent(Stage.READ, "ERP " + service
          + " answered a $count query without @odata.count")) : Future.succeededFuture(n);
    });
  }

  /**
   * Follows a next link.
   *
   * @param url an absolute URL (a next link, or a query URL)
   * @return the page
   */
  public Future<Page> follow(String url) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Prefer", "odata.maxpagesize=" + settings.pageSize());
    return send(HttpMethod.GET, url, headers, null, Stage.READ).compose(r -> {
      if (r.statusCode() != 200) {
        return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.READ, r.statusCode(), r.headers(),
            r.bodyAsString(), false));
      }
      JsonObject body = r.bodyAsJsonObject();
      JsonArray value = body.getJsonArray("value", new JsonArray());
      List<JsonObject> rows = new ArrayList<>(value.size());
      for (int i = 0; i < value.size(); i++) {
        rows.add(value.getJsonObject(i));
      }
      return Future.succeededFuture(new Page(rows, body.getString("@odata.nextLink"), null));
    });
  }

  /**
   * One write in a JSON {@code $batch}.
   *
   * @param method POST, PATCH or DELETE
   * @param service e.g. {@code Customer}
   * @param key the key literal for PATCH and DELETE, e.g. {@code '10000'} (see {@link #literal}), or null for POST
   * @param etag the row's {@code @odata.etag} for If-Match (PATCH and DELETE require one; {@code *} overwrites)
   * @param body the fields to write, or null
   */
  public record Write(String method, String service, String key, String etag, JsonObject body) {}

  /**
   * Sends writes as JSON {@code $batch} requests of at most the batch size; each write gets its own result.
   *
   * @param writes the writes
   * @return one result per write, in order; a result's body is the row written (with its new etag)
   */
  public Future<List<WriteResult>> batch(List<Write> writes) {
    List<Future<List<WriteResult>>> chunks = new ArrayList<>();
    for (int from = 0; from < writes.size(); from += settings.batchSize()) {
      chunks.add(batchChunk(writes.subList(from, Math.min(writes.size(), from + settings.batchSize())), from));
    }
    return Future.all(chunks).map(all -> {
      List<WriteResult> out = new ArrayList<>(writes.size());
      for (int i = 0; i < chunks.size(); i++) {
        out.addAll(all.<List<WriteResult>>resultAt(i));
      }
      return out;
    });
  }

  private Future<List<WriteResult>> batchChunk(List<Write> writes, int offset) {
    JsonArray requests = new JsonArray();
    for (int i = 0; i < writes.size(); i++) {
      Write w = writes.get(i);
      if (!w.method().equals("POST") && (w.etag() == null || w.key() == null)) {
        throw new IllegalArgumentException(w.method() + " of " + w.service() + " needs a key and an If-Match etag");
      }
      JsonObject headers = new JsonObject().put("Content-Type", "application/json");
      if (w.etag() != null) {
        headers.put("If-Match", w.etag());
      }
      String url = companyPath(settings.company()) + "/" + w.service()
          + (w.key() == null ? "" : "(" + pathEncode(w.key()) + ")");
      JsonObject req = new JsonObject().put("id", String.valueOf(i)).put("method", w.method()).put("url", url)
          .put("headers", headers);
      if (w.body() != null) {
        req.put("body", w.body());
      }
      requests.add(req);
    }
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
    // A batch with creates is not repeated once it may have reached the ERP: the engine reconciles instead.
    boolean idempotent = writes.stream().noneMatch(w -> w.method().equals("POST"));
    return send(HttpMethod.POST, settings.serviceRoot() + "/$batch", headers,
        new JsonObject().put("requests", requests).toBuffer(), Stage.WRITE, idempotent).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.WRITE, r.statusCode(), r.headers(),
                r.bodyAsString(), false));
          }
          JsonArray responses = r.bodyAsJsonObject().getJsonArray("responses", new JsonArray());
          WriteResult[] results = new WriteResult[writes.size()];
          for (int i = 0; i < responses.size(); i++) {
            JsonObject resp = responses.getJsonObject(i);
            int idx = Integer.parseInt(resp.getString("id"));
            int status = resp.getInteger("status");
            Object b = resp.getValue("body");
            JsonObject body = b instanceof JsonObject o ? o : null;
            TandemException error = status / 100 == 2 ? null : HttpFailures.classify(ENDPOINT, Stage.WRITE, status,
                headersOf(resp.getJsonObject("headers")), body == null ? null : body.encode(), true);
            results[idx] = new WriteResult(offset + idx, status, body == null ? null : body.getString("SystemId"),
                body, error);
          }
          List<WriteResult> out = new ArrayList<>(writes.size());
          for (int i = 0; i < results.length; i++) {
            out.add(results[i] != null ? results[i] : new WriteResult(offset + i, 0, null, null,
                TandemException.retriable(Stage.WRITE, "ERP $batch gave no response for write " + i, null)));
          }
          return Future.succeededFuture(out);
        });
  }

  private static MultiMap headersOf(JsonObject h) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    if (h != null) {
      for (Map.Entry<String, Object> e : h) {
        m.add(e.getKey(), String.valueOf(e.getValue()));
      }
    }
    return m;
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage) {
    return send(method, url, headers, body, stage, true);
  }

  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent) {
    TandemException foreign = origin.refuse(url, stage);
    if (foreign != null) {
      return Future.failedFuture(foreign);
    }
    // Basic credentials cannot be renewed: a 401 is final and classified permanent by the caller.
    return http.send(stage, renew -> renew
        ? Future.failedFuture(TandemException.permanent(stage, "ERP rejected user " + settings.user()))
        : Future.succeededFuture(web.requestAbs(method, url)
            .timeout(settings.timeoutMs())
            .putHeader("Authorization", authorization)
            .putHeader("Accept", "application/json")
            .putHeaders(headers)), body, idempotent);
  }

  private static String queryEncode(String s) {
    return ODataLiterals.query(s);
  }

  private static String pathEncode(String s) {
    return ODataLiterals.key(s);
  }
}
