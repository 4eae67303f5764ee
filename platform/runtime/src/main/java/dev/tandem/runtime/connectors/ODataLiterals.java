package dev.tandem.runtime.connectors;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one place OData literals, keys and URL parts are built, for both connectors: string literals quoted with
 * quotes doubled, GUIDs checked and lower-cased, date-times in UTC, numbers and booleans as they are; key segments
 * and query options percent-encoded. A value from a record or an API caller goes through here before it reaches a
 * {@code $filter} or a URL, so it can neither break nor alter the query (a crafted id such as
 * {@code 1 or name ne null} is refused, not filtered by).
 */
public final class ODataLiterals {

  private static final Pattern GUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private ODataLiterals() {}

  /**
   * @param value any text
   * @return true when it is a GUID ({@code 8-4-4-4-12} hexadecimal digits, nothing else)
   */
  public static boolean isGuid(String value) {
    return value != null && GUID.matcher(value).matches();
  }

  /**
   * @param value a GUID
   * @return the GUID literal (unquoted, lower case), e.g. {@code 5d4e7c1a-…}
   * @throws IllegalArgumentException when the value is not a GUID
   */
  public static String guid(String value) {
    if (!isGuid(value)) {
      throw new IllegalArgumentException("'" + value + "' is not a GUID");
    }
    return value.toLowerCase(Locale.ROOT);
  }

  /**
   * @param value the text
   * @return the string literal, quoted with single quotes doubled, e.g. {@code 'O''Brien'}
   */
  public static String string(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /**
   * @param value a number or a boolean (as they are), or anything else (as a string literal)
   * @return the literal
   */
  public static String value(Object value) {
    if (value instanceof Number || value instanceof Boolean) {
      return String.valueOf(value);
    }
    return string(String.valueOf(value));
  }

  /**
   * @param at an instant
   * @return a {@code Edm.DateTimeOffset} literal in UTC with millisecond precision, e.g. {@code 2024-08-18T20:05:51.603Z}
   */
  public static String dateTime(Instant at) {
    return at.truncatedTo(ChronoUnit.MILLIS).toString();
  }

  /**
   * @param at a date-time
   * @return {@link #dateTime(Instant)} of it
   */
  public static String dateTime(OffsetDateTime at) {
    return dateTime(at.toInstant());
  }

  /**
   * @param field a field
   * @param values the values, each a string literal (or a GUID when {@code guids})
   * @param guids whether the field is an {@code Edm.Guid}
   * @return {@code (f eq 'a' or f eq 'b')}
   */
  public static String anyOf(String field, List<String> values, boolean guids) {
    List<String> terms = new ArrayList<>(values.size());
    for (String v : values) {
      terms.add(field + " eq " + (guids ? guid(v) : string(v)));
    }
    return "(" + String.join(" or ", terms) + ")";
  }

  /**
   * @param column an alternate key column
   * @param value its value
   * @return {@code isocurrencycode='EUR'} as a key segment: the literal percent-encoded
   */
  public static String alternateKey(String column, Object value) {
    return column + "=" + key(value(value));
  }

  /**
   * @param literal a literal for a key segment, e.g. {@code 'A/100'}
   * @return the literal percent-encoded for a path ({@code '} kept, {@code /}, {@code ?}, {@code #}, {@code %}
   *     and spaces encoded)
   */
  public static String key(String literal) {
    return URLEncoder.encode(literal, StandardCharsets.UTF_8).replace("+", "%20").replace("%27", "'")
        .replace("%28", "(").replace("%29", ")").replace("%2C", ",").replace("%3D", "=");
  }

  /**
   * @param text a query option's value, e.g. a {@code $filter}
   * @return the value percent-encoded for a query string
   */
  public static String query(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /**
   * Dataverse cannot address a row by an alternate key whose value contains {@code / < > * % & : \ ? +}: "retrieve
   * (GET), update, or upsert (PATCH) actions don't work" (Microsoft, "Define alternate keys to reference rows").
   *
   * @param value a key value
   * @return whether the value can be used in a key segment
   */
  public static boolean addressableByKey(Object value) {
    String s = String.valueOf(value);
    for (int i = 0; i < s.length(); i++) {
      if ("/<>*%&:\\?+".indexOf(s.charAt(i)) >= 0) {
        return false;
      }
    }
    return true;
  }
}
