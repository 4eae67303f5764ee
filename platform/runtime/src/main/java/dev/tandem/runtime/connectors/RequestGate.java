package dev.tandem.runtime.connectors;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import java.util.function.Supplier;

/**
 * Decides when a request to an endpoint may start, and learns from how the endpoint answered: an
 * {@link AdaptiveLimiter} (one client's concurrency) or an {@link EndpointBudget} (a node's whole budget for one
 * endpoint and user).
 */
public interface RequestGate {

  /**
   * Runs {@code call} when the gate lets it start.
   *
   * @param call the request
   * @param <T> result type
   * @return the call's result
   */
  <T> Future<T> run(Supplier<Future<T>> call);

  /** Records a success. */
  void succeeded();

  /**
   * Records throttling.
   *
   * @param retryAfterMs how long the endpoint asked us to wait
   */
  void throttled(long retryAfterMs);

  /**
   * Reads what the endpoint says about the budget left (e.g. Dataverse's
   * {@code x-ms-ratelimit-*-remaining-xrm-requests}); ignored by default.
   *
   * @param headers the answer's headers
   */
  default void observe(MultiMap headers) {}
}
