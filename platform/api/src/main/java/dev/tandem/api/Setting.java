package dev.tandem.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One declared configuration key, like Kafka Connect's {@code ConfigDef.ConfigKey}: its name, type, default,
 * documentation and validation. The runtime declares every key of its configuration this way, and a plugin its own
 * settings ({@link EntityPlugin#settings()}); both are checked alike before anything uses them: an unknown key is
 * refused with the nearest declared name, a bad value with its key and the cause.
 *
 * <p>A name is a dotted path into the settings object: {@code availability.user} is {@code user} inside
 * {@code availability}.
 *
 * <pre>{@code
 * static final Setting CURRENCY = Setting.string("localCurrencyCode").defaultValue("USD")
 *     .check(v -> ((String) v).matches("[A-Z0-9]{1,10}") ? null : "is not a currency code (1 to 10 letters or digits)")
 *     .doc("the ERP's local currency code");
 * }</pre>
 *
 * @param name the dotted path of the key
 * @param type the type of its value
 * @param defaultValue the value when the key is absent, or null (none, or computed: see {@code defaultDoc})
 * @param defaultDoc how the documentation shows the default, or null for {@code defaultValue} as it is
 * @param doc what the key does
 * @param secret whether its value stays out of messages (a bad value is described, never echoed)
 * @param validValues how the documentation shows the valid values, or null for any value of the type
 * @param validator checks a value of the right type, or null
 */
public record Setting(String name, Type type, Object defaultValue, String defaultDoc, String doc, boolean secret,
    String validValues, Validator validator) {

  /** The type of a value. Values from the environment are text and are parsed; JSON values must have the type. */
  public enum Type {
    /** text */
    STRING("string"),
    /** a whole number in the int range */
    INT("int"),
    /** a whole number */
    LONG("long"),
    /** {@code true} or {@code false} */
    BOOLEAN("boolean"),
    /** a JSON array */
    LIST("list"),
    /** a JSON object, whose keys are not declared here */
    OBJECT("object");

    private final String label;

    Type(String label) {
      this.label = label;
    }

    /** @return how the documentation names it */
    public String label() {
      return label;
    }
  }

  /** Checks a value that has the setting's type. */
  @FunctionalInterface
  public interface Validator {
    /**
     * @param value the value (String, Integer, Long, Boolean, JsonArray or JsonObject, after the type)
     * @return null when valid, else the cause, phrased to follow the key and value: "is out of range [1, 200]"
     */
    String problem(Object value);
  }

  /** A key's value is invalid: the message names the key and the cause. */
  public static final class InvalidSettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** @param message names the key and the cause */
    public InvalidSettingException(String message) {
      super(message);
    }
  }

  /** Checks the components. */
  public Setting {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a setting needs a name");
    }
    doc = doc == null ? "" : doc;
  }

  /** @param name dotted path @return a text setting */
  public static Setting string(String name) {
    return new Setting(name, Type.STRING, null, null, "", false, null, null);
  }

  /** @param name dotted path @return an int setting */
  public static Setting integer(String name) {
    return new Setting(name, Type.INT, null, null, "", false, null, null);
  }

  /** @param name dotted path @return a long setting */
  public static Setting longValue(String name) {
    return new Setting(name, Type.LONG, null, null, "", false, null, null);
  }

  /** @param name dotted path @return a boolean setting */
  public static Setting bool(String name) {
    return new Setting(name, Type.BOOLEAN, null, null, "", false, null, null);
  }

  /** @param name dotted path @param type its type @return a setting of that type */
  public static Setting of(String name, Type type) {
    return new Setting(name, type, null, null, "", false, null, null);
  }

  /** @param value the default @return a copy with it */
  public Setting defaultValue(Object value) {
    return new Setting(name, type, value, defaultDoc, doc, secret, validValues, validator);
  }

  /** @param text how the documentation shows a computed default @return a copy with it */
  public Setting defaultDoc(String text) {
    return new Setting(name, type, defaultValue, text, doc, secret, validValues, validator);
  }

  /** @param text what the key does @return a copy with it */
  public Setting doc(String text) {
    return new Setting(name, type, defaultValue, defaultDoc, text, secret, validValues, validator);
  }

  /** @return a copy whose values stay out of messages */
  public Setting asSecret() {
    return new Setting(name, type, defaultValue, defaultDoc, doc, true, validValues, validator);
  }

  /**
   * @param shown how the documentation shows the valid values
   * @param check the check
   * @return a copy with this check (instead of any other)
   */
  public Setting check(String shown, Validator check) {
    return new Setting(name, type, defaultValue, defaultDoc, doc, secret, shown, check);
  }

  /** @param check the check @return a copy with it, the documentation showing no valid values */
  public Setting check(Validator check) {
    return check(null, check);
  }

  /** @param min least @param max greatest @return a copy that refuses numbers outside [min, max] */
  public Setting range(long min, long max) {
    String shown = max == Long.MAX_VALUE ? "≥ " + min : min + " … " + max;
    return check(shown, v -> {
      long n = ((Number) v).longValue();
      return n < min || n > max ? "is out of range [" + min + ", " + (max == Long.MAX_VALUE ? "∞" : max) + "]" : null;
    });
  }

  /** @param min least @return a copy that refuses numbers below min */
  public Setting atLeast(long min) {
    return range(min, Long.MAX_VALUE);
  }

  /** @param values the valid texts (compared ignoring case) @return a copy that refuses any other */
  public Setting oneOf(String... values) {
    List<String> valid = List.of(values);
    return check(String.join(", ", valid), v -> valid.stream().anyMatch(x -> x.equalsIgnoreCase(v.toString().trim()))
        ? null : "is not one of " + String.join(", ", valid));
  }

  /** @param min least length @return a copy that refuses shorter texts */
  public Setting minLength(int min) {
    return check("≥ " + min + " characters", v -> v.toString().length() < min
        ? "is too short (" + v.toString().length() + " characters): use at least " + min : null);
  }

  /**
   * Converts and checks a value.
   *
   * @param raw the value: text from the environment, or a JSON value
   * @param where how messages name the key ("TANDEM_HTTP_PORT", "jobs.maxAttempts in tandem.json")
   * @return the value as its type: String, Integer, Long, Boolean, JsonArray or JsonObject
   * @throws InvalidSettingException naming the key and the cause (never the value of a secret)
   */
  public Object parse(Object raw, String where) {
    Object value = convert(raw, where);
    String problem = validator == null ? null : validator.problem(value);
    if (problem != null) {
      throw new InvalidSettingException(where + (secret ? "" : " = " + shown(value)) + " " + problem);
    }
    return value;
  }

  private Object convert(Object raw, String where) {
    switch (type) {
      case STRING -> {
        if (raw instanceof String s) {
          return s;
        }
        throw wrongType(raw, where, "a string");
      }
      case INT, LONG -> {
        long n;
        if (raw instanceof Integer || raw instanceof Long || raw instanceof Short || raw instanceof Byte) {
          n = ((Number) raw).longValue();
        } else if (raw instanceof Number num) {
          double d = num.doubleValue();
          if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) > Long.MAX_VALUE) {
            throw new InvalidSettingException(where + (secret ? "" : " = " + raw) + " is not a whole number");
          }
          n = (long) d;
        } else if (raw instanceof String s) {
          try {
            n = Long.parseLong(s.trim());
          } catch (NumberFormatException e) {
            throw new InvalidSettingException(where + (secret ? "" : " = '" + s + "'") + " is not a whole number");
          }
        } else {
          throw wrongType(raw, where, "a whole number");
        }
        if (type == Type.INT) {
          if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new InvalidSettingException(where + (secret ? "" : " = " + n) + " is out of the int range");
          }
          return (int) n;
        }
        return n;
      }
      case BOOLEAN -> {
        if (raw instanceof Boolean b) {
          return b;
        }
        if (raw instanceof String s && (s.trim().equalsIgnoreCase("true") || s.trim().equalsIgnoreCase("false"))) {
          return Boolean.parseBoolean(s.trim());
        }
        throw wrongType(raw, where, "true or false");
      }
      case LIST -> {
        if (raw instanceof JsonArray) {
          return raw;
        }
        throw wrongType(raw, where, "a list");
      }
      case OBJECT -> {
        if (raw instanceof JsonObject) {
          return raw;
        }
        throw wrongType(raw, where, "an object");
      }
      default -> throw new IllegalStateException(type.toString());
    }
  }

  private InvalidSettingException wrongType(Object raw, String where, String expected) {
    // A mistyped secret must not end up in a log: say what is wrong, not what was given.
    return new InvalidSettingException(where + " must be " + expected + ", got "
        + (secret ? "a " + kind(raw) : shown(raw)));
  }

  private static String kind(Object v) {
    return v instanceof Number ? "number" : v instanceof Boolean ? "boolean" : v instanceof String ? "string"
        : v instanceof JsonArray ? "list" : v instanceof JsonObject ? "object" : "JSON value";
  }

  private static String shown(Object v) {
    return v instanceof String s ? "'" + s + "'" : String.valueOf(v);
  }

  /**
   * The value of this key in a settings object, checked, or its default when absent. Plugins read their settings
   * with it (the runtime checked them before {@link EntityPlugin#configure} already).
   *
   * @param settings the settings object
   * @return the value as its type, or {@link #defaultValue()} when absent
   * @throws InvalidSettingException naming the key and the cause
   */
  public Object read(JsonObject settings) {
    Object raw = lookup(settings, name);
    return raw == null ? defaultValue : parse(raw, name);
  }

  /**
   * @param settings a settings object
   * @param path a dotted path
   * @return the value at the path, or null when absent (or a step on the way is no object)
   */
  public static Object lookup(JsonObject settings, String path) {
    Object cur = settings;
    for (String part : path.split("\\.")) {
      if (!(cur instanceof JsonObject o)) {
        return null;
      }
      cur = o.getValue(part);
    }
    return cur;
  }

  /**
   * Checks a settings object against declared keys: every key must be declared (objects between are sections of
   * dotted names) and every value valid.
   *
   * @param declared the declared keys
   * @param settings the settings object
   * @param prefix how messages name the object's keys, e.g. {@code plugins.prices} (empty: as they are)
   * @param source where the settings come from, e.g. the configuration file's name (null: not said)
   * @return every problem, each naming its key; empty when all is well
   */
  public static List<String> problems(Collection<Setting> declared, JsonObject settings, String prefix,
      String source) {
    List<String> out = unknownKeys(declared, settings, prefix, source);
    for (Setting s : declared) {
      Object raw = lookup(settings, s.name());
      if (raw != null) {
        try {
          s.parse(raw, qualified(prefix, s.name()) + (source == null ? "" : " in " + source));
        } catch (InvalidSettingException e) {
          out.add(e.getMessage());
        }
      }
    }
    return out;
  }

  /**
   * The keys of a settings object that are not declared (objects between are sections of dotted names), each
   * named with the nearest declared key; values are not checked.
   *
   * @param declared the declared keys
   * @param settings the settings object
   * @param prefix how messages name the object's keys (empty: as they are)
   * @param source where the settings come from (null: not said)
   * @return a problem per unknown key
   */
  public static List<String> unknownKeys(Collection<Setting> declared, JsonObject settings, String prefix,
      String source) {
    List<String> out = new ArrayList<>();
    walk(declared.stream().map(Setting::name).toList(), settings, "", prefix, source, out);
    return out;
  }

  private static void walk(List<String> names, JsonObject obj, String path, String prefix, String source,
      List<String> out) {
    // Candidates for a typo: every key and every section ("schedule" is most likely "schedules").
    java.util.Set<String> candidates = new java.util.LinkedHashSet<>(names);
    for (String n : names) {
      for (int dot = n.indexOf('.'); dot > 0; dot = n.indexOf('.', dot + 1)) {
        candidates.add(n.substring(0, dot));
      }
    }
    for (String key : obj.fieldNames()) {
      String p = path.isEmpty() ? key : path + "." + key;
      if (names.contains(p)) {
        continue;
      }
      boolean section = names.stream().anyMatch(n -> n.startsWith(p + "."));
      if (section) {
        if (obj.getValue(key) instanceof JsonObject inner) {
          walk(names, inner, p, prefix, source, out);
        } else {
          out.add(qualified(prefix, p) + (source == null ? "" : " in " + source) + " must be an object (its keys: "
              + String.join(", ", names.stream().filter(n -> n.startsWith(p + ".")).toList()) + ")");
        }
        continue;
      }
      String nearest = nearest(p, candidates);
      java.util.Set<String> here = new java.util.LinkedHashSet<>();
      for (String n : names) {
        if (path.isEmpty() || n.startsWith(path + ".")) {
          String rest = path.isEmpty() ? n : n.substring(path.length() + 1);
          int dot = rest.indexOf('.');
          here.add("'" + qualified(prefix, (path.isEmpty() ? "" : path + ".") + (dot < 0 ? rest : rest.substring(0, dot)))
              + "'");
        }
      }
      out.add("unknown key '" + qualified(prefix, p) + "'" + (source == null ? "" : " in " + source)
          + (nearest != null ? ": did you mean '" + qualified(prefix, nearest) + "'?"
              : here.isEmpty() ? ": no key is declared here" : ": the keys here are " + String.join(", ", here)));
    }
  }

  private static String qualified(String prefix, String name) {
    return prefix == null || prefix.isEmpty() ? name : prefix + "." + name;
  }

  /**
   * The declared name nearest to a mistyped one: the fewest edits (Levenshtein, ignoring case), or the same last
   * segment in another section; null when none is close enough to be a typo.
   *
   * @param unknown the unknown name
   * @param names the declared names
   * @return the nearest, or null
   */
  public static String nearest(String unknown, Collection<String> names) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String u = unknown.toLowerCase(Locale.ROOT);
    for (String n : names) {
      int d = distance(u, n.toLowerCase(Locale.ROOT));
      // A typo: at most a third of the longer name differs (two edits for short names).
      if (d < bestDistance && d <= Math.max(2, Math.max(unknown.length(), n.length()) / 3)) {
        best = n;
        bestDistance = d;
      }
    }
    if (best != null) {
      return best;
    }
    String last = u.substring(u.lastIndexOf('.') + 1);
    for (String n : names) {
      String nl = n.toLowerCase(Locale.ROOT);
      if (nl.substring(nl.lastIndexOf('.') + 1).equals(last)) {
        return n;
      }
    }
    return null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** @return how the documentation shows the default: {@code defaultDoc}, else the default value, else "—" */
  public String defaultText() {
    if (defaultDoc != null) {
      return defaultDoc;
    }
    if (defaultValue == null) {
      return "—";
    }
    return defaultValue instanceof String s ? "`" + s + "`" : defaultValue.toString();
  }

  /**
   * A Markdown table of declared keys (key, type, default, valid values, meaning), for a reference page.
   *
   * @param declared the keys
   * @param prefix put before each name, e.g. {@code plugins.prices} (empty: none)
   * @return the table, each row ending in a newline
   */
  public static String markdown(Collection<Setting> declared, String prefix) {
    StringBuilder b = new StringBuilder("| key | type | default | valid values | meaning |\n|---|---|---|---|---|\n");
    for (Setting s : declared) {
      b.append("| `").append(qualified(prefix, s.name())).append("` | ").append(s.type().label())
          .append(s.secret() ? " (secret)" : "").append(" | ").append(s.defaultText()).append(" | ")
          .append(s.validValues() == null ? "" : s.validValues()).append(" | ").append(s.doc()).append(" |\n");
    }
    return b.toString();
  }
}
