package dev.tandem.runtime.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.Set;

/**
 * Keeps the HTTP metrics' label values bounded: any client may send any string as its method and any path, and
 * each distinct value would otherwise become new series. Methods outside the standard ones become {@code OTHER};
 * a request no route matched has the route {@code unmatched}.
 */
public final class HttpMetricLabels {

  /** The method label's value for a method that is not one of the standard ones. */
  public static final String OTHER_METHOD = "OTHER";
  /** The route label's value for a request no route matched. */
  public static final String UNMATCHED_ROUTE = "unmatched";

  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT");

  private HttpMetricLabels() {}

  /**
   * Installs the filters; call before any meter is registered.
   *
   * @param registry the registry
   */
  public static void bound(MeterRegistry registry) {
    registry.config()
        .meterFilter(MeterFilter.replaceTagValues("method", v -> METHODS.contains(v) ? v : OTHER_METHOD))
        .meterFilter(MeterFilter.replaceTagValues("route", v -> v == null || v.isEmpty() ? UNMATCHED_ROUTE : v));
  }
}
