package dev.tandem.api;

import java.time.Duration;

/**
 * Metrics a plugin may record. The runtime prefixes names with {@code tandem_plugin_} and tags them with the
 * plugin id, so plugins cannot collide with the runtime's own metrics.
 */
public interface PluginMetrics {

  /**
   * Adds to a counter.
   *
   * @param name metric name, lower case with dots or underscores, e.g. {@code orders.created}
   * @param amount how much to add, not negative
   * @param tags alternating tag keys and values
   */
  void count(String name, double amount, String... tags);

  /**
   * Records a duration.
   *
   * @param name metric name
   * @param duration the duration
   * @param tags alternating tag keys and values
   */
  void time(String name, Duration duration, String... tags);
}
