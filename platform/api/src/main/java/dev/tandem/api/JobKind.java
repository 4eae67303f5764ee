package dev.tandem.api;

/** What a job does; decides which address the dispatcher sends it to. */
public enum JobKind {
  /** Incremental synchronization of changed rows. */
  SYNC(true),
  /** Synchronization of every row (the full-sync review). */
  FULL_SYNC(true),
  /** Couple records manually or by creating counterparts. */
  COUPLE(false),
  /** Remove couplings. */
  UNCOUPLE(false),
  /** Match-based coupling. */
  MATCH(false),
  /** A ledger job ({@link LedgerJobDefinition}): new ledger entries push a FlowField to coupled CRM records. */
  LEDGER(false);

  private final boolean sync;

  JobKind(boolean sync) {
    this.sync = sync;
  }

  /**
   * The event-bus address a job of this kind for {@code mapping} (a ledger job's name) is sent to.
   *
   * @param mapping the mapping name
   * @return {@code tandem.sync.<MAPPING>}, {@code tandem.coupling.<MAPPING>} or, for a ledger job,
   *     {@code tandem.ledger.<NAME>}
   */
  public String address(String mapping) {
    if (this == LEDGER) {
      return Addresses.ledger(mapping);
    }
    return sync ? Addresses.sync(mapping) : Addresses.coupling(mapping);
  }
}
