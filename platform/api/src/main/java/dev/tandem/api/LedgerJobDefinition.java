package dev.tandem.api;

import java.time.Duration;
import java.util.Objects;

/**
 * A job that is not a mapping: it follows an ERP ledger and pushes a FlowField of the records whose ledger got new
 * entries to a field of their coupled CRM records, as the reference system's Item Availability job does (new item
 * ledger entries: the items' Inventory to the products' quantity on hand). A FlowField is a sum over ledger
 * entries: posting never changes the record's SystemModifiedAt, so the mapping's incremental runs cannot carry it.
 *
 * <p>The runtime runs it: each run reads the entries after the last entry number it stored in PostgreSQL, in
 * pages; for a page it reads the FlowField of the records concerned, writes their coupled CRM records in one batch
 * and only then stores the page's last entry number, so a crash re-sends a page (the figures are absolute, so that
 * is harmless) and never skips one. Records newly coupled in the mapping get their figure once, on the next run.
 * It is scheduled like a mapping ({@link JobKind#LEDGER}, under its own name) and can be enabled and disabled.
 *
 * @param name the job's name, e.g. {@code ITEM-AVAILABILITY}; unique across plugins and mappings
 * @param mapping the mapping whose couplings lead from the ERP record to the CRM record (its ERP service holds the
 *     FlowField, its CRM entity set gets the value), e.g. {@code ITEM-PRODUCT}
 * @param ledger the ledger's web service, e.g. {@code ItemLedgerEntries}
 * @param entryNo the ledger's ascending entry number field, e.g. {@code Entry_No}
 * @param owner the ledger field naming the mapping's ERP record, e.g. {@code Item_No}
 * @param erpField the FlowField on the mapping's ERP service, e.g. {@code Inventory}
 * @param crmField the CRM field it goes to, e.g. {@code quantityonhand}
 * @param schedule default interval of the recurring job
 */
public record LedgerJobDefinition(String name, String mapping, String ledger, String entryNo, String owner,
    String erpField, String crmField, Duration schedule) {

  /** Validates. */
  public LedgerJobDefinition {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(mapping, "mapping");
    Objects.requireNonNull(ledger, "ledger");
    Objects.requireNonNull(entryNo, "entryNo");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(erpField, "erpField");
    Objects.requireNonNull(crmField, "crmField");
    Objects.requireNonNull(schedule, "schedule");
    if (schedule.isNegative() || schedule.isZero()) {
      throw new IllegalArgumentException("schedule must be positive");
    }
  }
}
