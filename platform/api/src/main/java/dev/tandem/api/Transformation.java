package dev.tandem.api;

import java.util.Locale;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A transformation rule applied to a field value on its way from source to destination, like the reference
 * system's transformation rules (trim, upper case, a substring). Named, so the API can show it.
 *
 * @param name a short name shown in the admin API, e.g. {@code trim}
 * @param function the function; receives {@code null} for an empty source value
 */
public record Transformation(String name, UnaryOperator<Object> function) {

  /** Trims text; leaves other values alone. */
  public static final Transformation TRIM =
      new Transformation("trim", v -> v instanceof String s ? s.trim() : v);
  /** Upper-cases text (ERP code fields). */
  public static final Transformation UPPER_CASE =
      new Transformation("upperCase", v -> v instanceof String s ? s.toUpperCase(Locale.ROOT) : v);
  /** Lower-cases text. */
  public static final Transformation LOWER_CASE =
      new Transformation("lowerCase", v -> v instanceof String s ? s.toLowerCase(Locale.ROOT) : v);

  /**
   * @param name shown in the admin API
   * @param function the function
   */
  public Transformation {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(function, "function");
  }

  /**
   * Cuts text to at most {@code max} characters, as the destination field allows. Both endpoints count a field's
   * length in UTF-16 units, so that is the limit; the cut falls on a code point boundary, so a character outside
   * the Basic Multilingual Plane (an emoji) is kept whole or left out, never halved into a lone surrogate.
   *
   * @param max the maximum length
   * @return the transformation
   */
  public static Transformation truncate(int max) {
    return new Transformation("truncate(" + max + ")", v -> v instanceof String s && s.length() > max
        ? s.substring(0, max > 0 && Character.isHighSurrogate(s.charAt(max - 1)) ? max - 1 : max) : v);
  }

  /**
   * @param value the source value
   * @return the transformed value
   */
  public Object apply(Object value) {
    return function.apply(value);
  }
}
