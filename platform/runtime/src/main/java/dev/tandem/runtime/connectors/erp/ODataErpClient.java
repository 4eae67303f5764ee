package dev.tandem.runtime.connectors.erp;

import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.BatchSizer;
import dev.tandem.runtime.connectors.ClientCredentialsToken;
import dev.tandem.runtime.connectors.EndpointBudget;
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
 * A client of the ERP's OData v4 page web services (Dynamics NAV / Business Central). Authentication follows
 * the profile: on {@code nav}, Basic with the web-service user and access key; on {@code bc-online}, OAuth 2.0
 * client credentials, the token cached and renewed ahead of expiry and once more on a 401. Server-driven paging; changed rows by {@code SystemModifiedAt}; writes in
 * JSON {@code $batch} requests, every update with {@code If-Match}; every value in a {@code $filter} escaped, so a
 * quote in a customer's name can neither break nor alter a query. Shares the CRM client's resilience: the node's
 * budget of the user, retries with backoff, circuit breaker.
 *
 * <p>Use one client per Vert.x context.
 */
public final class ODataErpClient {

  private static final String ENDPOINT = "ERP";

  private final ODataErpSettings settings;
  private final Vertx vertx;
  private final WebClient web;
  private final ResilientHttp http;
  private final EndpointBudget budget;
  private final BatchSizer sizer;
  private final String authorization;
  private final String companyRoot;
  private final EndpointOrigin origin;
  private final ClientCredentialsToken token;

  /**
   * @param vertx Vert.x
   * @param settings where and how
   * @param metrics request counters
   */
  public ODataErpClient(Vertx vertx, ODataErpSettings settings, EndpointMetrics metrics) {
    this.settings = settings;
    this.vertx = vertx;
    // One connection pool per ERP user and node, shared by every verticle's client (each holds a handle that its
    // verticle's undeployment closes; the pool closes with the last).
    this.web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true).setDecompressionSupported(true)
        .setUserAgent("Tandem").setShared(true).setName("tandem-erp " + settings.serviceRoot() + " as "
            + settings.user() + " max " + settings.maxConcurrency()),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(settings.maxConcurrency()));
    // One budget per ERP user and node, shared by every job and verticle (BC's limits are per user), its
    // concurrency split with the other nodes through PostgreSQL (see TandemRuntime#startBudgets).
    this.budget = EndpointBudget.of(vertx, settings.serviceRoot(), settings.user(), settings.limits(),
        settings.maxConcurrency());
    this.http = new ResilientHttp(vertx, ENDPOINT, budget, settings.maxRetries(), metrics);
    this.sizer = new BatchSizer(settings.batchSize(), settings.timeoutMs());
    this.authorization = "Basic " + Base64.getEncoder().encodeToString(
        (settings.user() + ":" + settings.accessKey()).getBytes(StandardCharsets.UTF_8));
    this.companyRoot = settings.serviceRoot() + "/" + companyPath(settings.company());
    this.origin = new EndpointOrigin(ENDPOINT, settings.serviceRoot());
    ODataErpSettings.OAuth o = settings.oauth();
    this.token = o == null ? null : new ClientCredentialsToken(vertx, web, o.tokenUrl(), o.clientId(), o.clientSecret(),
        o.scope(), settings.timeoutMs(), "ERP token endpoint", "ERP token endpoint " + o.tokenUrl(),
        "check the tenant, client id, secret and scope of the Entra application registered in Business Central");
  }

  /** @return the settings */
  public ODataErpSettings settings() {
    return settings;
  }

  /** @return how this client sizes its write batches (tests) */
  public BatchSizer sizer() {
    return sizer;
  }

  /** @return requests of this client the ERP answered with 429 so far; a job takes the difference over its run */
  public long throttledCount() {
    return http.throttledCount();
  }

  /** @return the node's budget of this ERP user (shared with every other client of the user on the node) */
  public EndpointBudget budget() {
    return budget;
  }

  /**
   * Lists the tenant's companies ({@code GET …/ODataV4/Company}, published on every BC).
   *
   * @return the company names
   */
  public Future<List<String>> companies() {
    return send(HttpMethod.GET, settings.serviceRoot() + "/Company?$select=Name", MultiMap.caseInsensitiveMultiMap(),
        null, Stage.READ).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.READ, r.statusCode(), r.headers(),
                r.bodyAsString(), false));
          }
          JsonArray value = r.bodyAsJsonObject().getJsonArray("value", new JsonArray());
          List<String> names = new ArrayList<>(value.size());
          for (int i = 0; i < value.size(); i++) {
            names.add(value.getJsonObject(i).getString("Name"));
          }
          return Future.succeededFuture(names);
        });
  }

  /**
   * @return the configured company's id ({@code Id} of {@code GET …/ODataV4/Company}): the API pages' company key
   */
  public Future<String> companyId() {
    return send(HttpMethod.GET, settings.serviceRoot() + "/Company", MultiMap.caseInsensitiveMultiMap(), null,
        Stage.READ).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.READ, r.statusCode(), r.headers(),
                r.bodyAsString(), false));
          }
          JsonArray value = r.bodyAsJsonObject().getJsonArray("value", new JsonArray());
          for (int i = 0; i < value.size(); i++) {
            if (settings.company().equals(value.getJsonObject(i).getString("Name"))) {
              return Future.succeededFuture(value.getJsonObject(i).getString("Id"));
            }
          }
          return Future.failedFuture(TandemException.permanent(Stage.READ, "ERP company '" + settings.company()
              + "' not found"));
        });
  }

  /** @return the API root next to the OData root: {@code …/v2.0/{tenant}/{environment}/api/v2.0} */
  public String apiRoot() {
    String root = settings.serviceRoot();
    return (root.endsWith("/ODataV4") ? root.substring(0, root.length() - "/ODataV4".length()) : root) + "/api/v2.0";
  }

  /**
   * One call of the API (webhook subscriptions), with the connection's authentication, retried like every read;
   * the answer comes back whatever its status.
   *
   * @param method GET, POST, PATCH or DELETE
   * @param url absolute URL under {@link #apiRoot}
   * @param body a JSON body, or null
   * @param ifMatch an ETag for If-Match, or null
   * @return the status and the body as JSON (null when empty or not JSON)
   */
  public Future<Map.Entry<Integer, JsonObject>> api(HttpMethod method, String url, JsonObject body, String ifMatch) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Accept", "application/json");
    if (body != null) {
      headers.add("Content-Type", "application/json");
    }
    if (ifMatch != null) {
      headers.add("If-Match", ifMatch);
    }
    return send(method, url, headers, body == null ? null : body.toBuffer(), Stage.READ, method == HttpMethod.GET)
        .map(r -> {
          JsonObject json = null;
          try {
            json = r.body() == null || r.body().length() == 0 ? null : r.bodyAsJsonObject();
          } catch (RuntimeException notJson) {
            json = new JsonObject().put("text", r.bodyAsString());
          }
          return Map.entry(r.statusCode(), json == null ? new JsonObject() : json);
        });
  }

  /**
   * The connection test: credentials accepted and the configured company one of the tenant's.
   *
   * @return the company names on success; a permanent failure naming the companies there are when the configured
   *     one is not among them
   */
  public Future<List<String>> verifyCompany() {
    return companies().compose(names -> names.contains(settings.company()) ? Future.succeededFuture(names)
        : Future.failedFuture(TandemException.permanent(Stage.READ, "ERP company '" + settings.company()
            + "' does not exist at " + settings.serviceRoot() + "; the companies there are " + names
            + " (set TANDEM_ERP_COMPANY or connections.erp.company)")));
  }

  /**
   * Reads the service's {@code $metadata} (CSDL): which properties each published entity set has.
   *
   * @return property names by entity set (service) name
   */
  public Future<Map<String, java.util.Set<String>>> metadata() {
    return send(HttpMethod.GET, settings.serviceRoot() + "/$metadata", MultiMap.caseInsensitiveMultiMap()
        .add("Accept", "application/xml"), null, Stage.READ).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.READ, r.statusCode(), r.headers(),
                r.bodyAsString(), false));
          }
          // A CSDL document of a real BC runs to megabytes: parsed off the event loop.
          byte[] csdl = r.body().getBytes();
          return vertx.executeBlocking(() -> parseMetadata(csdl)).recover(e -> Future.failedFuture(
              TandemException.permanent(Stage.READ, "ERP $metadata is not readable CSDL: " + e.getMessage())));
        });
  }

  /** @return property names by entity set, from a CSDL document */
  static Map<String, java.util.Set<String>> parseMetadata(byte[] csdl) throws Exception {
    javax.xml.parsers.DocumentBuilderFactory f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    f.setNamespaceAware(true);
    org.w3c.dom.Document doc = f.newDocumentBuilder().parse(new java.io.ByteArrayInputStream(csdl));
    Map<String, java.util.Set<String>> byType = new java.util.HashMap<>();
    org.w3c.dom.NodeList types = doc.getElementsByTagNameNS("*", "EntityType");
    for (int i = 0; i < types.getLength(); i++) {
      org.w3c.dom.Element t = (org.w3c.dom.Element) types.item(i);
      java.util.Set<String> props = new java.util.HashSet<>();
      org.w3c.dom.NodeList ps = t.getElementsByTagNameNS("*", "Property");
      for (int j = 0; j < ps.getLength(); j++) {
        props.add(((org.w3c.dom.Element) ps.item(j)).getAttribute("Name"));
      }
      byType.put(t.getAttribute("Name"), props);
    }
    Map<String, java.util.Set<String>> bySet = new java.util.TreeMap<>();
    org.w3c.dom.NodeList sets = doc.getElementsByTagNameNS("*", "EntitySet");
    for (int i = 0; i < sets.getLength(); i++) {
      org.w3c.dom.Element e = (org.w3c.dom.Element) sets.item(i);
      String type = e.getAttribute("EntityType");
      java.util.Set<String> props = byType.get(type.substring(type.lastIndexOf('.') + 1));
      if (props != null) {
        bySet.put(e.getAttribute("Name"), props);
      }
    }
    return bySet;
  }

  /**
   * Checks a mapping's ERP side against the service's metadata: the service is published and has every field the
   * mapping names (key, modified-on, field and option mappings, match fields).
   *
   * @param m the mapping
   * @param metadata from {@link #metadata()}
   * @return the problems, each naming the mapping, the service and the unknown fields; empty when all is there
   */
  public static List<String> unknownErpFields(dev.tandem.api.MappingDefinition m,
      Map<String, java.util.Set<String>> metadata) {
    java.util.Set<String> props = metadata.get(m.erpEntitySet());
    if (props == null) {
      return List.of("mapping " + m.name() + ": the ERP publishes no web service " + m.erpEntitySet()
          + " (publish the page under that name, or disable the mapping)");
    }
    java.util.Set<String> named = new java.util.LinkedHashSet<>();
    named.addAll(m.erpKeyFields());
    if (m.erpModifiedOn() != null) {
      named.add(m.erpModifiedOn());
    }
    m.fields().forEach(f -> {
      if (f.erpField() != null) {
        named.add(f.erpField());
      }
    });
    m.options().forEach(o -> named.add(o.erpField()));
    m.matchFields().forEach(f -> named.add(f.erpField()));
    List<String> unknown = named.stream().filter(n -> n != null && !props.contains(n)).toList();
    return unknown.isEmpty() ? List.of() : List.of("mapping " + m.name() + ": ERP " + m.erpEntitySet()
        + " has no field " + String.join(", ", unknown) + " (checked against the ERP's $metadata)");
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
   * Characters of {@code $filter} a read by key may use. Neither Microsoft's OData pages nor BC's limits name a URL
   * length for BC online; 2,000 characters (before percent-encoding) is Tandem's own margin below the limits of
   * common proxies and gateways, not a BC figure.
   */
  public static final int KEY_FILTER_CHARS = 2000;
  /** Values per {@code or} of {@code eq}s at most (NAV 2017, no {@code in}): the reads by key Tandem always sent. */
  public static final int OR_KEYS = 50;

  /**
   * Filters selecting rows by many values of one field, as few as fit: on {@code bc-online} {@code f in ('a','b')}
   * (BC supports the OData {@code in} operator since 2024 release wave 1; "Using filter expressions in OData
   * URIs": "In a list of values"), each at most {@link #KEY_FILTER_CHARS} long; on {@code nav} the {@code or} of
   * {@link #OR_KEYS} {@code eq}s ({@link #anyOf}). An {@code in} costs BC what the {@code or} costs (the rows it
   * returns) but one request instead of several.
   *
   * @param field a field, e.g. {@code No}
   * @param values its values
   * @return the filters, each selecting a run of the values in order
   */
  public List<String> anyOfFilters(String field, List<String> values) {
    List<String> out = new java.util.ArrayList<>();
    boolean guids = "SystemId".equals(field) && values.stream().allMatch(ODataLiterals::isGuid);
    if (settings.profile() != ODataErpSettings.Profile.BC_ONLINE) {
      for (int i = 0; i < values.size(); i += OR_KEYS) {
        out.add(ODataLiterals.anyOf(field, values.subList(i, Math.min(values.size(), i + OR_KEYS)), guids));
      }
      return out;
    }
    StringBuilder f = null;
    for (String v : values) {
      String lit = guids ? ODataLiterals.guid(v) : ODataLiterals.string(v);
      if (f != null && f.length() + 1 + lit.length() + 1 > KEY_FILTER_CHARS) {
        out.add(f.append(')').toString());
        f = null;
      }
      f = f == null ? new StringBuilder(field).append(" in (").append(lit) : f.append(',').append(lit);
    }
    if (f != null) {
      out.add(f.append(')').toString());
    }
    return out;
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
   * Reads at most {@code top} rows in one request (a ledger's entries after an entry number, in entry order).
   *
   * @param service e.g. {@code ItemLedgerEntries}
   * @param filter an OData filter, or null
   * @param select fields to return, or null for all
   * @param orderBy e.g. {@code Entry_No}, or null
   * @param top the most rows
   * @return the rows (a next link, if any, is not followed)
   */
  public Future<Page> readTop(String service, String filter, List<String> select, String orderBy, int top) {
    StringBuilder url = new StringBuilder(companyRoot).append('/').append(service).append("?$top=").append(top);
    if (filter != null && !filter.isBlank()) {
      url.append("&$filter=").append(queryEncode(filter));
    }
    if (select != null && !select.isEmpty()) {
      url.append("&$select=").append(queryEncode(String.join(",", select)));
    }
    if (orderBy != null) {
      url.append("&$orderby=").append(queryEncode(orderBy));
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
    int size = sizer.next();
    for (int from = 0; from < writes.size(); from += size) {
      chunks.add(batchChunk(writes.subList(from, Math.min(writes.size(), from + size)), from));
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
    long[] started = new long[1];
    return send(HttpMethod.POST, settings.serviceRoot() + "/$batch", headers,
        new JsonObject().put("requests", requests).toBuffer(), Stage.WRITE, idempotent, idempotent, started)
        .transform(ar -> {
          boolean timedOut = ar.failed() ? ar.cause() instanceof ResilientHttp.TimedOutException
              : ar.result().statusCode() == 504 || ar.result().statusCode() == 408;
          if (timedOut) {
            sizer.timedOut(writes.size());
          }
          if (ar.failed() && !(timedOut && writes.size() > 1)) {
            return Future.failedFuture(ar.cause());
          }
          if (!timedOut) {
            sizer.answered(writes.size(), started[0] == 0 ? 0 : (System.nanoTime() - started[0]) / 1_000_000);
          }
          return Future.succeededFuture(ar.failed() ? null : ar.result());
        }).compose(r -> {
          if ((r == null || r.statusCode() == 504 || r.statusCode() == 408) && writes.size() > 1) {
            // BC's advice for a request that timed out: split it. The halves go out as smaller batches, and
            // each half may be split again; the whole batch is never sent again as it was. Only batches without
            // creates come back here: every update and delete carries its If-Match, so one that took effect
            // before the timeout answers 409 instead of applying twice. A batch with creates that timed out
            // fails retriable and is not repeated (ResilientHttp): the engine reconciles by reading.
            int half = writes.size() / 2;
            Future<List<WriteResult>> first = batchChunk(writes.subList(0, half), offset);
            Future<List<WriteResult>> second = batchChunk(writes.subList(half, writes.size()), offset + half);
            return Future.all(first, second).map(both -> {
              List<WriteResult> out = new ArrayList<>(writes.size());
              out.addAll(first.result());
              out.addAll(second.result());
              return out;
            });
          }
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

  /**
   * Sends writes as ONE transactional JSON {@code $batch} ({@code Isolation: snapshot}, Business Central 17.1 and
   * later): the first failing write stops it and the ERP reverts the writes before it. Never split and never sent
   * again once it may have reached the ERP (a lost answer fails retriable): the caller reads back what took effect.
   *
   * @param writes the writes, at most the batch size
   * @return one result per write, in order: when one failed, every other carries a DATA error saying it was undone
   */
  public Future<List<WriteResult>> changeSet(List<Write> writes) {
    if (writes.size() > settings.batchSize()) {
      return Future.failedFuture(TandemException.permanent(Stage.WRITE, "an ERP change set of " + writes.size()
          + " writes is more than the batch size of " + settings.batchSize()));
    }
    JsonArray requests = new JsonArray();
    for (int i = 0; i < writes.size(); i++) {
      Write w = writes.get(i);
      JsonObject headers = new JsonObject().put("Content-Type", "application/json");
      if (w.etag() != null) {
        headers.put("If-Match", w.etag());
      }
      JsonObject req = new JsonObject().put("id", String.valueOf(i)).put("method", w.method())
          .put("url", companyPath(settings.company()) + "/" + w.service()
              + (w.key() == null ? "" : "(" + pathEncode(w.key()) + ")"))
          .put("headers", headers);
      if (w.body() != null) {
        req.put("body", w.body());
      }
      requests.add(req);
    }
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json")
        .add("Isolation", "snapshot");
    boolean idempotent = writes.stream().noneMatch(w -> w.method().equals("POST"));
    return send(HttpMethod.POST, settings.serviceRoot() + "/$batch", headers,
        new JsonObject().put("requests", requests).toBuffer(), Stage.WRITE, idempotent).compose(r -> {
          if (r.statusCode() != 200) {
            return Future.failedFuture(HttpFailures.classify(ENDPOINT, Stage.WRITE, r.statusCode(), r.headers(),
                r.bodyAsString(), false));
          }
          JsonArray responses = r.bodyAsJsonObject().getJsonArray("responses", new JsonArray());
          WriteResult[] results = new WriteResult[writes.size()];
          int failed = -1;
          for (int i = 0; i < responses.size(); i++) {
            JsonObject resp = responses.getJsonObject(i);
            int idx = Integer.parseInt(resp.getString("id"));
            int status = resp.getInteger("status");
            JsonObject body = resp.getValue("body") instanceof JsonObject o ? o : null;
            TandemException error = status / 100 == 2 ? null : HttpFailures.classify(ENDPOINT, Stage.WRITE, status,
                headersOf(resp.getJsonObject("headers")), body == null ? null : body.encode(), true);
            if (error != null && failed < 0) {
              failed = idx;
            }
            results[idx] = new WriteResult(idx, status, body == null ? null : body.getString("SystemId"), body, error);
          }
          if (failed < 0 && responses.size() < writes.size()) {
            return Future.failedFuture(TandemException.retriable(Stage.WRITE, "ERP change set answered "
                + responses.size() + " of " + writes.size() + " writes", null));
          }
          List<WriteResult> out = new ArrayList<>(writes.size());
          for (int i = 0; i < writes.size(); i++) {
            if (failed >= 0 && i != failed) {
              out.add(new WriteResult(i, results[i] == null ? 0 : results[i].status(), null, null,
                  TandemException.data(Stage.WRITE, "not applied: the change set was undone because write " + failed
                      + " (" + writes.get(failed).method() + " " + writes.get(failed).service() + ") failed")));
            } else {
              out.add(results[i]);
            }
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
    return send(method, url, headers, body, stage, idempotent, false);
  }

  /** @param returnTimeouts true: a 408 or 504 comes back to the caller, which splits instead of resending */
  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent, boolean returnTimeouts) {
    return send(method, url, headers, body, stage, idempotent, returnTimeouts, null);
  }

  /**
   * @param returnTimeouts true: a 408, a 504 or the client's timeout comes back to the caller, which splits
   *     instead of resending
   * @param started null, or where the start of the last attempt (after the budget let it go) is noted
   */
  private Future<HttpResponse<Buffer>> send(HttpMethod method, String url, MultiMap headers, Buffer body,
      Stage stage, boolean idempotent, boolean returnTimeouts, long[] started) {
    TandemException foreign = origin.refuse(url, stage);
    if (foreign != null) {
      return Future.failedFuture(foreign);
    }
    return http.send(stage, renew -> credentials(renew, stage).map(auth -> {
      if (started != null) {
        started[0] = System.nanoTime();
      }
      return web.requestAbs(method, url)
          .timeout(settings.timeoutMs())
          .putHeader("Authorization", auth)
          .putHeader("Accept", "application/json")
          .putHeaders(headers);
    }), body, idempotent, returnTimeouts);
  }

  /** The Authorization header; {@code renew} after a 401. */
  private Future<String> credentials(boolean renew, Stage stage) {
    if (settings.oauth() == null) {
      // Basic credentials cannot be renewed: a 401 is final and classified permanent by the caller.
      return renew ? Future.failedFuture(TandemException.permanent(stage, "ERP rejected user " + settings.user()
          + " (check its web service access key)")) : Future.succeededFuture(authorization);
    }
    if (renew) {
      // The token may have been revoked or expired early: one fresh token, then the 401 is final.
      token.invalidate();
    }
    return token(stage).map(t -> "Bearer " + t);
  }

  /** The cached token, or a new one when missing or close to expiry; one token request at a time. */
  Future<String> token(Stage stage) {
    return token.get(stage);
  }

  private static String queryEncode(String s) {
    return ODataLiterals.query(s);
  }

  private static String pathEncode(String s) {
    return ODataLiterals.key(s);
  }
}
