package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.plugins.PluginJars;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI document and the server agree: every route the router has is documented, and every documented
 * operation answers with a documented status and, for JSON, a body of the documented top-level shape.
 */
class OpenApiContractIT {

  @TempDir
  static Path work;

  private static TestDatabase db;
  private static TandemRuntime rt;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final OpenApiDocument DOC = OpenApiDocument.load();

  @BeforeAll
  static void start() throws Exception {
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "contract", null, Map.of("test.hardening.Currencies", AdminServerHardeningIT.PLUGIN),
        work);
    db = TestDatabase.fresh();
    rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins));
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(rt);
    db.close();
  }

  private static String template(String path) {
    return path.replaceAll(":[^/]+", "{}").replaceAll("\\{[^}/]+}", "{}");
  }

  @Test
  void everyRouteOfTheServerIsDocumented() {
    Set<String> documented = new TreeSet<>();
    DOC.operations().forEach(op -> documented.add(op.method() + " " + template(op.path())));
    Set<String> missing = new TreeSet<>();
    int endpoints = 0;
    for (Route route : rt.http().routes()) {
      Set<HttpMethod> methods = route.methods();
      String path = route.getPath();
      if (path == null || methods == null || methods.isEmpty() || path.endsWith("*")) {
        continue; // middleware (authentication, body handling), not an endpoint
      }
      for (HttpMethod m : methods) {
        endpoints++;
        String key = m.name() + " " + template(path);
        if (!documented.contains(key)) {
          missing.add(m.name() + " " + path);
        }
      }
    }
    assertTrue(endpoints > 25, "found only " + endpoints + " endpoint routes");
    assertTrue(missing.isEmpty(), "routes missing from openapi.json (platform/runtime/src/main/resources/dev/tandem/"
        + "runtime/http/openapi.json): " + missing);
  }

  @Test
  void theDocumentIsServedAndIsOpenApi31() throws Exception {
    HttpResponse<String> r = send("GET", "/api/v1/openapi.json", null);
    assertEquals(200, r.statusCode());
    JsonObject served = new JsonObject(r.body());
    assertEquals("3.1.0", served.getString("openapi"));
    assertEquals(DOC.json().getJsonObject("paths").fieldNames(), served.getJsonObject("paths").fieldNames());
  }

  @Test
  void everyDocumentedOperationAnswersWithADocumentedShape() throws Exception {
    List<String> problems = new ArrayList<>();
    for (OpenApiDocument.Operation op : DOC.operations()) {
      String path = op.path().replace("{name}", "CURRENCIES").replace("{mapping}", "CURRENCIES");
      path = path.replace("{id}", path.startsWith("/api/v1/availability") ? "00000000-0000-0000-0000-000000000001" : "1");
      String body = op.operation().containsKey("requestBody") ? "{}" : null;
      String what = op.method() + " " + op.path();
      JsonObject responses = op.operation().getJsonObject("responses");
      if (op.path().endsWith("/events")) {
        HttpResponse<InputStream> r = HTTP.send(request(op.method(), path, null).build(),
            HttpResponse.BodyHandlers.ofInputStream());
        r.body().close();
        if (!responses.containsKey(String.valueOf(r.statusCode()))) {
          problems.add(what + " answered " + r.statusCode() + ", documented " + responses.fieldNames());
        }
        continue;
      }
      HttpResponse<String> r = send(op.method(), path, body);
      String status = String.valueOf(r.statusCode());
      if (!responses.containsKey(status)) {
        problems.add(what + " answered " + status + " (" + r.body() + "), documented " + responses.fieldNames());
        continue;
      }
      JsonObject response = DOC.resolve(responses.getJsonObject(status));
      JsonObject content = response.getJsonObject("content");
      if (content == null) {
        if (!r.body().isEmpty()) {
          problems.add(what + " " + status + " has a body, documented none");
        }
        continue;
      }
      String type = r.headers().firstValue("Content-Type").orElse("");
      String mediaType = content.fieldNames().iterator().next();
      if (!type.startsWith(mediaType)) {
        problems.add(what + " " + status + " is " + type + ", documented " + mediaType);
        continue;
      }
      if (mediaType.equals("application/json")) {
        String problem = shape(Json.decodeValue(r.body()), DOC.resolve(content.getJsonObject(mediaType)
            .getJsonObject("schema")));
        if (problem != null) {
          problems.add(what + " " + status + ": " + problem + " in " + r.body());
        }
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  /** The top level of a body against its schema: the type and the required fields, with their types. */
  private static String shape(Object body, JsonObject schema) {
    String type = schema.getString("type");
    if (type != null && !type.equals(OpenApiDocument.jsonType(body))) {
      return "a " + OpenApiDocument.jsonType(body) + ", documented " + type;
    }
    if (body instanceof JsonObject o) {
      JsonObject props = schema.getJsonObject("properties", new JsonObject());
      for (Object req : schema.getJsonArray("required", new JsonArray())) {
        if (!o.containsKey((String) req)) {
          return "no required field '" + req + "'";
        }
        JsonObject p = props.getJsonObject((String) req);
        if (p != null) {
          p = DOC.resolve(p);
          Object t = p.getValue("type");
          String actual = OpenApiDocument.jsonType(o.getValue((String) req));
          boolean ok = t == null || t.equals(actual) || t instanceof JsonArray a && a.contains(actual)
              || "number".equals(t) && actual.equals("integer");
          if (!ok) {
            return "field '" + req + "' is a " + actual + ", documented " + t;
          }
        }
      }
    }
    return null;
  }

  private static HttpRequest.Builder request(String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return b;
  }

  private static HttpResponse<String> send(String method, String path, String body) throws Exception {
    return HTTP.send(request(method, path, body).build(), HttpResponse.BodyHandlers.ofString());
  }
}
