package dev.tandem.runtime.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** An admin API failure with its HTTP status and machine-readable code; rendered as {@code {"error":{...}}}. */
public final class ApiError extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  /**
   * @param status HTTP status
   * @param code short code, e.g. {@code not_found}
   * @param message what went wrong, for people
   */
  public ApiError(int status, String code, String message) {
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

  /**
   * Writes an error response.
   *
   * @param ctx the request
   * @param status HTTP status
   * @param code error code
   * @param message message
   */
  public static void send(RoutingContext ctx, int status, String code, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode());
  }
}
