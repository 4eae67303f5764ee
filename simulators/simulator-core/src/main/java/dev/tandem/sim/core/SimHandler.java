package dev.tandem.sim.core;

/** Answers one request of a simulator's protocol. Called on a server thread; implementations are thread-safe. */
@FunctionalInterface
public interface SimHandler {

  /**
   * @param request the request
   * @return the answer
   */
  SimResponse handle(SimRequest request);
}
