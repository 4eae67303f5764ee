package dev.tandem.runtime.connectors;

import io.micrometer.core.instrument.MeterRegistry;

/** What the connectors count: requests by endpoint and status, and throttling. */
public interface EndpointMetrics {

  /** Counts nothing. */
  EndpointMetrics NONE = new EndpointMetrics() {
    @Override
    public void request(String endpoint, String status) {}

    @Override
    public void throttled(String endpoint) {}
  };

  /**
   * @param endpoint ERP or CRM
   * @param status HTTP status, or {@code io_error}
   */
  void request(String endpoint, String status);

  /** @param endpoint the endpoint that answered 429 */
  void throttled(String endpoint);

  /**
   * @param registry Micrometer registry
   * @return {@code tandem_endpoint_requests_total{endpoint,status}} and {@code tandem_endpoint_throttled_total}
   */
  static EndpointMetrics micrometer(MeterRegistry registry) {
    // Registered at zero: a dashboard shows "no throttling" instead of "no data" until the first 429.
    for (String endpoint : new String[] {"ERP", "CRM"}) {
      registry.counter("tandem.endpoint.throttled", "endpoint", endpoint);
    }
    return new EndpointMetrics() {
      @Override
      public void request(String endpoint, String status) {
        registry.counter("tandem.endpoint.requests", "endpoint", endpoint, "status", status).increment();
      }

      @Override
      public void throttled(String endpoint) {
        registry.counter("tandem.endpoint.throttled", "endpoint", endpoint).increment();
      }
    };
  }
}
