package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.SqlClient;

/**
 * What a PostgreSQL failure means to its caller (a value or constraint it rejected, or an outage), and the readiness
 * round trip.
 */
public final class PgErrors {

  private PgErrors() {}

  /**
   * @param e a failure
   * @return whether PostgreSQL rejected the data of the statement (SQLSTATE class 22, data exception; 23,
   *     integrity constraint violation; 54, a value over a program limit) rather than being unavailable
   */
  public static boolean rejectedData(Throwable e) {
    String state = sqlState(e);
    return state != null && (state.startsWith("22") || state.startsWith("23") || state.startsWith("54"));
  }

  /** The message of the pool's own failure when no connection became free within its wait timeout. */
  private static final String POOL_WAIT_TIMEOUT = "Timeout waiting for connection";

  /**
   * Whether a failure says PostgreSQL cannot serve this node now, so the same request may succeed later: the pool
   * waited out its timeout for a free connection, PostgreSQL refused a new client (SQLSTATE 53300, too many
   * connections; 57P03, cannot connect now), shut down or lost the connection (57P01, 57P02; class 08, connection
   * exception), or the connection was closed or could not be opened. A statement PostgreSQL answered with another
   * error (a syntax error, a missing table) is not: that is a bug, and retrying it changes nothing.
   *
   * @param e a failure
   * @return whether it is an outage of PostgreSQL rather than a fault of the request or the code
   */
  public static boolean unavailable(Throwable e) {
    String state = sqlState(e);
    if (state != null) {
      return state.equals("53300") || state.startsWith("57P0") || state.startsWith("08");
    }
    // Netty's connect timeout is a ConnectException too.
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof io.vertx.sqlclient.ClosedConnectionException || t instanceof java.net.ConnectException
          || t instanceof io.vertx.core.VertxException && POOL_WAIT_TIMEOUT.equals(t.getMessage())) {
        return true;
      }
    }
    return false;
  }

  /**
   * @param e a failure
   * @return whether it is an integrity constraint violation (SQLSTATE class 23)
   */
  public static boolean constraintViolation(Throwable e) {
    String state = sqlState(e);
    return state != null && state.startsWith("23");
  }

  /**
   * @param e a failure
   * @return its SQLSTATE, or null when PostgreSQL did not answer with an error
   */
  public static String sqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PgException pg) {
        return pg.getSqlState();
      }
    }
    return null;
  }

  /**
   * @param e a failure
   * @return the PostgreSQL error with its detail and the violated constraint, for messages
   */
  public static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PgException pg) {
        StringBuilder sb = new StringBuilder(String.valueOf(pg.getErrorMessage()));
        if (pg.getDetail() != null) {
          sb.append(" (").append(pg.getDetail()).append(')');
        }
        sb.append(" [SQLSTATE ").append(pg.getSqlState()).append(']');
        return sb.toString();
      }
    }
    return String.valueOf(e.getMessage());
  }

  /**
   * @param e a failure
   * @return the violated constraint's name, or null
   */
  public static String constraint(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PgException pg) {
        return pg.getConstraint();
      }
    }
    return null;
  }

  /**
   * @param f a failure
   * @return the column behind a refusal: PostgreSQL names it, or the constraint does ({@code table_column_check});
   *     null when neither does
   */
  public static String column(Throwable f) {
    for (Throwable t = f; t != null; t = t.getCause()) {
      if (t instanceof PgException pg) {
        if (pg.getColumn() != null) {
          return pg.getColumn();
        }
        // A unique violation names its columns in the detail: Key (mapping)=(CUSTOMER) already exists.
        java.util.regex.Matcher key = pg.getDetail() == null ? null
            : java.util.regex.Pattern.compile("^Key \\((\\w+)\\)=").matcher(pg.getDetail());
        if (key != null && key.find()) {
          return key.group(1);
        }
        String c = pg.getConstraint();
        if (c != null && pg.getTable() != null && c.startsWith(pg.getTable() + "_")) {
          return c.substring(pg.getTable().length() + 1).replaceFirst("_(check|key|fkey|not_null)$", "");
        }
        return null;
      }
    }
    return null;
  }

  /**
   * The readiness probe's round trip.
   *
   * @param client the pool
   * @return done when PostgreSQL answered
   */
  public static Future<Void> ping(SqlClient client) {
    return client.query("SELECT 1").execute().mapEmpty();
  }
}
