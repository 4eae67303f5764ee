package dev.tandem.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The key of an ERP record: one field ({@code Customer('10000')}) or several, in the page's key order
 * ({@code SalesOrderLine(Document_Type='Order',Document_No='1001',Line_No=10000)}). Text values are OData string
 * literals with quotes doubled; whole numbers ({@link Long}, {@link Integer}) are written bare.
 *
 * <p>{@link #toString()} is the canonical form couplings store as the ERP id: the bare value for a one-field text
 * key (as couplings of single-key mappings always stored it, {@code 10000}) and the key segment
 * ({@code Document_Type='Order',No='1001'}) for a composite key. {@link #parse(List, String)} reads both back.
 */
public final class ErpKey {

  private final Map<String, Object> values;

  private ErpKey(Map<String, Object> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("an ERP key needs at least one field");
    }
    for (Map.Entry<String, Object> e : values.entrySet()) {
      Object v = e.getValue();
      if (v == null || !(v instanceof String || v instanceof Long || v instanceof Integer)) {
        throw new IllegalArgumentException("ERP key field " + e.getKey() + " must be text or a whole number, not "
            + (v == null ? "null" : v.getClass().getSimpleName()));
      }
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    values.forEach((k, v) -> copy.put(k, v instanceof Integer i ? (Object) i.longValue() : v));
    this.values = Collections.unmodifiableMap(copy);
  }

  /**
   * @param field the key field, e.g. {@code No}
   * @param value its text value
   * @return a one-field key
   */
  public static ErpKey of(String field, String value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(Objects.requireNonNull(field, "field"), value);
    return new ErpKey(m);
  }

  /**
   * @param values key field to value (text, {@link Long} or {@link Integer}), in the page's key order
   * @return the key
   */
  public static ErpKey of(Map<String, ?> values) {
    return new ErpKey(new LinkedHashMap<>(values));
  }

  /**
   * Takes the key fields out of a row as the ERP returned it.
   *
   * @param fields the key fields, in order
   * @param row the row
   * @return the key
   * @throws IllegalArgumentException when the row lacks one of the fields
   */
  public static ErpKey from(List<String> fields, io.vertx.core.json.JsonObject row) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String f : fields) {
      Object v = row.getValue(f);
      if (v == null) {
        throw new IllegalArgumentException("the row has no key field " + f);
      }
      m.put(f, v instanceof Number n && !(v instanceof Long) ? (Object) n.longValue() : v);
    }
    return new ErpKey(m);
  }

  /** @return the key's fields and values, in order */
  public Map<String, Object> values() {
    return values;
  }

  /** @return the key's field names, in order */
  public List<String> fields() {
    return List.copyOf(values.keySet());
  }

  /**
   * @param field a key field
   * @return its value, or null when the key has no such field
   */
  public Object get(String field) {
    return values.get(field);
  }

  /** @return whether the key has more than one field */
  public boolean composite() {
    return values.size() > 1;
  }

  /**
   * The key as it goes between the parentheses of an entity URL, before percent-encoding: {@code '10000'} for one
   * field, {@code Document_Type='Order',No='O''1'} for several.
   *
   * @return the segment
   */
  public String segment() {
    if (!composite()) {
      return literal(values.values().iterator().next());
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      sb.append(sb.length() == 0 ? "" : ",").append(e.getKey()).append('=').append(literal(e.getValue()));
    }
    return sb.toString();
  }

  /**
   * An OData filter that selects the record with this key: {@code Document_Type eq 'Order' and No eq '1001'}.
   *
   * @return the filter
   */
  public String filter() {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      sb.append(sb.length() == 0 ? "" : " and ").append(e.getKey()).append(" eq ").append(literal(e.getValue()));
    }
    return sb.toString();
  }

  /**
   * OData filters that together select the records with these keys, as few as Business Central allows: it refuses
   * {@code or} between terms on different fields, so the keys are grouped by every field but the last and each
   * group is one filter, {@code Document_Type eq 'Order' and (No eq '1001' or No eq '1002')}. A page of sales
   * headers or of their lines (all of one document type) is one filter.
   *
   * @param keys keys of the same fields, in the same order
   * @return one filter per group, in the keys' order; empty for no keys
   * @throws IllegalArgumentException when the keys' fields differ
   */
  public static List<String> filters(java.util.Collection<ErpKey> keys) {
    Map<String, java.util.Set<String>> groups = new LinkedHashMap<>();
    List<String> fields = null;
    for (ErpKey k : keys) {
      if (fields == null) {
        fields = k.fields();
      } else if (!fields.equals(k.fields())) {
        throw new IllegalArgumentException("keys of fields " + fields + " and " + k.fields() + " in one filter");
      }
      StringBuilder fixed = new StringBuilder();
      Map.Entry<String, Object> last = null;
      for (Map.Entry<String, Object> e : k.values.entrySet()) {
        if (last != null) {
          fixed.append(fixed.length() == 0 ? "" : " and ").append(last.getKey()).append(" eq ")
              .append(literal(last.getValue()));
        }
        last = e;
      }
      groups.computeIfAbsent(fixed.toString(), x -> new java.util.LinkedHashSet<>())
          .add(last.getKey() + " eq " + literal(last.getValue()));
    }
    List<String> out = new java.util.ArrayList<>();
    groups.forEach((fixed, terms) -> {
      String any = terms.size() == 1 ? terms.iterator().next() : "(" + String.join(" or ", terms) + ")";
      out.add(fixed.isEmpty() ? any : fixed + " and " + any);
    });
    return out;
  }

  /**
   * Reads a key back from its canonical form ({@link #toString()}).
   *
   * @param fields the mapping's key fields, in order
   * @param text a bare value (one field) or a key segment
   * @return the key
   * @throws IllegalArgumentException when the text does not name exactly those fields or is not well quoted
   */
  public static ErpKey parse(List<String> fields, String text) {
    Objects.requireNonNull(text, "text");
    if (fields.size() == 1 && !text.startsWith(fields.get(0) + "=")) {
      return of(fields.get(0), text);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    for (String part : split(text)) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("'" + text + "' is not an ERP key segment (field=value,...)");
      }
      String field = part.substring(0, eq);
      String v = part.substring(eq + 1);
      if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) {
        m.put(field, v.substring(1, v.length() - 1).replace("''", "'"));
      } else {
        try {
          m.put(field, Long.parseLong(v));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("key field " + field + " of '" + text + "' is neither quoted nor a number");
        }
      }
    }
    if (!new ArrayList<>(m.keySet()).equals(fields)) {
      throw new IllegalArgumentException("'" + text + "' does not hold the key fields " + fields);
    }
    return new ErpKey(m);
  }

  private static List<String> split(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\'') {
        quoted = !quoted; // a doubled quote toggles twice
      }
      if (c == ',' && !quoted) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("'" + text + "' has an unterminated quote");
    }
    out.add(cur.toString());
    return out;
  }

  private static String literal(Object v) {
    return v instanceof String s ? ErpConnector.literal(s) : String.valueOf(v);
  }

  /** @return the canonical form: the bare value of a one-field text key, else the key segment */
  @Override
  public String toString() {
    if (!composite() && values.values().iterator().next() instanceof String s) {
      return s;
    }
    return segment();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ErpKey k && k.values.equals(values) && List.copyOf(k.values.keySet())
        .equals(List.copyOf(values.keySet()));
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }
}
