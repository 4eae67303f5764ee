package dev.tandem.api;

import java.util.Objects;

/**
 * A mapping that must be coupled and synchronized before this one, by name, possibly from another plugin.
 * An optional dependency (CUSTOMER on CURRENCY) lets the mapping run without it: the field mappings that look
 * up through it are disabled, and the admin API says why.
 *
 * @param mapping the name of the mapping depended on
 * @param optional whether the mapping runs when no installed plugin provides it
 */
public record MappingDependency(String mapping, boolean optional) {

  /** Validates. */
  public MappingDependency {
    Objects.requireNonNull(mapping, "mapping");
  }

  /**
   * @param mapping name
   * @return a required dependency
   */
  public static MappingDependency on(String mapping) {
    return new MappingDependency(mapping, false);
  }

  /**
   * @param mapping name
   * @return an optional dependency
   */
  public static MappingDependency optional(String mapping) {
    return new MappingDependency(mapping, true);
  }
}
