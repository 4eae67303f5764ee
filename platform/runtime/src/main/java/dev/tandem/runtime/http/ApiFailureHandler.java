package dev.tandem.runtime.http;

import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.store.PgErrors;
import io.vertx.ext.web.RoutingContext;
import java.lang.System.Logger.Level;
import java.util.Map;

/**
 * The one reading of a failed admin API request ({@code ctx.fail(e)} or an exception in a handler), so every API
 * answers the same failure the same way: an {@link ApiError} as it is; a {@link BusError} with the status its
 * consumer's failure means; a value PostgreSQL refused as 400 or 409 naming the field; PostgreSQL out of reach or out
 * of connections as 503 with {@code Retry-After} (the same request may succeed in a moment, so clients and load
 * balancers should retry rather than report a bug); anything else as 500, logged.
 */
final class ApiFailureHandler {

  private static final System.Logger LOG = System.getLogger(ApiFailureHandler.class.getName());

  /** Seconds a client should wait before retrying a request PostgreSQL could not serve. */
  static final int UNAVAILABLE_RETRY_AFTER_S = 1;

  /** Columns whose request field is not their camel-case name. */
  private static final Map<String, String> FIELDS = Map.of("schedule_ms", "scheduleSeconds",
      "skip_after_repeats", "skipAfterRepeats", "conflict_policy", "conflictPolicy");

  private ApiFailureHandler() {}

  /**
   * Answers a failed request.
   *
   * @param ctx the request, with its failure
   */
  static void handle(RoutingContext ctx) {
    Throwable f = ctx.failure();
    if (f instanceof ApiError e) {
      ApiError.send(ctx, e.status(), e.code(), e.getMessage());
      return;
    }
    if (f instanceof BusError be) {
      int status = be.httpStatus();
      if (status == 503) {
        long seconds = be.retryAfter() == null ? UNAVAILABLE_RETRY_AFTER_S
            : Math.max(1, (be.retryAfter().toMillis() + 999) / 1000);
        ctx.response().putHeader("Retry-After", String.valueOf(seconds));
      } else if (status == 500) {
        LOG.log(Level.ERROR, "admin API request " + ctx.request().path() + " failed at " + be.address(), be);
      }
      ApiError.send(ctx, status, be.apiCode(), be.getMessage());
      return;
    }
    if (PgErrors.rejectedData(f)) {
      // PostgreSQL answered and refused the value: the request is at fault, not the database.
      rejected(ctx, f);
      return;
    }
    if (PgErrors.unavailable(f)) {
      LOG.log(Level.WARNING, "admin API request " + ctx.request().path() + ": PostgreSQL is unavailable: "
          + f.getMessage());
      ctx.response().putHeader("Retry-After", String.valueOf(UNAVAILABLE_RETRY_AFTER_S));
      ApiError.send(ctx, 503, "unavailable", "PostgreSQL is unavailable: " + f.getMessage());
      return;
    }
    LOG.log(Level.ERROR, "admin API request " + ctx.request().path() + " failed", f);
    ApiError.send(ctx, 500, "internal_error", "internal error: " + (f == null ? "unknown"
        : PgErrors.sqlState(f) != null ? PgErrors.describe(f) : f.getMessage()));
  }

  /**
   * A value PostgreSQL refused: 409 for a unique or foreign-key violation (the state of other records), 400 for
   * any other constraint or data error; the message names the request field behind the column.
   */
  private static void rejected(RoutingContext ctx, Throwable f) {
    String state = PgErrors.sqlState(f);
    boolean conflict = "23505".equals(state) || "23503".equals(state);
    String column = PgErrors.column(f);
    String field = column == null ? null : FIELDS.getOrDefault(column, camel(column));
    String constraint = PgErrors.constraint(f);
    String what = conflict ? "conflicts with existing data" : "is not an accepted value";
    ApiError.send(ctx, conflict ? 409 : 400, conflict ? "conflict" : "invalid",
        (field == null ? "a value of the request " + what : field + ": the value " + what)
            + (constraint == null ? "" : " (constraint " + constraint + ")"));
  }

  private static String camel(String column) {
    StringBuilder sb = new StringBuilder();
    boolean up = false;
    for (char ch : column.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    return sb.toString();
  }
}
