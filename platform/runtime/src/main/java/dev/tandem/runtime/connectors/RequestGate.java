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

  /**
   * Runs {@code call} when the gate lets it start, saying what it is likely to cost: {@code units} of
   * {@code kind} (a {@code $batch} of 100 operations is 100 units of "operations"). A gate that charges execution
   * time learns each kind's cost per unit, so a large batch and a small read are not taken to cost alike.
   *
   * @param kind what a unit is, e.g. "operations" or "request"
   * @param units how many
   * @param call the request
   * @param <T> result type
   * @return the call's result
   */
  default <T> Future<T> run(String kind, double units, Supplier<Future<T>> call) {
    return run(call);
  }

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
