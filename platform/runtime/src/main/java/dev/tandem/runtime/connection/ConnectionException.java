package dev.tandem.runtime.connection;

/** A refused connection change, with the HTTP status and code the admin API answers with. */
public final class ConnectionException extends RuntimeException {

  private static final long serialVersionUID = 1L;
  private final int status;
  private final String code;

  /**
   * @param status HTTP status
   * @param code short code
   * @param message what is wrong (never a secret)
   */
  public ConnectionException(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** @return HTTP status */
  public int status() {
    return status;
  }

  /** @return the code */
  public String code() {
    return code;
  }
}
