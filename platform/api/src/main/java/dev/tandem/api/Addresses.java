package dev.tandem.api;

/**
 * Every event-bus address of Tandem, in one place: those plugins use (the job addresses, availability, the
 * published events) and the runtime's own request/reply addresses, which plugins should not consume.
 * Failures on any of them carry a {@link BusFailure} code; docs/architecture.md lists the messages.
 */
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

  /** Published: each job's end, with its outcome. */
  public static final String JOB_EVENTS = EVENTS_PREFIX + "jobs";
  /** Published: each page a full-synchronization job commits. */
  public static final String FULL_SYNC_EVENTS = EVENTS_PREFIX + "full-sync";
  /** Published: a sync task's progress ({@code TaskContext.progress}): job id, kind, mapping, counts, message. */
  public static final String PROGRESS_EVENTS = EVENTS_PREFIX + "progress";

  /** Runtime only: the full-synchronization review ({@code {"counts"}}), replied with its lines. */
  public static final String FULL_SYNC_REVIEW = "tandem.fullsync.review";
  /** Runtime only: the review's lines without endpoint counts. */
  public static final String FULL_SYNC_PROGRESS = "tandem.fullsync.progress";
  /** Runtime only: start a full synchronization (the start body), replied with the run. */
  public static final String FULL_SYNC_START = "tandem.fullsync.start";
  /** Runtime only, local: the dispatcher claims due jobs now. */
  public static final String DISPATCHER_WAKE = "tandem.internal.dispatcher.wake";
  /** Runtime only: a Business Central webhook notification, replied with what it accepted. */
  public static final String ERP_NOTIFICATIONS = "tandem.erp.notifications";
  /** Runtime only: prefix of the option-set mappings' option listings. */
  public static final String OPTION_SET_PREFIX = "tandem.optionset.";

  private Addresses() {}

  /**
   * @param job a ledger job's name, e.g. {@code ITEM-AVAILABILITY}
   * @return the address its jobs are sent to
   */
  public static String ledger(String job) {
    return LEDGER_PREFIX + job;
  }

  /**
   * @param mapping an option-set mapping's name
   * @return where its CRM option listing is asked for (runtime only)
   */
  public static String optionSet(String mapping) {
    return OPTION_SET_PREFIX + mapping;
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
