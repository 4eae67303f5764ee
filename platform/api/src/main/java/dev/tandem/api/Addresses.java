package dev.tandem.api;

/** Event-bus addresses shared by the runtime and plugins. */
public final class Addresses {

  /** Prefix of the per-mapping sync addresses. */
  public static final String SYNC_PREFIX = "tandem.sync.";
  /** Prefix of the per-mapping coupling addresses. */
  public static final String COUPLING_PREFIX = "tandem.coupling.";
  /** Prefix of the runtime's published events (job started, progress, finished). */
  public static final String EVENTS_PREFIX = "tandem.events.";

  /**
   * Where the admin API asks for a CRM product's availability ({@code GET /api/v1/availability/{id}}): a plugin
   * verticle consumes it with a body {@code {"crmProductId"}} and replies with the figure, or fails the message
   * with 404 (not coupled) or 503 (the ERP cannot be asked) and a message that says so.
   */
  public static final String AVAILABILITY = "tandem.availability";

  /** Prefix of the ledger jobs' addresses. */
  public static final String LEDGER_PREFIX = "tandem.ledger.";

  private Addresses() {}

  /**
   * @param job a ledger job's name, e.g. {@code ITEM-AVAILABILITY}
   * @return the address its jobs are sent to
   */
  public static String ledger(String job) {
    return LEDGER_PREFIX + job;
  }

  /**
   * @param mapping mapping name, e.g. {@code CUSTOMER}
   * @return the address sync and full-sync jobs of the mapping are sent to
   */
  public static String sync(String mapping) {
    return SYNC_PREFIX + mapping;
  }

  /**
   * @param mapping mapping name
   * @return the address couple, uncouple and match jobs of the mapping are sent to
   */
  public static String coupling(String mapping) {
    return COUPLING_PREFIX + mapping;
  }
}
