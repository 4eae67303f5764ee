package dev.tandem.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * <p>A job may push several FlowFields at once ({@link #withFields}, the Customer Statistics job: balance,
 * outstanding orders, sales…), follow documents besides the ledger whose changes move them ({@link #alsoFollowing}:
 * sales lines, read by their {@code SystemModifiedAt} and naming their record in a field), and give every coupled
 * record its figures again at an interval ({@link #refreshedEvery}) for figures that move with the date alone (an
 * amount becoming overdue) or with changes no feed shows (a deleted order).
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
 * @param moreFields further FlowFields pushed with the first: ERP field → CRM field, in order; empty by default
 * @param feeds documents followed besides the ledger; empty by default
 * @param refreshEvery how often every coupled record gets its figures again, or null (never; the default)
 */
public record LedgerJobDefinition(String name, String mapping, String ledger, String entryNo, String owner,
    String erpField, String crmField, Duration schedule, Map<String, String> moreFields, List<Feed> feeds,
    Duration refreshEvery) {

  /**
   * Documents whose changes move the job's figures without a ledger entry (order lines: outstanding orders). Rows
   * of {@code service} whose {@code SystemModifiedAt} moved name their record in {@code owner}; the runtime reads
   * them after the last stamp it stored, in pages, as it reads the ledger.
   *
   * @param service the ERP web service, e.g. {@code SalesOrderLine}
   * @param owner the field naming the mapping's ERP record, e.g. {@code Sell_to_Customer_No}
   */
  public record Feed(String service, String owner) {
    /** Validates. */
    public Feed {
      Objects.requireNonNull(service, "service");
      Objects.requireNonNull(owner, "owner");
    }
  }

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
    moreFields = moreFields == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(moreFields));
    if (moreFields.containsKey(erpField) || moreFields.containsValue(crmField)) {
      throw new IllegalArgumentException("moreFields repeats " + erpField + " or " + crmField);
    }
    feeds = feeds == null ? List.of() : List.copyOf(feeds);
    if (refreshEvery != null && (refreshEvery.isNegative() || refreshEvery.isZero())) {
      throw new IllegalArgumentException("refreshEvery must be positive");
    }
  }

  /**
   * One FlowField, the ledger only, no periodic refresh.
   *
   * @param name see the record
   * @param mapping see the record
   * @param ledger see the record
   * @param entryNo see the record
   * @param owner see the record
   * @param erpField see the record
   * @param crmField see the record
   * @param schedule see the record
   */
  public LedgerJobDefinition(String name, String mapping, String ledger, String entryNo, String owner,
      String erpField, String crmField, Duration schedule) {
    this(name, mapping, ledger, entryNo, owner, erpField, crmField, schedule, Map.of(), List.of(), null);
  }

  /**
   * @param more further ERP FlowField → CRM field pairs, in order
   * @return a copy pushing them with the first
   */
  public LedgerJobDefinition withFields(Map<String, String> more) {
    return new LedgerJobDefinition(name, mapping, ledger, entryNo, owner, erpField, crmField, schedule, more, feeds,
        refreshEvery);
  }

  /**
   * @param feed documents to follow besides the ledger
   * @return a copy following them too
   */
  public LedgerJobDefinition alsoFollowing(Feed feed) {
    List<Feed> all = new ArrayList<>(feeds);
    all.add(feed);
    return new LedgerJobDefinition(name, mapping, ledger, entryNo, owner, erpField, crmField, schedule, moreFields,
        all, refreshEvery);
  }

  /**
   * @param every how often every coupled record gets its figures again
   * @return a copy that does so
   */
  public LedgerJobDefinition refreshedEvery(Duration every) {
    return new LedgerJobDefinition(name, mapping, ledger, entryNo, owner, erpField, crmField, schedule, moreFields,
        feeds, every);
  }

  /** @return every ERP FlowField → CRM field the job pushes, the first one first */
  public Map<String, String> fields() {
    Map<String, String> all = new LinkedHashMap<>();
    all.put(erpField, crmField);
    all.putAll(moreFields);
    return Collections.unmodifiableMap(all);
  }
}
