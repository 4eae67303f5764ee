package dev.tandem.runtime.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The admin API's contract, {@code openapi.json} beside this class: served at {@code /api/v1/openapi.json}, and the
 * source of the request-body rules the server enforces (unknown fields, value types, ranges), so the document and
 * the server cannot drift apart on what a body may hold.
 */
public final class OpenApiDocument {

  private static final List<String> METHODS = List.of("get", "post", "put", "patch", "delete");

  private final JsonObject doc;
  private final String text;

  private OpenApiDocument(String text) {
    this.text = text;
    this.doc = new JsonObject(text);
  }

  /** @return the document shipped with this build */
  public static OpenApiDocument load() {
    try (InputStream in = OpenApiDocument.class.getResourceAsStream("openapi.json")) {
      if (in == null) {
        throw new IllegalStateException("openapi.json is missing from the runtime jar");
      }
      return new OpenApiDocument(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** @return the document as JSON */
  public JsonObject json() {
    return doc;
  }

  /** @return the document's text */
  public Buffer text() {
    return Buffer.buffer(text);
  }

  /**
   * A documented operation.
   *
   * @param method upper-case HTTP method
   * @param path the OpenAPI path template, e.g. {@code /api/v1/jobs/{id}}
   * @param operation its operation object
   */
  public record Operation(String method, String path, JsonObject operation) {
    /** @return the path as a Vert.x route ({@code {id}} becomes {@code :id}) */
    public String routePath() {
      return path.replaceAll("\\{([^}/]+)}", ":$1");
    }
  }

  /** @return every documented operation */
  public List<Operation> operations() {
    List<Operation> out = new ArrayList<>();
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String m : METHODS) {
        if (item.containsKey(m)) {
          out.add(new Operation(m.toUpperCase(Locale.ROOT), path, item.getJsonObject(m)));
        }
      }
    }
    return out;
  }

  /**
   * @param op an operation
   * @return its JSON request body's schema (references resolved), or null when it takes no body
   */
  public JsonObject requestSchema(Operation op) {
    JsonObject rb = op.operation().getJsonObject("requestBody");
    if (rb == null) {
      return null;
    }
    JsonObject media = rb.getJsonObject("content", new JsonObject()).getJsonObject("application/json");
    return media == null ? null : resolve(media.getJsonObject("schema"));
  }

  /**
   * @param schema a schema or a {@code $ref} to one
   * @return the schema it stands for
   */
  public JsonObject resolve(JsonObject schema) {
    JsonObject s = schema;
    while (s != null && s.containsKey("$ref")) {
      String ref = s.getString("$ref");
      JsonObject target = doc;
      for (String part : ref.substring(2).split("/")) {
        target = target.getJsonObject(part);
      }
      s = target;
    }
    return s;
  }

  /**
   * Checks a request body against an object schema: no field the schema does not list (when it says
   * {@code additionalProperties: false}), the required ones present, and each field's JSON type, range, length
   * and item types as documented.
   *
   * @param body the parsed body
   * @param schema the body's schema
   * @return what is wrong, naming the field, or null when the body fits
   */
  public String check(JsonObject body, JsonObject schema) {
    JsonObject props = schema.getJsonObject("properties", new JsonObject());
    if (Boolean.FALSE.equals(schema.getValue("additionalProperties"))) {
      for (String f : body.fieldNames()) {
        if (!props.containsKey(f)) {
          return "unknown field '" + f + "'; the fields are " + new ArrayList<>(props.fieldNames());
        }
      }
    }
    for (Object r : schema.getJsonArray("required", new JsonArray())) {
      // A required field may be null where its schema allows null (e.g. "start over"); the type check says so.
      if (!body.containsKey((String) r)) {
        return "field '" + r + "' is required";
      }
    }
    for (Map.Entry<String, Object> e : body) {
      JsonObject p = props.getJsonObject(e.getKey());
      if (p != null) {
        String problem = checkValue(e.getKey(), e.getValue(), resolve(p));
        if (problem != null) {
          return problem;
        }
      }
    }
    return null;
  }

  private String checkValue(String name, Object v, JsonObject s) {
    List<String> types = types(s);
    String actual = jsonType(v);
    boolean ok = types.isEmpty() || types.contains(actual) || actual.equals("integer") && types.contains("number");
    if (!ok) {
      return "field '" + name + "' must be " + String.join(" or ", types) + ", got " + actual
          + (actual.equals("number") && types.contains("integer") ? " with a fraction" : "");
    }
    if (v instanceof Number n) {
      // Compare as decimals: a huge integer must not wrap into range.
      java.math.BigDecimal d = new java.math.BigDecimal(n.toString());
      if (s.containsKey("minimum") && d.compareTo(new java.math.BigDecimal(s.getValue("minimum").toString())) < 0) {
        return "field '" + name + "' must be at least " + s.getValue("minimum") + ", got " + n;
      }
      if (s.containsKey("maximum") && d.compareTo(new java.math.BigDecimal(s.getValue("maximum").toString())) > 0) {
        return "field '" + name + "' must be at most " + s.getValue("maximum") + ", got " + n;
      }
    }
    if (v instanceof JsonArray a) {
      if (s.containsKey("minItems") && a.size() < s.getInteger("minItems")) {
        return "field '" + name + "' needs at least " + s.getInteger("minItems") + " items";
      }
      if (s.containsKey("maxItems") && a.size() > s.getInteger("maxItems")) {
        return "field '" + name + "' takes at most " + s.getInteger("maxItems") + " items, got " + a.size();
      }
      JsonObject items = s.getJsonObject("items");
      if (items != null) {
        for (int i = 0; i < a.size(); i++) {
          String problem = checkValue(name + "[" + i + "]", a.getValue(i), resolve(items));
          if (problem != null) {
            return problem;
          }
        }
      }
    }
    return null;
  }

  private static List<String> types(JsonObject s) {
    Object t = s.getValue("type");
    if (t instanceof String one) {
      return List.of(one);
    }
    List<String> out = new ArrayList<>();
    if (t instanceof JsonArray many) {
      many.forEach(x -> out.add(String.valueOf(x)));
    }
    return out;
  }

  /** @return the JSON Schema type of a decoded value */
  static String jsonType(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      return "string";
    }
    if (v instanceof Boolean) {
      return "boolean";
    }
    if (v instanceof JsonObject) {
      return "object";
    }
    if (v instanceof JsonArray) {
      return "array";
    }
    if (v instanceof Integer || v instanceof Long || v instanceof java.math.BigInteger || v instanceof Short
        || v instanceof Byte) {
      return "integer";
    }
    if (v instanceof Number n) {
      double d = n.doubleValue();
      return d == Math.rint(d) && !Double.isInfinite(d) && !(v instanceof java.math.BigDecimal bd
          && bd.stripTrailingZeros().scale() > 0) ? "integer" : "number";
    }
    return "unknown";
  }
}
