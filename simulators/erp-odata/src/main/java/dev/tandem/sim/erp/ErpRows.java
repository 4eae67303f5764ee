package dev.tandem.sim.erp;

import static dev.tandem.sim.erp.ErpSimulator.error;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.erp.ErpServices.Field;
import dev.tandem.sim.erp.ErpServices.Service;
import dev.tandem.sim.erp.ErpSimulator.ErpError;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A row's fields as Business Central's web services take and show them: defaults of a new row, the body's fields
 * checked (known names, types, lengths, option values, upper-case codes, read-only controls) and applied, and the
 * row as clients see it.
 */
final class ErpRows {

  private ErpRows() {}

  /** @return the value a new row has in a field the body leaves out, as BC initialises it */
  static Object defaultValue(Field f) {
    return switch (f.type()) {
      case CODE, TEXT, GUID -> "";
      case DECIMAL, INTEGER -> 0;
      case BOOLEAN -> false;
      case OPTION -> f.options().get(0);
      case DATE -> "0001-01-01";
      case DATETIME -> null;
    };
  }

  /** @return the request's JSON body; a 400 when it is not JSON */
  static Map<String, Object> parseBody(SimRequest r) {
    try {
      return Json.object(r.bodyText());
    } catch (IllegalArgumentException e) {
      throw new ErpError(error(400, "BadRequest_InvalidRequestBody", "The request body is not valid JSON: "
          + e.getMessage()));
    }
  }

  /**
   * Validates and applies body fields: known names, types, lengths, upper-case codes; from a client
   * ({@code protocol}), read-only controls are refused.
   */
  static void applyFields(Service s, Map<String, Object> row, Map<String, Object> body, boolean insert, boolean protocol) {
    for (Map.Entry<String, Object> e : body.entrySet()) {
      String name = e.getKey();
      if (name.startsWith("@odata.")) {
        continue;
      }
      Field f = s.fields().get(name);
      if (f == null) {
        throw new ErpError(error(400, "BadRequest", "The property '" + name + "' does not exist on type "
            + "'NAV." + s.name() + "'. Make sure to only use property names that are defined by the type."));
      }
      if (f.name().equals("SystemModifiedAt") || (f.name().equals("SystemId") && !insert)) {
        continue;
      }
      if (protocol && f.readOnly()) {
        throw new ErpError(error(400, "BadRequest_InvalidOperation", "Control '" + f.name() + "' is read-only."));
      }
      row.put(name, coerce(s, f, e.getValue()));
    }
  }

  private static Object coerce(Service s, Field f, Object v) {
    try {
      return switch (f.type()) {
        case CODE -> checkLength(f, v == null ? "" : String.valueOf(v).toUpperCase(Locale.ROOT));
        case TEXT -> checkLength(f, v == null ? "" : String.valueOf(v));
        case DECIMAL -> v instanceof Number n ? n : new BigDecimal(String.valueOf(v));
        case INTEGER -> v instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(v));
        case BOOLEAN -> v instanceof Boolean b ? b : Boolean.parseBoolean(String.valueOf(v));
        case OPTION -> {
          String o = String.valueOf(v);
          if (!f.options().contains(o)) {
            throw new ErpError(error(400, "BadRequest", "Cannot convert the literal '" + o + "' to the expected "
                + "type of " + f.name() + ": allowed are " + f.options()));
          }
          yield o;
        }
        case DATE -> LocalDate.parse(String.valueOf(v)).toString();
        case GUID -> UUID.fromString(String.valueOf(v)).toString();
        case DATETIME -> Instant.parse(String.valueOf(v)).toString();
      };
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new ErpError(error(400, "BadRequest", "Cannot convert the value '" + v + "' of " + s.name() + "."
          + f.name() + " to " + f.type()));
    }
  }

  private static Object checkLength(Field f, String value) {
    if (value.length() > f.length()) {
      throw new ErpError(error(400, "Application_StringExceededLength", "The length of the string is "
          + value.length() + ", but it must be less than or equal to " + f.length() + " characters. Value: " + value));
    }
    return value;
  }

  /** @return a stored number as a decimal, 0 for none */
  static BigDecimal decimal(Object v) {
    return v == null ? BigDecimal.ZERO : v instanceof BigDecimal b ? b : new BigDecimal(String.valueOf(v));
  }

  /** @return the row's key fields as BC names them in an error */
  static String describeKey(Service s, Map<String, Object> row) {
    List<String> parts = new ArrayList<>();
    for (String k : s.keys()) {
      parts.add(k + "='" + row.get(k) + "'");
    }
    return String.join(",", parts);
  }

  /** @return the row as clients see it: without internal fields */
  static Map<String, Object> present(Map<String, Object> row) {
    Map<String, Object> out = new LinkedHashMap<>(row.size());
    out.put("@odata.etag", row.get("@odata.etag"));
    for (Map.Entry<String, Object> e : row.entrySet()) {
      if (!e.getKey().startsWith("$") && !e.getKey().equals("@odata.etag")) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }
}
