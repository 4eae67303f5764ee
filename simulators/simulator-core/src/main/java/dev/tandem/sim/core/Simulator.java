package dev.tandem.sim.core;

/** A simulator: a {@link SimulatorServer} with a protocol and a store. */
public interface Simulator {

  /** Starts it. */
  void start();

  /** Stops it. */
  void stop();

  /** @return the server */
  SimulatorServer server();

  /** @return {@code http://localhost:<port>} */
  default String baseUrl() {
    return server().baseUrl();
  }
}
