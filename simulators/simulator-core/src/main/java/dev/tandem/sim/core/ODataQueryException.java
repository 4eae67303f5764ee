package dev.tandem.sim.core;

/** A query option the simulator cannot accept; each protocol turns it into its own 400 body. */
public final class ODataQueryException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message what is wrong, naming the option and the text */
  public ODataQueryException(String message) {
    super(message);
  }
}
